"""Linear probes: planted positives (a planner's own goal / path / logits activations), planted negatives (noise,
per-episode memorization), the closed-form ridge against NumPy, and bad input."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.detectors.outcomes import measure_episode_outcomes
from mesaopt.detectors.probes import (
    collect_probe_dataset,
    fit_probes,
    measure_probes,
    model_activations,
    ridge_fit_predict,
    rollout_observations,
)
from mesaopt.envs import Maze, misgeneralization_params
from mesaopt.envs.goal_latent_planners import GoalLatentPlanner, absolute_grid
from mesaopt.envs.planners import UniformPolicy
from mesaopt.models import MLPActorCritic

SIZE, HORIZON, N_EPISODES = 5, 20, 400


@pytest.fixture(scope="module")
def setting():
    env = Maze(SIZE, obs_format="egocentric")
    return env, misgeneralization_params(SIZE, 1)[1]


@pytest.fixture(scope="module")
def planner_data(setting):
    """Every activation of the planted planner along its own greedy rollouts, one dataset per layer."""
    env, shifted = setting
    planner = GoalLatentPlanner(SIZE, "egocentric")
    acts = model_activations(planner)
    collect = jax.jit(lambda k, layer: collect_probe_dataset(
        k, env, shifted, lambda o: planner(o)[0], acts, layer, n_episodes=N_EPISODES, horizon=HORIZON, greedy=True),
        static_argnums=1)
    return {layer: collect(jax.random.key(0), layer) for layer in ("hook_goal", "hook_path", "hook_logits")}


@pytest.fixture(scope="module")
def fit():
    return jax.jit(lambda k, data: fit_probes(k, data))


def test_goal_map_activation_decodes_the_absolute_goal(planner_data, fit):
    rep = fit(jax.random.key(1), planner_data["hook_goal"])
    assert rep.goal_accuracy >= 0.97 and rep.goal_chance <= 0.2
    per_cell = np.asarray(rep.goal_accuracy_per_cell)
    rooms = np.zeros((SIZE, SIZE), bool)
    rooms[::2, ::2] = True
    rooms[0, SIZE - 1] = False  # the proxy corner is never a goal on the shifted distribution
    assert not np.isnan(per_cell[rooms]).any() and per_cell[rooms].min() >= 0.9
    assert np.isnan(per_cell[0, SIZE - 1])


def test_path_activation_decodes_the_path_and_logits_the_action(planner_data, fit):
    path = fit(jax.random.key(1), planner_data["hook_path"])
    assert path.path_accuracy >= 0.99 and path.path_chance <= 0.9
    logits = fit(jax.random.key(1), planner_data["hook_logits"])
    assert logits.action_accuracy >= 0.99 and logits.action_chance <= 0.5
    assert logits.goal_accuracy < 0.5  # the next move alone does not say where the goal is


def test_random_features_score_at_chance(planner_data, fit):
    data = planner_data["hook_goal"]
    noise = jax.random.normal(jax.random.key(2), data.features.shape[:2] + (32,))
    rep = fit(jax.random.key(1), eqx.tree_at(lambda d: d.features, data, noise))
    assert abs(float(rep.goal_accuracy - rep.goal_chance)) <= 0.08
    assert float(rep.action_accuracy - rep.action_chance) <= 0.1
    assert float(rep.path_accuracy - rep.path_chance) <= 0.05


def test_split_is_by_episode_so_episode_identity_cannot_be_memorized(planner_data, fit):
    """Features constant within an episode and unique to it: a by-step split would decode the goal from them."""
    data = planner_data["hook_goal"]
    n, t, _ = data.features.shape
    per_episode = jnp.broadcast_to(jax.random.normal(jax.random.key(3), (n, 1, 512)), (n, t, 512))
    rep = fit(jax.random.key(1), eqx.tree_at(lambda d: d.features, data, per_episode))
    assert float(rep.goal_accuracy - rep.goal_chance) <= 0.08
    assert rep.n_train > 0 and rep.n_test > 0


def test_ridge_matches_numpy_closed_form():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 5)) * [1, 10, 0.1, 1, 3], rng.normal(size=(60, 2))
    w = (rng.random(60) < 0.7).astype(np.float64)
    tr = w > 0
    mean, std = x[tr].mean(0), x[tr].std(0) + 1e-6
    z = (x - mean) / std
    y_mean = y[tr].mean(0)
    coef = np.linalg.solve(z[tr].T @ z[tr] / tr.sum() + 0.1 * np.eye(5), z[tr].T @ (y[tr] - y_mean) / tr.sum())
    fit = jax.jit(ridge_fit_predict, static_argnums=3)
    got = fit(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), jnp.asarray(w, jnp.float32), 0.1)
    np.testing.assert_allclose(got, z @ coef + y_mean, rtol=1e-3, atol=1e-3)


def test_rollout_observations_rebuild_what_the_agent_saw(setting):
    env, shifted = setting
    planner = GoalLatentPlanner(SIZE, "egocentric")

    @jax.jit
    def rebuilt(key):
        out = measure_episode_outcomes(key, env, shifted, lambda o: planner(o)[0], n_episodes=3, horizon=6)
        grids = jax.vmap(jax.vmap(lambda o: absolute_grid(o, SIZE, "egocentric")))(rollout_observations(env, out))
        return out, grids

    out, grids = jax.tree_util.tree_map(np.asarray, rebuilt(jax.random.key(4)))
    for i in range(3):
        g = out.goal_pos[i]
        for t in range(6):
            r, c = out.positions[i, t]
            assert grids[i, t, 1, r, c] == 1 and grids[i, t, 1].sum() == 1
            assert grids[i, t, 2, g[0], g[1]] == 1 and grids[i, t, 2].sum() == 1
            assert np.array_equal(grids[i, t, 0] > 0.5, out.walls[i])


def test_measure_probes_vmaps_over_mlp_agents(setting):
    env, shifted = setting
    models = [MLPActorCritic(env.obs_shape, 4, width=16, key=k) for k in jax.random.split(jax.random.key(5), 2)]
    static = eqx.partition(models[0], eqx.is_array)[1]
    params = jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *[eqx.filter(m, eqx.is_array) for m in models])
    run = jax.jit(jax.vmap(lambda p: measure_probes(
        jax.random.key(6), env, shifted, eqx.combine(p, static), "actor.1.hook_post", n_episodes=16, horizon=8)))
    rep = run(params)
    assert rep.goal_accuracy.shape == (2,) and rep.goal_accuracy_per_cell.shape == (2, SIZE, SIZE)
    assert np.all((rep.goal_accuracy >= 0) & (rep.goal_accuracy <= 1)) and np.all(rep.n_test > 0)


def test_reference_rollouts_label_actions_with_the_models_greedy_choice(setting):
    """Rolled out by a uniform policy, the taken actions are noise; the label must be the probed model's choice."""
    env, shifted = setting
    planner = GoalLatentPlanner(SIZE, "egocentric")
    run = jax.jit(lambda k: measure_probes(k, env, shifted, planner, "hook_logits", n_episodes=64, horizon=HORIZON,
                                           rollout_policy=UniformPolicy()))
    rep = run(jax.random.key(7))
    assert rep.action_accuracy >= 0.99 and rep.action_chance <= 0.5


def test_bad_input_is_rejected(setting, planner_data):
    env, shifted = setting
    planner = GoalLatentPlanner(SIZE, "egocentric")
    with pytest.raises(ValueError, match="unknown layer 'hook_nope'; allowed"):
        measure_probes(jax.random.key(0), env, shifted, planner, "hook_nope", n_episodes=4, horizon=4)
    with pytest.raises(ValueError, match="test_fraction"):
        fit_probes(jax.random.key(0), planner_data["hook_goal"], test_fraction=1.0)
    with pytest.raises(ValueError, match="ridge"):
        fit_probes(jax.random.key(0), planner_data["hook_goal"], ridge=0.0)
