"""``conditions-diversity`` through the CLI and the driver: bad input is one line and writes nothing; the smoke
run stores every headline name aligned with the levels, and a pool of one maze is memorized, not generalized;
N* and the toy-model fit on planted curves."""

import json

import numpy as np
import pytest

from mesaopt.experiments.conditions_diversity.run import crossing_log2, n_star, toy_model_fit

HEADLINE = {"factor", "levels", "effective_n", "train_accuracy", "novel_accuracy", "extrapolation_accuracy",
            "thinking_gain", "train_accuracy_ci", "novel_accuracy_ci", "extrapolation_accuracy_ci",
            "thinking_gain_ci", "n_star", "n_star_ci", "n_star_per_seed", "n_star_threshold", "toy_model_fit",
            "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--pool-sizes", "4", "2"], "pool_sizes must be a non-empty, strictly increasing list of whole numbers >= 1"),
    (["--pool-sizes", "0", "2"], "pool_sizes must be a non-empty, strictly increasing list"),
    (["--setup.side", "5", "--pool-sizes", "1", "20000"], "pool_sizes may not exceed the 13,824 distinct mazes"),
    (["--n-seeds", "1"], "n_seeds must be a whole number >= 2"),
    (["--setup.extrapolation-side", "7"], "extrapolation_side must be larger than side (7)"),
    (["--setup.test-iterations", "5", "10"], "that include train_iterations (20)"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("conditions-diversity", args, needle)


def test_a_run_stores_every_headline_name_and_a_pool_of_one_is_memorized(smoke_run):
    h = json.loads((smoke_run("conditions-diversity").path / "report.json").read_text())["headline"]
    assert HEADLINE <= set(h) and h["levels"] == [1, "fresh"] and h["factor"] == "diversity"
    for name in ("train_accuracy", "novel_accuracy", "extrapolation_accuracy", "thinking_gain"):
        assert len(h[name]) == 2 and np.asarray(h[f"{name}_ci"]).shape == (2, 2)
    assert h["train_accuracy"][0] >= 0.9 and h["novel_accuracy"][0] <= 0.2  # learned the one maze, not mazes
    assert h["train_accuracy"][0] > h["train_accuracy"][-1]


def test_n_star_interpolates_in_log_n_and_the_toy_model_fits_a_rising_curve():
    assert crossing_log2(np.log2([1, 4, 16]), np.array([0.0, 0.2, 0.6]), 0.4) == pytest.approx(3.0)
    assert crossing_log2(np.log2([1, 4]), np.array([0.0, 0.1]), 0.4) == float("inf")
    novel = np.array([[0.0, 0.2, 0.6, 0.8], [0.0, 0.4, 0.8, 0.8]])  # halfway 0.4: log2 N = 3 and 2
    star = n_star([1, 4, 16, 64], novel)
    assert star["n_star"] == pytest.approx(2**2.5, abs=0.01)
    assert star["n_star_ci"][0] < star["n_star"] < star["n_star_ci"][1]
    assert n_star([1, 4], np.zeros((2, 2)))["n_star"] is None
    fit = toy_model_fit([1, 4, 16, 64, 256], np.array([0.0, 0.05, 0.3, 0.8, 0.9]))
    assert fit["fitted"] and fit["r2"] > 0.8
    assert not toy_model_fit([1, 4], np.array([0.5, 0.5]))["fitted"]
