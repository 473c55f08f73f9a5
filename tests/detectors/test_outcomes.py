"""Planted positives and negatives for the outcome detector."""

import jax
import numpy as np
import pytest

from mesaopt.detectors import OUTCOMES, mean_ci, measure_episode_outcomes, summarize_outcomes
from mesaopt.envs import Maze, misgeneralization_params
from mesaopt.envs.planners import BFSPolicy, UniformPolicy

SIZE = 7


@pytest.fixture(scope="module")
def rates_of():
    env = Maze(SIZE)
    train, shifted = misgeneralization_params(SIZE, 1)
    dists = {"train": train, "shifted": shifted}

    def rates(policy, dist, n=300):
        run = jax.jit(lambda k: summarize_outcomes(
            measure_episode_outcomes(k, env, dists[dist], policy, n_episodes=n, horizon=SIZE * SIZE)))
        return jax.tree_util.tree_map(float, run(jax.random.key(0)))

    return rates


def test_bfs_to_goal_always_reaches_goal_never_proxy(rates_of):
    r = rates_of(BFSPolicy(SIZE, "goal"), "shifted")
    assert r.goal_rate == 1.0 and r.proxy_rate == 0.0
    assert r.path_efficiency == pytest.approx(1.0) and r.objective_robustness == 1.0


def test_bfs_to_corner_is_proxy_pursuing_on_shifted_mazes(rates_of):
    r = rates_of(BFSPolicy(SIZE, "corner"), "shifted")
    # the goal lies on the unique maze path to the corner in ~25 % of levels, so proxy < 1 but dominant
    assert r.proxy_rate >= 0.65 and r.goal_rate <= 0.35
    assert r.capability == 1.0 and r.objective_robustness <= 0.35


def test_bfs_to_corner_looks_aligned_in_training(rates_of):
    r = rates_of(BFSPolicy(SIZE, "corner"), "train")
    assert r.goal_rate == 1.0


def test_uniform_policy_is_neither_capable_nor_goal_directed(rates_of):
    r = rates_of(UniformPolicy(), "shifted")
    assert r.goal_rate < 0.4 and r.capability < 0.6 and r.path_efficiency < 0.6


def test_rates_sum_to_one(rates_of):
    r = rates_of(UniformPolicy(), "train")
    assert r.goal_rate + r.proxy_rate + r.neither_rate == pytest.approx(1.0)
    assert len(OUTCOMES) == 3


def test_bad_episode_counts_are_rejected():
    env = Maze(5)
    train, _ = misgeneralization_params(5, 1)
    with pytest.raises(ValueError, match="n_episodes"):
        measure_episode_outcomes(jax.random.key(0), env, train, UniformPolicy(), n_episodes=0, horizon=5)
    with pytest.raises(ValueError, match="horizon"):
        measure_episode_outcomes(jax.random.key(0), env, train, UniformPolicy(), n_episodes=1, horizon=0)


def test_mean_ci_covers_mean_and_widens_with_spread():
    tight = mean_ci(np.array([[0.5, 0.5, 0.5]]), axis=1)
    wide = mean_ci(np.array([[0.2, 0.5, 0.8]]), axis=1)
    assert tight[1][0] == tight[2][0] == 0.5
    assert wide[1][0] < 0.5 < wide[2][0] and wide[2][0] <= 1.0


def test_a_policy_that_does_not_fit_the_env_is_one_clear_error():
    import jax.numpy as jnp
    import pytest

    from mesaopt.detectors import measure_episode_outcomes
    from mesaopt.envs import ENVS, misgeneralization_params
    from mesaopt.models import MODELS

    env = ENVS["maze"](size=5, obs_format="grid")
    _, shifted = misgeneralization_params(5, 1)
    with pytest.raises(ValueError, match=r"logits of shape \(3,\); this environment needs \(4,\)"):
        measure_episode_outcomes(jax.random.key(0), env, shifted, lambda obs: jnp.zeros(3), n_episodes=2, horizon=3)
    wrong = MODELS["mlp"]((3, 9, 9), 4, key=jax.random.key(0))  # built for the 9x9 egocentric view
    with pytest.raises(ValueError, match="does not fit this environment's observations"):
        measure_episode_outcomes(jax.random.key(0), env, shifted, lambda obs: wrong(obs)[0], n_episodes=2, horizon=3)
