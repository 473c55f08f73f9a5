"""``evolved-reward`` through the CLI and the driver: bad input is one line and writes nothing; a (smoke) run
stores every headline name aligned with its levels."""

import json

import pytest

from mesaopt.cli import main

HEADLINE = {"knob", "levels", "evolved_weights", "train_fitness", "train_fitness_ci", "train_fitness_fitness_reward",
            "train_fitness_fitness_reward_ci", "shifted_fitness", "shifted_fitness_ci",
            "shifted_fitness_fitness_reward", "shifted_fitness_fitness_reward_ci", "fitness_lost_under_shift",
            "fitness_lost_under_shift_ci", "achievable_train_fitness", "achievable_shifted_fitness",
            "behavioral_objective", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--knob", "hunger"], "knob must be one of delay, correlation, credit"),
    (["--knob", "credit", "--levels", "0", "1.5"], "credit must be between 0 and 1"),
    (["--credit", "-0.5"], "credit must be between 0 and 1"),
    (["--levels", "2", "1"], "levels must be strictly increasing"),
    (["--levels", "-1", "1"], "delays must be whole numbers from 0 to learner.max_delay (8)"),
    (["--levels", "0", "1.5"], "delays must be whole numbers"),
    (["--levels", "0", "9"], "delays must be whole numbers from 0 to learner.max_delay (8)"),
    (["--knob", "correlation", "--levels", "0.5", "1.5"], "correlations must be between -1 and 1"),
    (["--shifted-correlation", "-2"], "shifted_correlation must be between -1 and 1"),
    (["--evolution.population-size", "1"], "population_size must be >= 2"),
    (["--evolution.strategy", "open_es", "--evolution.population-size", "7"], "open_es needs an even"),
    (["--task.n-types", "1"], "n_types must be >= 2"),
    (["--learner.exploration", "2"], "exploration must be in [0, 1]"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, tmp_path, capsys):
    code = main(["run", "evolved-reward", "--root", str(tmp_path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert not any(tmp_path.iterdir())


def test_a_run_stores_every_headline_name_per_level(smoke_run):
    outcome = smoke_run("evolved-reward")
    report = json.loads((outcome.path / "report.json").read_text())
    h = report["headline"]
    assert HEADLINE <= set(h) and h["knob"] == "delay" and h["levels"] == [0, 1] and h["n_seeds"] == 2
    assert set(h["evolved_weights"]) == set(h["behavioral_objective"]) == {"0", "1"}
    for level in h["evolved_weights"].values():  # means over runs of shares w / (|w_s| + |w_n|)
        assert abs(level["sweetness"]) + abs(level["nutrition"]) <= 1.0 + 1e-4
    for key in ("train_fitness", "shifted_fitness", "fitness_lost_under_shift", "train_fitness_fitness_reward"):
        assert len(h[key]) == 2 and all(low <= m <= high for m, (low, high) in zip(h[key], h[f"{key}_ci"]))
    assert set(h["behavioral_objective"].values()) <= {"cue", "value", "none"}
