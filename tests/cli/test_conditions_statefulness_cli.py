"""``conditions-statefulness`` through the CLI and the driver: bad input is one line and writes nothing; the smoke
run stores every headline name aligned with the levels; the levels are the recurrent counts then the untied
controls (whose answer is one along the ladder: a thinking gain of 0 by construction), the narrow control the widest
with no more parameters than the recurrent thinker."""

import dataclasses
import json

import jax
import numpy as np
import pytest

from mesaopt.experiments.conditions_statefulness import SMOKE_CONFIG
from mesaopt.experiments.conditions_statefulness.run import (equal_parameter_width, parameter_count,
                                                             statefulness_levels)
from mesaopt.experiments.shared.thinker_conditions import (ladder_correctness, make_feedforward_trainer,
                                                           make_pool_trainer)
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch

HEADLINE = {"factor", "levels", "train_iterations", "weight_tied", "parameters", "train_accuracy", "novel_accuracy",
            "extrapolation_accuracy", "thinking_gain", "novel_accuracy_ci", "extrapolation_accuracy_ci",
            "thinking_gain_ci", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--iterations", "8", "4"], "iterations must be a non-empty, strictly increasing list of counts on the test"),
    (["--iterations", "3"], "iterations must be a non-empty, strictly increasing list"),
    (["--untied-depth", "5"], "untied_depth must be 0 or a count on the test ladder"),
    (["--n-seeds", "1"], "n_seeds must be a whole number >= 2"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("conditions-statefulness", args, needle)


def test_a_run_stores_every_headline_name_aligned_with_the_levels(smoke_run):
    h = json.loads((smoke_run("conditions-statefulness").path / "report.json").read_text())["headline"]
    assert HEADLINE <= set(h) and h["factor"] == "statefulness"
    assert h["levels"] == ["recurrent T 4"] and h["train_iterations"] == [4] and h["weight_tied"] == [True]
    assert np.asarray(h["novel_accuracy_ci"]).shape == (1, 2) and h["n_seeds"] == 2


def test_the_levels_are_the_recurrent_counts_then_the_two_untied_controls():
    cfg = dataclasses.replace(SMOKE_CONFIG, iterations=(2, 4), untied_depth=8)
    levels = statefulness_levels(cfg)
    narrow = equal_parameter_width(cfg)
    assert [lv.label for lv in levels] == ["recurrent T 2", "recurrent T 4", "untied depth 8",
                                           f"untied depth 8, width {narrow}"]
    assert [lv.train_iterations for lv in levels] == [2, 4, 8, 8]
    counts = [parameter_count(lv.trainer) for lv in levels]
    assert counts[2] > counts[0] == counts[1] >= counts[3]


def test_an_untied_network_reads_the_same_answer_at_every_count_of_the_ladder():
    model = make_feedforward_trainer(SMOKE_CONFIG.setup, 2).model_factory(jax.random.key(0))
    batch = sample_maze_batch(jax.random.key(1), MazePathTask(5), 4)
    rows = np.asarray(ladder_correctness(model, batch.images, batch.path, (2, 4, 8)))
    assert rows.shape == (3, 4) and np.all(rows == rows[:1])


def test_the_narrow_control_is_the_widest_with_no_more_parameters_than_the_thinker():
    setup, depth = SMOKE_CONFIG.setup, 2
    width = equal_parameter_width(dataclasses.replace(SMOKE_CONFIG, untied_depth=depth))
    target = parameter_count(make_pool_trainer(setup))
    assert parameter_count(make_feedforward_trainer(setup, depth, width)) <= target
    assert parameter_count(make_feedforward_trainer(setup, depth, width + 1)) > target
