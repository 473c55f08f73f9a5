"""``conditions-imitation`` through the CLI and the driver: bad input is one line and writes nothing; the smoke run
stores every headline name aligned with its levels, and the wall follower's targets hold more cells than the
planner's path; relabelling names the allowed targets."""

import json

import jax
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.thinker_conditions import ThinkerSetup, make_pool_trainer, relabel
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch

HEADLINE = {"factor", "levels", "targets", "target_cells", "train_accuracy", "novel_accuracy",
            "extrapolation_accuracy", "thinking_gain", "novel_accuracy_ci", "extrapolation_accuracy_ci",
            "thinking_gain_ci", "r2_path_length", "r2_path_length_ci", "r2_dead_end_filling",
            "r2_wall_follower_moves", "r2_networks", "algorithm_match", "algorithm_match_ci",
            "best_matching_algorithm", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--targets", "path", "random_walk"], "targets must be distinct names from path, wall_follower"),
    (["--targets", "path", "path"], "targets must be distinct names"),
    (["--n-seeds", "1"], "n_seeds must be a whole number >= 2"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("conditions-imitation", args, needle)


def test_a_run_stores_every_headline_name_aligned_with_its_levels(smoke_run):
    h = json.loads((smoke_run("conditions-imitation").path / "report.json").read_text())["headline"]
    assert HEADLINE <= set(h) and h["factor"] == "imitation" and h["targets"] == ["wall_follower"]
    assert h["levels"] == ["imitates the wall follower"] and np.asarray(h["r2_path_length_ci"]).shape == (1, 2)
    assert h["r2_networks"] == [0] and h["r2_path_length"] == [None]  # 20 steps solve no larger maze
    assert set(h["algorithm_match"]) == {"bfs_from_start", "bfs_from_goal", "bfs_from_both", "dead_end_filling"}
    assert all(0.0 <= v[0] <= 1.0 for v in h["algorithm_match"].values()) and len(h["best_matching_algorithm"]) == 1


def test_relabelling_swaps_the_path_for_the_wall_followers_cells_and_names_the_targets():
    batch = sample_maze_batch(jax.random.key(5), MazePathTask(7), 16)
    assert relabel(batch, "path") is batch
    walked = np.asarray(relabel(batch, "wall_follower").path)
    assert walked.sum() > np.asarray(batch.path).sum() and np.all(walked >= np.asarray(batch.path))
    with pytest.raises(MesaoptError, match="target must be one of path, wall_follower"):
        relabel(batch, "random_walk")
    with pytest.raises(MesaoptError, match="target must be one of path, wall_follower"):
        make_pool_trainer(ThinkerSetup(), target="random_walk")
