"""``goodhart-chain`` through the CLI and the driver: bad input is one line and writes nothing; the smoke run (small
but real) stores every headline name with [depth][bits] shapes, matches the Gaussian closed form and shows
heavy-tailed errors turning pressure against true value."""

import json

import numpy as np
import pytest


HEADLINE = {"depths", "bits", "families", "true_value", "true_value_ci", "proxy_value", "proxy_value_ci",
            "closed_form_true_value", "closed_form_proxy_value", "closed_form_max_abs_error",
            "closed_form_max_ci_half_width", "closed_form_points_within_ci", "closed_form_max_abs_z",
            "closed_form_familywise_z", "peak_bits", "betas", "tilt_true_value", "tilt_true_value_ci", "tilt_kl_bits",
            "objective_correlation", "closed_form_objective_correlation", "n_trials", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--depths", "0", "2"], "depths must be whole numbers >= 1"),
    (["--depths", "2", "1"], "depths must be strictly increasing"),
    (["--bits", "-1", "2"], "bits must be whole numbers from 0 to 20 (n = 2^bits >= 1 candidates)"),
    (["--bits", "0", "21"], "bits must be whole numbers from 0 to 20"),
    (["--betas", "-1"], "betas must be finite numbers >= 0"),
    (["--families", "cauchy"], "families must be distinct names from gaussian, heavy_tailed"),
    (["--value-sd", "0"], "value_sd must be a finite number > 0"),
    (["--error-sd", "-1"], "error_sd must be a finite number > 0"),
    (["--heavy-tail-df", "2"], "heavy_tail_df must be a whole number >= 3"),
    (["--n-trials", "0"], "n_trials must be ≥ 1"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("goodhart-chain", args, needle)


def test_a_run_stores_every_headline_name_indexed_by_depth_and_bits(smoke_run):
    h = json.loads((smoke_run("goodhart-chain").path / "report.json").read_text())["headline"]
    assert HEADLINE <= set(h) and h["depths"] == [1, 2] and h["bits"] == [0, 2, 4, 6, 8, 10]
    assert h["n_trials"] == 2000
    for family in ("gaussian", "heavy_tailed"):
        tv, ci = np.asarray(h["true_value"][family]), np.asarray(h["true_value_ci"][family])
        assert tv.shape == (2, 6) and ci.shape == (2, 6, 2) and np.all(ci[..., 0] <= tv) and np.all(tv <= ci[..., 1])
        # best of 1 is a random candidate: its proxy and value are the same draw at every depth
        assert tv[0, 0] == tv[1, 0]
        assert np.asarray(h["tilt_kl_bits"][family]).shape == (2, 2)
    assert np.asarray(h["closed_form_true_value"]).shape == (2, 6)


def test_the_gaussian_chain_matches_the_closed_form_and_heavy_tails_backfire(smoke_run):
    h = json.loads((smoke_run("goodhart-chain").path / "report.json").read_text())["headline"]
    sim, ci = np.asarray(h["true_value"]["gaussian"]), np.asarray(h["true_value_ci"]["gaussian"])
    exact = np.asarray(h["closed_form_true_value"])
    half = (ci[..., 1] - ci[..., 0]) / 2
    assert np.all(np.abs(sim - exact) <= 1.6 * half + 1e-3), (sim, exact)  # within ~3 standard errors
    assert h["closed_form_max_abs_z"] < h["closed_form_familywise_z"] == pytest.approx(2.86, abs=0.01)  # 12 points
    assert h["closed_form_max_abs_error"] == pytest.approx(float(np.max(np.abs(sim - exact))), abs=1e-4)
    assert np.all(np.diff(sim[0]) > 0) and np.all(sim[1] < sim[0] + 1e-9)  # more pressure helps; depth costs
    heavy, heavy_ci = np.asarray(h["true_value"]["heavy_tailed"]), np.asarray(h["true_value_ci"]["heavy_tailed"])
    proxy = np.asarray(h["proxy_value"]["heavy_tailed"])
    peak = int(np.argmax(heavy[0]))
    assert peak < len(h["bits"]) - 1 and heavy_ci[0, -1, 1] < heavy_ci[0, peak, 0]  # true value falls past its peak
    assert np.all(np.diff(proxy[0]) > 0)  # while the proxy keeps rising
    rho = h["objective_correlation"]["gaussian"]
    assert rho[0] > rho[1] and np.allclose(rho, h["closed_form_objective_correlation"], atol=0.02)
