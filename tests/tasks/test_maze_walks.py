"""The left-hand wall follower on a hand-drawn T maze (its visited cells and moves worked out by hand), and on
random mazes: it always reaches the goal, its cells hold the whole path and only open cells."""

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.experiments.shared.thinker_conditions import relabel
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch
from mesaopt.tasks.maze_walks import walk_moves, wall_follower_cells

# A T: the corridor of row 2, and a branch north from (2, 2) to (0, 2). Start (2, 2), goal (0, 2).
T_OPEN = np.array([[0, 0, 1, 0, 0],
                   [0, 0, 1, 0, 0],
                   [1, 1, 1, 1, 1],
                   [0, 0, 0, 0, 0],
                   [0, 0, 0, 0, 0]], bool)


def t_maze() -> jnp.ndarray:
    image = np.zeros((5, 5, 3), np.float32)
    image[..., 0] = T_OPEN
    image[2, 2, 1] = image[0, 2, 2] = 1.0
    return jnp.asarray(image)


def test_on_the_t_maze_it_explores_the_west_arm_first_then_turns_north_to_the_goal():
    # heading north at the start, the left hand finds the west arm open: west to its end, back, then (heading east)
    # north is on its left: up the branch to the goal. The east arm is never entered.
    visited = np.asarray(wall_follower_cells(t_maze()))
    expected = np.zeros((5, 5), bool)
    for cell in ((2, 2), (2, 1), (2, 0), (1, 2), (0, 2)):
        expected[cell] = True
    np.testing.assert_array_equal(visited, expected)
    path = np.zeros((5, 5), bool)
    path[0:3, 2] = True
    assert walk_moves(visited[None], path[None])[0] == 6  # (2,1) (2,0) (2,1) (2,2) (1,2) (0,2)


def test_on_random_mazes_it_covers_the_path_and_only_open_cells():
    batch = sample_maze_batch(jax.random.key(3), MazePathTask(7), 16)
    visited = np.asarray(relabel(batch, "wall_follower").path)  # the compiled batch form the experiment uses
    path, open_cells = np.asarray(batch.path), np.asarray(batch.images[..., 0]) > 0.5
    assert np.all(visited >= path) and np.all(visited <= open_cells)
    assert np.any(visited.sum(axis=(1, 2)) > path.sum(axis=(1, 2)))  # it takes detours a planner does not
