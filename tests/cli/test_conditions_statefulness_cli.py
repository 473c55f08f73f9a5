"""``conditions-statefulness`` through the CLI and the driver: bad input is one line and writes nothing; the smoke
run stores every headline name aligned with the levels (recurrent T levels, then the untied controls, whose
thinking gain is 0 by construction); the narrow control has no more parameters than the recurrent thinker."""

import json

import numpy as np
import pytest

from mesaopt.experiments.conditions_statefulness import SMOKE_CONFIG
from mesaopt.experiments.conditions_statefulness.run import equal_parameter_width, parameter_count
from mesaopt.experiments.shared.thinker_conditions import make_feedforward_trainer, make_pool_trainer

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
    assert h["levels"] == ["recurrent T 1", "recurrent T 4", "untied depth 2", "untied depth 2, width 2"]
    assert h["train_iterations"] == [1, 4, 2, 2] and h["weight_tied"] == [True, True, False, False]
    assert h["thinking_gain"][2:] == [0.0, 0.0]  # a fixed-depth network cannot think longer
    assert np.asarray(h["novel_accuracy_ci"]).shape == (4, 2)
    assert h["parameters"][2] > h["parameters"][0] >= h["parameters"][3]


def test_the_narrow_control_is_the_widest_with_no_more_parameters_than_the_thinker():
    setup, depth = SMOKE_CONFIG.setup, SMOKE_CONFIG.untied_depth
    width = equal_parameter_width(SMOKE_CONFIG)
    target = parameter_count(make_pool_trainer(setup))
    assert parameter_count(make_feedforward_trainer(setup, depth, width)) <= target
    assert parameter_count(make_feedforward_trainer(setup, depth, width + 1)) > target
