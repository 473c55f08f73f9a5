"""The self-contained ``report.html`` of an ``icl-regression`` run, built from its ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.reports.html import Section, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "A GPT-2-style transformer is trained on prompts of in-context linear regression (a fresh task w ~ N(0, I) "
    "per prompt) and predicts every label from the examples before it. The curves show the squared error "
    "divided by d against the number k of in-context examples, for the transformer (mean over seeds, band = "
    "range over seeds) and for reference learners on the same prompts. If the transformer has learned a regression "
    "algorithm it tracks least squares (exact once k ≥ d without noise), not averaging or nearest neighbours."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per test distribution: mean error / d over k ≥ d per learner."""
    learners = list(report["errors"]["in_distribution"])
    rows = [["distribution (error/d, k ≥ d)", *learners]]
    for dist, errors in report["errors"].items():
        rows.append([dist, *(f"{errors[name]['k_ge_d']['mean']:.3f}" for name in learners)])
    return rows


def _curves_png(name: str, errors: dict, d: int) -> bytes:
    ks = np.arange(len(errors["transformer"]["curve"]))
    series = {}
    for learner, stats in errors.items():
        if "curve_low" in stats:
            series[learner] = (stats["curve"], stats["curve_low"], stats["curve_high"])
        else:
            series[learner] = stats["curve"]
    fig = plot_curves(ks, series, xlabel="in-context examples k", ylabel="squared error / d", logy=True,
                      title=name.replace("_", " "), vlines={"k = d": d})
    return figure_png_bytes(fig)


def _probe_png(report: dict) -> bytes:
    probe = report["probe"]
    series = {"LS weights w (last context token)": np.asarray(probe["r2_weights"]).mean(axis=1),
              "LS prediction w·x_q (query token)": np.asarray(probe["r2_prediction"]).mean(axis=1)}
    fig = plot_curves(np.arange(len(probe["layers"])), series, xlabel="layer (0 = embedding, i = after block i−1)",
                      ylabel="held-out R² (mean over seeds)", title="What can a linear probe read from the residual stream?")
    return figure_png_bytes(fig)


def _loss_png(report: dict) -> bytes:
    curves = report["learning_curves"]
    loss = np.asarray(curves["loss"])
    fig = plot_curves(curves["step"], {f"seed {i}": loss[i] for i in range(len(loss))}, xlabel="training step",
                      ylabel="loss (error / d, all positions)", logy=True, title="Training loss")
    return figure_png_bytes(fig)


def write_icl_regression_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, t = report["headline"], report["timings"]
    d = h["d"]
    summary = [("transformers", f"{h['n_seeds']} seeds, d = {d}"),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"train {t['train_seconds']:.0f} s, {t['train_steps_per_second']:,} steps/s)")]
    ood = [(name, _curves_png(name, errors, d)) for name, errors in report["errors"].items()
           if name != "in_distribution"]
    probe = report["probe"]
    probe_rows = [["layer", "R² for w (per seed)", "R² for w·x_q (per seed)"]] + [
        [layer, ", ".join(f"{v:.3f}" for v in rw), ", ".join(f"{v:.3f}" for v in rp)]
        for layer, rw, rp in zip(probe["layers"], probe["r2_weights"], probe["r2_prediction"])]
    sections = [
        Section("Error vs number of in-context examples", EXPLANATION,
                images=[("in distribution", _curves_png("in distribution", report["errors"]["in_distribution"], d))],
                table=summary_table(report)),
        Section("Out of distribution", "The same models and learners on shifted prompts: inputs scaled ×2, skewed "
                "input covariance, label noise, context points in one orthant with the query anywhere.", images=ood),
        Section("Probing for the least-squares solution", "Ridge-regression probes (held-out R²) from the residual "
                "stream after each layer: to the least-squares weight vector of the context, at the last context "
                "token, and to the least-squares prediction for the query, at the query token. A model that forms "
                "w explicitly scores high on the first; one that computes the answer without an explicit w only on "
                "the second. The embedding sees one token, so it is the floor.", images=[("probe", _probe_png(report))],
                table=probe_rows),
        Section("Training", "", images=[("training loss", _loss_png(report))]),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="icl-regression: transformers vs reference learners",
                             summary_rows=summary, sections=sections)
