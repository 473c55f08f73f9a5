"""``maze-search-misgen`` through the CLI and the driver: bad input, what a (smoke) run stores, and the card."""

import json

import numpy as np
import pytest

from mesaopt.cli import main

HEADLINE = {"conditions", "goal_rate_shifted", "goal_rate_shifted_ci", "proxy_rate_shifted", "proxy_rate_shifted_ci",
            "both_rate_shifted", "both_rate_shifted_ci", "other_rate_shifted", "other_rate_shifted_ci",
            "in_dist_accuracy", "in_dist_accuracy_ci", "test_side", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--goal-regions", "1", "4"], "goal_regions must each be between 1 and 3"),
    (["--goal-regions", "0"], "goal_regions must each be between 1 and 3"),
    (["--goal-regions", "2", "1"], "goal_regions must be strictly increasing"),
    (["--train-sides", "5", "9"], "goal_regions must each be between 1 and 2"),
    (["--train.microbatches", "10"], "must be divisible by train.microbatches x the number of train_sides"),
    (["--train-sides", "5", "8"], "odd integer >= 5, got 8"),
    (["--evidence-side", "7"], "evidence_side must be >= the training side 9, got 7"),
    (["--test-iterations", "10", "100"], "must include train_iterations"),
    (["--gradient-window", "31"], "gradient_window must be between 1 and train_iterations"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, tmp_path, capsys):
    code = main(["run", "maze-search-misgen", "--root", str(tmp_path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert not any(tmp_path.iterdir())


def test_a_run_stores_rates_per_condition_that_add_up(smoke_run):
    outcome = smoke_run("maze-search-misgen")
    report = json.loads((outcome.path / "report.json").read_text())
    h = report["headline"]
    assert HEADLINE <= set(h) and h["conditions"] == [1, 2] and h["n_seeds"] == 2
    total = np.sum([h[f"{t}_rate_shifted"] for t in ("goal", "proxy", "both", "other")], axis=0)
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    for key in ("goal_rate_shifted", "proxy_rate_shifted", "in_dist_accuracy"):
        for mean, (low, high) in zip(h[key], h[f"{key}_ci"]):
            assert 0.0 <= low <= mean <= high <= 1.0
    assert set(report["examples"]) == {"region_1", "region_2"}
    assert (outcome.path / "checkpoints" / "params.safetensors").exists()
