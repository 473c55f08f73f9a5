"""Failure kinds of a maze solver's final answer: planted answers of each kind, and the planted dead-end filler
right, erasing (goal blanked) and unfilled (stopped after one round)."""

import jax
import numpy as np

from mesaopt.detectors import search
from mesaopt.detectors.path_failures import FAILURE_KINDS, failure_kinds, failure_shares
from mesaopt.models.planted_thinkers import dead_end_filler
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch


def test_each_kind_from_missing_path_and_extra_cells():
    missing = np.array([0.0, 1.0, 0.6, 0.0, 0.3, 0.6, 0.5])
    extra = np.array([0, 0, 0, 7, 0, 4, 0])
    names = [FAILURE_KINDS[k] for k in failure_kinds(missing, extra)]
    assert names == ["right", "erased", "erased", "unfilled", "other", "other", "other"]
    assert failure_shares(failure_kinds(missing, extra)) == {"right": round(1 / 7, 4), "erased": round(2 / 7, 4),
                                                             "unfilled": round(1 / 7, 4), "other": round(3 / 7, 4)}


def test_the_planted_filler_is_right_erases_without_its_goal_and_leaves_dead_ends_when_stopped_early():
    mazes = sample_maze_batch(jax.random.key(11), MazePathTask(side=11), 24)
    filler = dead_end_filler(width=8)

    def shares(images, iterations):
        _, covered, extra = search.path_coverage(filler, images, mazes.path, iterations)
        return failure_shares(failure_kinds(1 - np.asarray(covered), np.asarray(extra)))

    assert shares(mazes.images, 50)["right"] == 1.0
    blank = shares(mazes.images.at[..., 2].set(0.0), 50)  # the filling eats the path from the goal end
    assert blank["erased"] == 1.0
    early = shares(mazes.images, 1)  # one round: the path and most dead ends still on
    assert early["unfilled"] == 1.0
