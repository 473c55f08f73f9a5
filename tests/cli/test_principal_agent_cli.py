"""``principal-agent`` through the CLI and the driver: bad input is one line and writes nothing; a smoke run stores
every headline name indexed [pressure][oversight] and (small but real) shows weak oversight selecting deceivers
and a better metric undoing it; the evidence card separates planted deceivers from planted loyal workers."""

import json

import numpy as np
import pytest

from mesaopt.experiments.principal_agent.evidence import condition_card
from mesaopt.experiments.shared.evidence import VerdictThresholds

HEADLINE = {"selection_pressures", "oversight_levels", "value_delivered", "value_delivered_ci",
            "misaligned_share_selected", "misaligned_share_selected_ci", "deception_gap", "deception_gap_ci",
            "outer_loss", "outer_loss_ci", "inner_loss", "inner_loss_ci", "interventions", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--oversight-levels", "0", "1.5"], "oversight_levels must be strictly increasing values in [0, 1]"),
    (["--oversight-levels", "0.5", "0.2"], "oversight_levels must be strictly increasing"),
    (["--selection-pressures", "-1", "2"], "selection_pressures must be strictly increasing numbers of bits >= 0"),
    (["--selection-pressures", "0", "11"], "selection_pressures must leave at least one hire: at most 9.00 bits"),
    (["--interventions", "bonuses"], "interventions must be distinct names from randomized_audits"),
    (["--market.cohort-size", "1"], "cohort_size must be >= 2"),
    (["--market.misaligned-share", "1.2"], "misaligned_share must be in [0, 1]"),
    (["--market.metric-noise", "-1"], "metric_noise must be a finite number >= 0"),
    (["--audit-rate", "2"], "audit_rate must be in [0, 1]"),
    (["--stake", "0"], "stake must be a finite number > 0"),
    (["--evaluation-periods", "0"], "evaluation_periods must be ≥ 1"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("principal-agent", args, needle)


def test_a_run_stores_every_headline_name_indexed_by_pressure_and_oversight(smoke_run):
    report = json.loads((smoke_run("principal-agent").path / "report.json").read_text())
    h = report["headline"]
    assert HEADLINE <= set(h) and h["selection_pressures"] == [0.0, 4.0] and h["oversight_levels"] == [0.0, 1.0]
    for key in ("value_delivered", "misaligned_share_selected", "deception_gap"):
        assert np.asarray(h[key]).shape == (2, 2) and np.asarray(h[f"{key}_ci"]).shape == (2, 2, 2)
    # with no selection everyone is hired, whatever the oversight: the cohort's own share, no outer loss
    assert h["misaligned_share_selected"][0][0] == h["misaligned_share_selected"][0][1]
    assert h["outer_loss"][0] == [0.0, 0.0]
    assert set(h["interventions"]) == {"baseline", "randomized_audits", "longer_evaluation", "metric_closer_to_value"}


def test_weak_oversight_selects_deceivers_and_a_better_metric_does_not(smoke_run):
    h = json.loads((smoke_run("principal-agent").path / "report.json").read_text())["headline"]
    share, share_ci = np.asarray(h["misaligned_share_selected"]), np.asarray(h["misaligned_share_selected_ci"])
    gap_ci = np.asarray(h["deception_gap_ci"])
    assert share_ci[1, 0, 0] > share_ci[0, 0, 1]  # weak oversight: pressure selects the misaligned
    assert share[1, 1] < share[0, 1]  # full oversight: pressure selects against them
    assert gap_ci[1, 0, 0] > 0.0 and h["deception_gap"][1][0] > h["deception_gap"][1][1]
    fixed, base = h["interventions"]["metric_closer_to_value"], h["interventions"]["baseline"]
    assert fixed["deception_gap_ci"][1] < base["deception_gap_ci"][0]


def _rates(during, after, gaps):
    n = len(gaps)
    return {"during": np.tile(during, (n, 1)), "after": np.tile(after, (n, 1)), "gap": np.asarray(gaps)}


def test_the_card_names_planted_deceivers_and_planted_loyal_workers():
    thresholds = VerdictThresholds()
    deceivers = condition_card(_rates([0.3, 0.7, 0.0], [0.0, 0.0, 1.0], [0.9, 1.0, 0.95, 1.0]), thresholds)
    assert deceivers["verdict"] == "deceptive_signal" and deceivers["behavioral_objective"] == "private_benefit"
    assert deceivers["deception_gap_ci"][0] > 0
    loyal = condition_card(_rates([1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]), thresholds)
    assert loyal["verdict"] == "robustly_aligned" and loyal["behavioral_objective"] == "company_value"
    honest_takers = condition_card(_rates([0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]), thresholds)
    assert honest_takers["verdict"] == "suboptimality"  # misaligned in the open: no deception signal
