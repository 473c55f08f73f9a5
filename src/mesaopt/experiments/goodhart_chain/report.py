"""The ``report.html`` of a ``goodhart-chain`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "Regressional Goodhart down a chain of optimizers. A candidate's true value V is normal; the first level "
    "scores candidates by a noisy proxy P_1 = V + e_1, the next by a noisy proxy of that, P_2 = P_1 + e_2, and so "
    "on: the selector at depth k sees only P_k. It picks the best of n candidates by its proxy (pressure log2 n "
    "bits) or, the RL analogue, the KL-regularized optimum pi ∝ exp(beta P_k / sd(P_k)). With Gaussian errors the "
    "closed form (dashed) says the true value bought per unit of pressure shrinks as sigma_V^2 / sd(P_k) with depth, "
    "but never turns down. With heavy-tailed errors (Student-t, the same variance) the highest proxy scores are "
    "mostly error: past a point more pressure buys more proxy and less true value (Catastrophic Goodhart). "
    "Intervals: 95 % t-intervals over independent trials."
)


def _band(mean, ci, i):
    ci = np.asarray(ci[i], float)
    return np.asarray(mean[i], float), ci[:, 0], ci[:, 1]


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per (family, depth): true value at the lowest, middle and highest pressure, and the
    peak."""
    h = report["headline"]
    bits = h["bits"]
    picks = sorted({1 if len(bits) > 1 else 0, len(bits) // 2, len(bits) - 1})
    rows = [["errors", "depth", *(f"true value @ {bits[j]} bits" for j in picks), "proxy @ max bits", "peak at"]]
    for family in h["families"]:
        for i, depth in enumerate(h["depths"]):
            tv, ci = h["true_value"][family][i], h["true_value_ci"][family][i]
            rows.append([family, str(depth), *(mean_with_ci(tv[j], ci[j]) for j in picks),
                         f"{h['proxy_value'][family][i][-1]:.2f}", f"{h['peak_bits'][family][i]} bits"])
    return rows


def _pressure_png(report: dict, family: str, key: str, ylabel: str) -> bytes:
    h = report["headline"]
    series = {f"depth {d}": _band(h[key][family], h[f"{key}_ci"][family], i) for i, d in enumerate(h["depths"])}
    if family == "gaussian":
        closed = h[f"closed_form_{key}"]
        series.update({f"depth {d}, closed form": closed[i] for i, d in enumerate(h["depths"])})
    fig = plot_curves(h["bits"], series, xlabel="pressure: log2 n (best of n)", ylabel=ylabel,
                      title=f"{family} errors: {ylabel} of the chosen candidate")
    return figure_png_bytes(fig)


def _depth_png(report: dict) -> bytes:
    h = report["headline"]
    last = len(h["bits"]) - 1
    series = {}
    for family in h["families"]:
        tv, ci = np.asarray(h["true_value"][family], float), np.asarray(h["true_value_ci"][family], float)
        series[f"{family}, {h['bits'][last]} bits"] = (tv[:, last], ci[:, last, 0], ci[:, last, 1])
    if "gaussian" in h["families"]:
        series["closed form (Gaussian)"] = np.asarray(h["closed_form_true_value"], float)[:, last]
    fig = plot_curves(h["depths"], series, xlabel="depth of the chain", ylabel="true value of the chosen",
                      title="Alignment decays down the chain")
    return figure_png_bytes(fig)


def _tilt_png(report: dict) -> bytes:
    h, cf = report["headline"], report["closed_form"]
    series = {}
    for family in h["families"]:
        for i, d in enumerate(h["depths"]):
            if i in (0, len(h["depths"]) - 1):
                series[f"{family}, depth {d}"] = _band(h["tilt_true_value"][family], h["tilt_true_value_ci"][family], i)
    if "gaussian" in h["families"]:
        series.update({f"closed form, depth {d}": cf["tilt_true_value"][i] for i, d in enumerate(h["depths"])
                       if i in (0, len(h["depths"]) - 1)})
    fig = plot_curves(h["betas"], series, xlabel="beta (KL-regularized optimum, proxy in standard deviations)",
                      ylabel="true value", title="The RL analogue: exp(beta P / sd) tilting")
    return figure_png_bytes(fig)


def _tilt_table(report: dict) -> list[list[str]]:
    h = report["headline"]
    rows = [["errors", "depth", *(f"beta {b:g}" for b in h["betas"])]]
    for family in h["families"]:
        for i, d in enumerate(h["depths"]):
            rows.append([family, str(d), *(f"{v:.2f} ({kl:.1f} bits)" for v, kl in
                                           zip(h["tilt_true_value"][family][i], h["tilt_kl_bits"][family][i]))])
    return rows


def write_goodhart_chain_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, cfg, t = report["headline"], report["config"], report["timings"]
    summary = [("chain", f"sigma_V {cfg['value_sd']:g}, each level's error sd {cfg['error_sd']:g}; Student-t df "
                         f"{cfg['heavy_tail_df']} for heavy tails"),
               ("trials", f"{h['n_trials']:,} per point, pools of {2 ** max(h['bits']):,} candidates"),
               ("wall time", f"{h['wall_seconds']:.0f} s ({t['candidates_per_second']:,} candidates/s)")]
    if "closed_form_max_abs_error" in h:
        summary.append(("closed form", f"largest |simulation - closed form| {h['closed_form_max_abs_error']:.3f} "
                                       f"(widest CI half-width {h['closed_form_max_ci_half_width']:.3f}); "
                                       f"{h['closed_form_points_within_ci']:.0%} of the intervals contain it; "
                                       f"largest error {h['closed_form_max_abs_z']:.2f} standard errors, "
                                       f"family-wise 95 % bound {h['closed_form_familywise_z']:.2f}"))
    images = [(f"{family}: {label}", _pressure_png(report, family, key, label)) for family in h["families"]
              for key, label in (("true_value", "true value"), ("proxy_value", "proxy value"))]
    sections = [
        Section("How much true value does optimizing a proxy of a proxy buy?", EXPLANATION,
                table=summary_table(report)),
        Section("Pressure", "True and proxy value of the chosen candidate against best-of-n pressure, one line per "
                "depth; dashed: the Gaussian closed form.", images=images),
        Section("Depth", "True value at the highest pressure against the depth of the chain.",
                images=[("depth", _depth_png(report))]),
        Section("The RL analogue", "The KL-regularized optimum over the same pools: true value (and its KL to the "
                "pool in bits) against beta.", images=[("tilt", _tilt_png(report))], table=_tilt_table(report)),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="goodhart-chain: proxies of proxies",
                             summary_rows=summary, sections=sections)
