"""``optimal-reward`` through the CLI and the driver: bad input is one line and writes nothing; a (smoke) run stores
every headline name aligned with its levels."""

import json

import pytest

from mesaopt.cli import main

HEADLINE = {"knob", "levels", "best_reward", "best_fitness", "best_fitness_ci", "fitness_reward_fitness",
            "fitness_reward_fitness_ci", "margin", "margin_ci", "values_quenching", "values_quenching_ci", "n_seeds",
            "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--knob", "hunger"], "knob must be one of lifetime, exploration, learning_rate"),
    (["--levels", "5000", "1000"], "levels must be strictly increasing"),
    (["--levels", "0", "100"], "lifetimes must be whole numbers >= 1"),
    (["--knob", "exploration", "--levels", "0.1", "1.5"], "exploration levels must be in [0, 1]"),
    (["--knob", "learning_rate", "--levels", "0", "0.5"], "learning_rate levels must be in (0, 1]"),
    (["--task.side", "1"], "side must be >= 2"),
    (["--learner.discount", "1"], "discount must be in [0, 1)"),
    (["--evolution.population-size", "1"], "population_size must be >= 2"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, tmp_path, capsys):
    code = main(["run", "optimal-reward", "--root", str(tmp_path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert not any(tmp_path.iterdir())


def test_a_run_stores_every_headline_name_per_level(smoke_run):
    outcome = smoke_run("optimal-reward")
    h = json.loads((outcome.path / "report.json").read_text())["headline"]
    assert HEADLINE <= set(h) and h["knob"] == "lifetime" and h["levels"] == [20, 40] and h["n_seeds"] == 2
    assert set(h["best_reward"]) == {"20", "40"}
    for reward in h["best_reward"].values():
        assert max(abs(v) for v in reward.values()) <= 1.0 + 1e-6  # shares of the largest magnitude
    for key in ("best_fitness", "fitness_reward_fitness", "margin"):
        assert all(low <= m <= high for m, (low, high) in zip(h[key], h[f"{key}_ci"]))
