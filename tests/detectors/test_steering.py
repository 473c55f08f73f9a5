"""Retargeting by activation steering: a planner that plans to its goal activation follows the vector; one that
goes to the corner whatever its goal activation says does not; the per-agent-cell table is what makes an
egocentric goal code steerable; bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.detectors.steering import SteeredPolicy, compute_steering_vectors, measure_retargeting
from mesaopt.envs import Maze, misgeneralization_params
from mesaopt.envs.goal_latent_planners import GoalLatentPlanner
from mesaopt.models import MLPActorCritic

SIZE, HORIZON = 5, 20
KW = {"horizon": HORIZON, "n_reference": 4, "n_episodes": 24}


@pytest.fixture(scope="module")
def setting():
    return Maze(SIZE, obs_format="egocentric"), misgeneralization_params(SIZE, 1)[1]


@pytest.fixture(scope="module")
def retarget(setting):
    env, shifted = setting
    cache = {}

    def run(follows_latent=True, latent_frame="absolute", per_agent_cell=True):
        args = (follows_latent, latent_frame, per_agent_cell)
        if args not in cache:
            planner = GoalLatentPlanner(SIZE, "egocentric", follows_latent, latent_frame)
            fn = jax.jit(lambda k: measure_retargeting(k, env, shifted, planner, "hook_goal",
                                                       per_agent_cell=per_agent_cell, **KW))
            cache[args] = jax.tree_util.tree_map(np.asarray, fn(jax.random.key(0)))
        return cache[args]

    return run


def test_planner_following_its_goal_activation_is_retargeted(retarget):
    rep = retarget()
    targets = ~np.isnan(rep.success_steered)
    assert targets.sum() == 9 and targets[::2, ::2].all()  # default targets: the rooms
    assert rep.success_steered[targets].min() >= 0.95
    assert rep.mean_success_baseline <= 0.5  # goal hidden, no vector: a random walk
    assert rep.mean_gain >= 0.45 and rep.gain_ci_low > 0.3
    np.testing.assert_allclose(rep.gain[targets], (rep.success_steered - rep.success_baseline)[targets])
    assert rep.success_visible[targets].min() >= 0.95


def test_planner_ignoring_its_goal_activation_is_not_retargeted(retarget):
    rep = retarget(follows_latent=False)
    assert abs(rep.mean_gain) <= 0.05 and rep.gain_ci_low <= 0.0 <= rep.gain_ci_high
    assert rep.success_baseline[0, SIZE - 1] >= 0.95  # it still goes to the corner
    assert rep.mean_success_steered <= 0.6


def test_egocentric_goal_code_needs_the_per_agent_cell_table(retarget):
    table = retarget(latent_frame="egocentric")
    single = retarget(latent_frame="egocentric", per_agent_cell=False)
    assert table.mean_gain >= 0.45 and np.nanmin(table.success_steered) >= 0.95
    assert single.mean_gain <= 0.1


def test_vectors_are_the_goal_map_difference(setting):
    env, shifted = setting
    planner = GoalLatentPlanner(SIZE, "egocentric")
    targets = np.array([[0, 0], [2, 4]])
    vec = jax.jit(lambda k: compute_steering_vectors(k, env, shifted, planner, "hook_goal", targets=targets,
                                                     n_reference=3))(jax.random.key(1))
    assert vec.vectors.shape == (2, SIZE, SIZE, SIZE, SIZE)
    assert (np.asarray(vec.counts)[::2, ::2] == 3).all()
    one_hot = np.zeros((SIZE, SIZE))
    one_hot[2, 4] = 1.0
    np.testing.assert_array_equal(vec.vectors[1, 0, 0], one_hot)  # agent in a room, target (2, 4)
    np.testing.assert_array_equal(vec.vectors[1, 2, 4], 0.0)  # agent on the target: excluded


def test_steered_policy_hides_the_goal(setting):
    env, shifted = setting
    planner = GoalLatentPlanner(SIZE, "egocentric")
    hidden = SteeredPolicy(planner, jnp.zeros((SIZE, SIZE, SIZE, SIZE)), 1.0, "hook_goal", SIZE, "egocentric")

    @jax.jit
    def logits(key):
        obs, _ = env.reset(key, shifted)
        return hidden(obs), planner(obs)[0]

    steered, plain = logits(jax.random.key(2))
    assert np.ptp(np.asarray(steered)) == 0.0  # no goal anywhere: every move ties
    assert np.ptp(np.asarray(plain)) > 0.0


def test_mlp_agents_vmap_and_report_maps(setting):
    env, shifted = setting
    models = [MLPActorCritic(env.obs_shape, 4, width=16, key=k) for k in jax.random.split(jax.random.key(3), 2)]
    static = eqx.partition(models[0], eqx.is_array)[1]
    params = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *[eqx.filter(m, eqx.is_array) for m in models])
    mask = np.zeros((SIZE, SIZE), bool)
    mask[0, 0] = mask[4, 4] = True
    run = jax.jit(jax.vmap(lambda p: measure_retargeting(
        jax.random.key(4), env, shifted, eqx.combine(p, static), "actor.0.hook_post", target_cells=mask,
        horizon=6, n_reference=2, n_episodes=4)))
    rep = run(params)
    assert rep.success_steered.shape == (2, SIZE, SIZE)
    assert np.isnan(rep.success_steered[:, 2, 2]).all() and not np.isnan(rep.success_steered[:, 0, 0]).any()
    assert np.all(np.abs(rep.mean_gain) <= 1.0)


def test_bad_input_is_rejected(setting):
    env, shifted = setting
    planner = GoalLatentPlanner(SIZE, "egocentric")
    call = lambda **kw: measure_retargeting(jax.random.key(0), env, shifted, planner, **{"layer": "hook_goal", **KW, **kw})
    with pytest.raises(ValueError, match="unknown layer 'nope'; allowed"):
        call(layer="nope")
    wall = np.zeros((SIZE, SIZE), bool)
    wall[1, 1] = True  # never open in a perfect maze
    with pytest.raises(ValueError, match="target_cells"):
        call(target_cells=wall)
    with pytest.raises(ValueError, match="target_cells must be a boolean array of shape"):
        call(target_cells=np.ones((3, 3), bool))
    with pytest.raises(ValueError, match="n_episodes must be >= 1"):
        call(n_episodes=0)
