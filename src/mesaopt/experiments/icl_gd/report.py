"""The self-contained ``report.html`` of an ``icl-gd`` run, built from its ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.reports.html import Section, write_html_report
from mesaopt.reports.icl_plots import plot_curves, plot_matrices
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "A single linear self-attention layer is trained on in-context linear regression: every prompt is a fresh "
    "task w ~ N(0, I), so the layer must learn from its context at inference time. von Oswald et al. showed it "
    "converges to one step of gradient descent on the in-context least-squares loss. 'sensitivity cosine' is the "
    "cosine between the trained layer's and GD's gradients of the prediction with respect to the query input "
    "(1 = same direction); 'prediction difference' is ‖ŷ_model − ŷ_GD‖ / ‖ŷ_GD‖ (0 = identical). Both compare "
    "against GD with its best step size on the same prompts. Intervals are 95 % t-intervals over seeds."
)


def _fmt(stat: dict, digits: int = 4) -> str:
    return f"{stat['mean']:.{digits}f} [{stat['ci'][0]:.{digits}f}, {stat['ci'][1]:.{digits}f}]"


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per measure: mean [95 % CI] over seeds."""
    m = report["measures"]
    rows = [["measure", "mean [95 % CI]", "ideal"]]
    rows.append(["sensitivity cosine to GD", _fmt(m["sensitivity_cosine"]), "1"])
    rows.append(["relative prediction difference to GD", _fmt(m["prediction_diff"]), "0"])
    rows.append(["query loss / d: trained LSA", _fmt(m["loss_model"]), "= GD"])
    rows.append(["query loss / d: one-step GD", _fmt(m["loss_gd"]), ""])
    return rows


def _loss_png(report: dict) -> bytes:
    curves = report["learning_curves"]
    loss = np.asarray(curves["loss"])
    series = {f"seed {i}": loss[i] for i in range(len(loss))}
    gd = report["measures"]["loss_gd"]["mean"]
    series["one-step GD (best step size)"] = np.full(len(curves["step"]), gd)
    fig = plot_curves(curves["step"], series, xlabel="training step", ylabel="query loss / d", logy=True,
                      title="Training loss of the LSA layer")
    return figure_png_bytes(fig)


def _interpolation_png(report: dict) -> bytes:
    inter = report["interpolation"]
    series = {f"seed {i}": curve for i, curve in enumerate(inter["loss"])}
    fig = plot_curves(inter["alpha"], series, xlabel="α (0 = trained weights, 1 = constructed GD weights)",
                      ylabel="query loss / d", title="Loss along the straight path trained → GD")
    return figure_png_bytes(fig)


def _weights_png(report: dict) -> bytes:
    w = report["weights_seed0"]
    fig = plot_matrices({"trained W_KQ": w["W_KQ"], "GD W_KQ": w["gd_W_KQ"], "trained W_PV": w["W_PV"],
                         "GD W_PV": w["gd_W_PV"]}, title="Seed 0 vs the constructed layer (balanced scale, sign aligned)")
    return figure_png_bytes(fig)


def write_icl_gd_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, t = report["headline"], report["timings"]
    summary = [("layers", f"{h['n_seeds']} seeds"), ("GD step size", f"{h['gd_step_size']:.4f}"),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"train {t['train_seconds']:.0f} s, {t['train_steps_per_second']:,} steps/s)")]
    sections = [
        Section("Does the trained layer run gradient descent?", EXPLANATION, table=summary_table(report)),
        Section("Training", "Query loss per training step; the dashed level is one GD step.",
                images=[("training loss", _loss_png(report))]),
        Section("Weights", "The merged key-query and projection-value matrices. The constructed GD layer has the "
                "identity in the x block of W_KQ and a single entry (the step size) in the y corner of W_PV.",
                images=[("weights", _weights_png(report))]),
        Section("Interpolation", "A flat path means the trained weights and the constructed ones are one solution.",
                images=[("interpolation", _interpolation_png(report))]),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="icl-gd: linear self-attention vs one step of GD",
                             summary_rows=summary, sections=sections)
