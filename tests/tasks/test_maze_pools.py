"""Pools of maze problems: the distinct-problem count (matrix-tree theorem) against hand counts, and pools drawn
from their index keys (one maze repeats; a fresh pool does not)."""

import jax
import numpy as np

from mesaopt.tasks.maze_paths import MazePathTask, distinct_problems, sample_corner_mazes
from mesaopt.tasks.maze_paths import sample_pool_batch as eager_pool_batch

sample_pool_batch = jax.jit(eager_pool_batch, static_argnums=(3, 4))


def test_distinct_problems_counts_spanning_trees_times_start_goal_pairs():
    assert distinct_problems(5) == 192 * 9 * 8  # the 3x3 grid graph has 192 spanning trees
    assert distinct_problems(7) == 100_352 * 16 * 15


def test_a_pool_of_one_repeats_its_maze_and_a_fresh_pool_does_not():
    pool_key, task = jax.random.key(1), MazePathTask(7)
    one = sample_pool_batch(pool_key, 1, jax.random.key(2), task, 8)
    assert np.all(np.asarray(one.images) == np.asarray(one.images[:1]))
    again = sample_pool_batch(pool_key, 1, jax.random.key(3), task, 1)
    assert np.array_equal(np.asarray(again.images[0]), np.asarray(one.images[0]))  # the pool is the key's
    fresh = np.asarray(sample_pool_batch(pool_key, 2**31 - 1, jax.random.key(2), task, 8).images)
    assert len({f.tobytes() for f in fresh}) == 8


def test_corner_mazes_start_bottom_left_and_put_the_goal_top_right_or_elsewhere():
    open_cells, start, goal = sample_corner_mazes(jax.random.key(0), 7, 16)
    assert np.all(np.asarray(start) == [6, 0]) and np.all(np.asarray(goal) == [0, 6])
    _, _, moved = sample_corner_mazes(jax.random.key(0), 7, 64, shifted=True)
    moved = np.asarray(moved)
    assert not np.any(np.all(moved == [0, 6], axis=1)) and not np.any(np.all(moved == [6, 0], axis=1))
    assert np.all(moved % 2 == 0) and np.asarray(open_cells)[:, ::2, ::2].all()
