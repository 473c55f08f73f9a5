"""``conditions``, the one page of RLO §2: bad input is one line and writes nothing; the verdict of a comparison
follows its intervals (held, contradicted, unclear: planted cases); the page reuses the factors' stored runs and
sets a prediction beside a measurement for each factor it can compare."""

import json

import pytest

from mesaopt.experiments.conditions.config import FACTORS
from mesaopt.experiments.conditions.directions import COMPARISONS, compare


@pytest.mark.parametrize("args, needle", [
    (["--factors", "diversity", "size"], "factors must be distinct names from diversity, statefulness"),
    (["--scale", "huge"], "scale must be one of smoke, default, full"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("conditions", args, needle)


@pytest.mark.parametrize("low, high, predicted, verdict, measured", [
    ((0.1, [0.0, 0.2]), (0.8, [0.7, 0.9]), 1, "held", "up"),
    ((0.1, [0.0, 0.2]), (0.8, [0.7, 0.9]), -1, "contradicted", "up"),
    ((0.8, [0.7, 0.9]), (0.1, [0.0, 0.2]), -1, "held", "down"),
    ((0.4, [0.1, 0.7]), (0.6, [0.3, 0.9]), 1, "unclear", "no clear change"),
])
def test_a_verdict_follows_the_intervals(low, high, predicted, verdict, measured):
    c = compare("diversity", "novel_accuracy", ("1", "fresh"), low, high, predicted)
    assert c["verdict"] == verdict and c["measured"] == measured


def test_imitation_compares_the_wall_follower_with_the_planner():
    h = {"levels": ["imitates the BFS planner", "imitates the wall follower"], "targets": ["path", "wall_follower"],
         "extrapolation_accuracy": [0.7, 0.1], "extrapolation_accuracy_ci": [[0.6, 0.8], [0.0, 0.2]],
         "thinking_gain": [0.2, 0.2], "thinking_gain_ci": [[0.1, 0.3], [0.1, 0.3]]}
    rows = COMPARISONS["imitation"](h)
    assert [(r["from"], r["to"], r["verdict"]) for r in rows] == [
        ("imitates the wall follower", "imitates the BFS planner", "held"),
        ("imitates the wall follower", "imitates the BFS planner", "unclear")]


def test_the_page_reuses_every_factors_stored_run_and_compares_them(smoke_run):
    report = json.loads((smoke_run("conditions").path / "report.json").read_text())
    h = report["headline"]
    assert h["factors"] == list(FACTORS) and all(report["factors"][f]["reused"] for f in FACTORS)
    assert {c["factor"] for c in h["comparisons"]} >= {"diversity", "hardcoded"}
    assert h["held"] + h["contradicted"] + h["unclear"] == len(h["comparisons"])
    assert "RLO" in (smoke_run("conditions").path / "report.html").read_text()


def test_the_end_of_run_table_prints(smoke_run):
    from mesaopt import shell
    from mesaopt.experiments.conditions import EXPERIMENT

    outcome = smoke_run("conditions")
    with shell.console.capture() as captured:
        shell._print_summary(EXPERIMENT, json.loads((outcome.path / "report.json").read_text()), outcome.path)
    out = captured.get()
    assert "each row's own run" in out and "verdict" in out
