"""``conditions-compression`` through the CLI and the driver: bad input is one line and writes nothing; the smoke
run (small but real) stores every headline name with [K][lam] shapes; description length selects general
programs that generalize, and a run-time price selects lookups that do not."""

import json

import numpy as np
import pytest

from mesaopt.experiments.conditions_compression import ConditionsCompressionConfig
from mesaopt.experiments.conditions_compression.gradient_arm import gradient_headline, gradient_levels

HEADLINE = {"factor", "arms", "program_k", "program_lambda", "program_class", "algorithm_share", "program_bits",
            "program_test_success", "program_test_success_ci", "program_shifted_success",
            "program_shifted_success_ci", "program_target_feature", "goal_target_share", "goal_target_share_ci",
            "lookup_wins_from_lambda", "lookup_switch_lambda", "route_budget_hits", "move_cap", "program_n_seeds",
            "levels", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--ks", "0", "2"], "ks must lie between 1 and 8 training mazes"),
    (["--ks", "4", "2"], "ks must be a non-empty, strictly increasing list of whole numbers"),
    (["--lambdas", "-1", "2"], "lambdas must be >= 0"),
    (["--lambdas", "2", "1"], "lambdas must be a non-empty, strictly increasing list"),
    (["--side", "8"], "side must be an odd whole number from 5 to 13"),
    (["--n-seeds", "1"], "n_seeds must be a whole number >= 2"),
    (["--move-cap", "0"], "move_cap must be none or a whole number >= 1"),
    (["--extra-programs", "search_to(food)"], "does not parse; the forms are route("),
    (["--weight-decays", "0.3", "0.1"], "weight_decays must be a non-empty, strictly increasing list"),
    (["--gd-seeds", "1"], "gd_seeds must be a whole number >= 2"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("conditions-compression", args, needle)


def test_a_run_stores_every_headline_name_indexed_by_k_and_lambda(smoke_run):
    report = json.loads((smoke_run("conditions-compression").path / "report.json").read_text())
    h = report["headline"]
    assert HEADLINE <= set(h) and h["factor"] == "compression" and h["program_k"] == [1, 2, 4]
    shape = (len(h["program_k"]), len(h["program_lambda"]))
    for name in ("program_class", "algorithm_share", "program_test_success", "program_target_feature"):
        assert np.asarray(h[name]).shape == shape, name
    ci = np.asarray(h["program_test_success_ci"])
    assert ci.shape == (*shape, 2) and np.all(ci[..., 0] <= np.asarray(h["program_test_success"]) + 1e-9)
    assert len(report["records"]) == h["program_n_seeds"] == 3 and h["arms"] == ["program_search"]


def test_the_gradient_arm_has_a_level_per_weight_decay_then_time():
    cfg = ConditionsCompressionConfig(weight_decays=(0.0, 1.0), time_pressure=True, gd_seeds=3)
    levels = gradient_levels(cfg)
    assert [lv.label for lv in levels] == cfg.gd_levels == ["weight decay 0", "weight decay 1", "time"]
    assert [lv.trainer.cfg.weight_decay for lv in levels] == [0.0, 1.0, 0.0]
    per_seed = {name: [[0.5, 0.7, 0.6]] * 3 for name in
                ("train_accuracy", "novel_accuracy", "extrapolation_accuracy", "thinking_gain")}
    h = gradient_headline(cfg, {"per_seed": per_seed})
    assert h["levels"] == cfg.gd_levels and h["novel_accuracy"] == [0.6] * 3 and h["n_seeds"] == 3
    assert h["novel_accuracy_ci"][0][0] < 0.6 < h["novel_accuracy_ci"][0][1]


def test_description_length_selects_general_programs_and_a_time_price_selects_lookups(smoke_run):
    h = json.loads((smoke_run("conditions-compression").path / "report.json").read_text())["headline"]
    success = np.asarray(h["program_test_success"])
    share = np.asarray(h["algorithm_share"])
    assert np.all(share[:, 0] == 1.0)  # at lam = 0 every seed's program is an algorithm
    assert success[-1, 0] > 0.85 and success[-1, 0] >= success[0, 0]  # more training mazes: more general
    assert share[1:, -1].min() < 1.0  # the highest step price makes some seeds memorize routes ...
    assert success[1:, -1].mean() < success[1:, 0].mean()  # ... which solve fewer fresh mazes
