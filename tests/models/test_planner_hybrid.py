"""The planner hybrid: with a planted map on the goal its built-in planner marks exactly the start-goal path once it
has run enough rounds (and not before: its thinking gain is the planner's); a map on the start marks no path; the
target mass is a probability; the learned map gets gradients through the planner."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.experiments.maze_search.train import path_loss
from mesaopt.models.planner_hybrid import PlannerHybrid
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch


def planted(channel: int, gain: float = 20.0) -> PlannerHybrid:
    """A one-layer hybrid whose reward logit is ``gain`` on the cells marked in image ``channel``."""
    model = PlannerHybrid(3, depth=1, key=jax.random.key(0))
    kernel = jnp.zeros((3, 3, 3, 1)).at[1, 1, channel, 0].set(gain)
    return eqx.tree_at(lambda m: m.encoder, model, ((kernel, jnp.zeros(1)),))


def exact(model, batch, rounds: int) -> float:
    pred = jnp.argmax(model(batch.images, rounds), axis=-1) == 1
    return float(jnp.all(pred == batch.path, axis=(-2, -1)).mean())


BATCH = sample_maze_batch(jax.random.key(1), MazePathTask(9), 48)


def test_a_map_on_the_goal_marks_the_exact_path_once_the_planner_has_run_long_enough():
    goal_map = planted(channel=2)
    assert exact(goal_map, BATCH, 80) == 1.0
    assert exact(goal_map, BATCH, 4) < 0.2  # the gain is the planner's rounds


def test_a_map_on_the_start_marks_no_path():
    assert exact(planted(channel=1), BATCH, 80) == 0.0


def test_the_target_mass_is_a_probability_and_all_of_it_flows_to_the_start():
    uniform = planted(channel=0, gain=0.0)
    state = uniform.think(BATCH.images, 80)
    mass = np.asarray(state[..., 2])
    assert mass.min() >= 0.0 and mass.max() <= 1.0 + 1e-5
    at_start = (mass * np.asarray(BATCH.images[..., 1])).sum(axis=(-2, -1))
    np.testing.assert_allclose(at_start, 1.0, atol=1e-4)


def test_the_learned_map_gets_gradients_through_the_planner():
    model = PlannerHybrid(3, depth=2, width=4, key=jax.random.key(2))
    batch = sample_maze_batch(jax.random.key(2), MazePathTask(5), 8)
    grads = eqx.filter_jit(eqx.filter_grad(lambda m: path_loss(m(batch.images, 12), batch.path)))(model)
    assert all(float(jnp.abs(g).sum()) > 0 for g in jax.tree_util.tree_leaves(grads)[::2])  # every kernel
