"""Candidate search algorithms on mazes: dead-end filling and BFS wavefronts, per round."""

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.tasks.maze_algorithms import (candidate_rounds, candidate_states, dead_end_fill_rounds,
                                           dead_end_fill_states, dead_end_rounds)
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch


def _image(rows: list[str]) -> jnp.ndarray:
    """'#' wall, '.' open, 'S' start, 'G' goal."""
    grid = np.array([list(r) for r in rows])
    return jnp.asarray(np.stack([grid != "#", grid == "S", grid == "G"], axis=-1).astype(np.float32))


CORRIDOR_WITH_BRANCH = ["S...G",
                        "#.###",
                        "#.###",
                        "#.###",
                        "#####"]


def test_dead_end_filling_fills_the_branch_one_cell_per_round():
    image = _image(CORRIDOR_WITH_BRANCH)
    states = np.asarray(dead_end_fill_states(image, 5))
    assert states[0].sum() == 1 and states[0][3, 1]  # only the branch's tip in round 1
    assert states[2].sum() == 3 and not states[2][0, 1]  # the junction stays open (two open neighbours on the path)
    assert int(dead_end_rounds(image)) == 3
    open_cells = np.asarray(image[..., 0] > 0.5)
    assert (open_cells & ~states[-1]).sum() == 5  # the corridor: start, 3 cells, goal


def test_fill_rounds_name_the_round_each_cell_is_filled_in():
    rounds = np.asarray(dead_end_fill_rounds(_image(CORRIDOR_WITH_BRANCH)))
    expected = np.zeros((5, 5), int)
    expected[3, 1], expected[2, 1], expected[1, 1] = 1, 2, 3
    np.testing.assert_array_equal(rounds, expected)
    batch = sample_maze_batch(jax.random.key(5), MazePathTask(side=11), 8)
    states = np.asarray(jax.vmap(lambda im: dead_end_fill_states(im, 80))(batch.images))  # b r h w
    first = np.where(states.any(1), states.argmax(1) + 1, 0)
    np.testing.assert_array_equal(np.asarray(jax.vmap(dead_end_fill_rounds)(batch.images)), first)


def test_fixed_point_of_dead_end_filling_is_the_path_and_a_wrong_goal_is_not():
    batch = sample_maze_batch(jax.random.key(0), MazePathTask(side=11), 16)
    states = jax.vmap(lambda im: dead_end_fill_states(im, 80)[-1])(batch.images)
    left = (batch.images[..., 0] > 0.5) & ~states
    assert bool(jnp.all(left == batch.path))
    moved = batch.images.at[..., 2].set(jnp.roll(batch.images[..., 2], 2, axis=1))  # goal marker shifted
    left_moved = (moved[..., 0] > 0.5) & ~jax.vmap(lambda im: dead_end_fill_states(im, 80)[-1])(moved)
    assert not bool(jnp.all(left_moved == batch.path))


def test_candidate_rounds_and_states_agree():
    image = _image(CORRIDOR_WITH_BRANCH)
    rounds = {k: int(v) for k, v in candidate_rounds(image).items()}
    assert rounds == {"path_length": 4, "start_eccentricity": 4, "dead_end_filling": 3}
    states = candidate_states(image, 4)
    assert np.asarray(states["bfs_from_start"][3])[0, 4]  # the goal is reached in round 4
    assert not np.asarray(states["bfs_from_start"][2])[0, 4]
    both = np.asarray(states["bfs_from_both"])
    assert both[1].sum() == np.asarray(states["bfs_from_start"][1] | states["bfs_from_goal"][1]).sum()
    assert np.all(np.diff(both.sum(axis=(1, 2))) >= 0)  # wavefronts only grow
