"""The self-contained ``report.html`` of an ``icl-diversity`` run, built from its ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

from mesaopt.reports.html import Section, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "Each transformer is pretrained on a pool of M regression tasks. Δ(model, X) is the mean squared difference "
    "between the model's predictions and learner X's, divided by d, over all positions. dMMSE is the Bayes "
    "predictor for the pretraining pool (it memorizes the M tasks); ridge is the Bayes predictor for the Gaussian "
    "task prior (a general in-context learner). Raventós et al. found that models with few tasks track dMMSE and "
    "fail on new tasks, and models past a threshold M* track ridge on seen and new tasks alike. M* here is where "
    "Δ(model, ridge) drops below Δ(model, dMMSE) on new tasks (interpolated in log M). Lines are means over "
    "seeds, bands the range over seeds."
)


def _series(by_m: dict, name: str) -> tuple[list, list, list]:
    """Mean over seeds and the range over seeds (a t-interval of 2–3 seeds is too wide to draw on a log axis)."""
    stats = by_m[name]
    return [s["mean"] for s in stats], [min(s["per_seed"]) for s in stats], [max(s["per_seed"]) for s in stats]


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per M: the four distances and the model's error on new tasks vs ridge's."""
    h, by_m = report["headline"], report["by_pool_size"]
    rows = [["M", "Δ ridge (seen)", "Δ dMMSE (seen)", "Δ ridge (new)", "Δ dMMSE (new)", "error new: model / ridge"]]
    for i, m in enumerate(h["M"]):
        rows.append([str(m), *(f"{h[k][i]:.3f}" for k in ("dist_ridge_seen", "dist_dmmse_seen", "dist_ridge_new",
                                                         "dist_dmmse_new")),
                     f"{by_m['error_model_new'][i]['mean']:.3f} / {by_m['error_ridge_new'][i]['mean']:.3f}"])
    return rows


def _distances_png(report: dict, which: str) -> bytes:
    h, by_m = report["headline"], report["by_pool_size"]
    series = {"Δ(model, ridge)": _series(by_m, f"dist_ridge_{which}"),
              "Δ(model, dMMSE)": _series(by_m, f"dist_dmmse_{which}")}
    vlines = {"M*": h["M_star"]} if h["M_star"] else None
    fig = plot_curves(h["M"], series, xlabel="pretraining tasks M", ylabel="Δ (squared difference / d)", logx=True,
                      logy=True, title=f"{which} tasks", vlines=vlines)
    return figure_png_bytes(fig)


def _errors_png(report: dict) -> bytes:
    h, by_m = report["headline"], report["by_pool_size"]
    series = {"model (new tasks)": _series(by_m, "error_model_new"), "model (seen tasks)": _series(by_m, "error_model_seen"),
              "ridge (new tasks)": _series(by_m, "error_ridge_new"), "dMMSE (new tasks)": _series(by_m, "error_dmmse_new")}
    fig = plot_curves(h["M"], series, xlabel="pretraining tasks M", ylabel="squared error / d", logx=True,
                      title="Does it solve tasks it never saw?")
    return figure_png_bytes(fig)


def write_icl_diversity_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, t = report["headline"], report["timings"]
    m_star = "not reached on this grid" if h["M_star"] is None else f"{h['M_star']:.1f}"
    summary = [("runs", f"{len(h['M'])} pool sizes x {h['n_seeds']} seeds"), ("M*", m_star),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"train {t['train_seconds']:.0f} s, {t['train_steps_per_second']:,} steps/s)")]
    sections = [
        Section("Memorizer or general learner?", EXPLANATION,
                images=[("seen tasks", _distances_png(report, "seen")), ("new tasks", _distances_png(report, "new"))],
                table=summary_table(report)),
        Section("Errors", "Squared error / d against the labels.", images=[("errors", _errors_png(report))]),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="icl-diversity: the task-diversity transition",
                             summary_rows=summary, sections=sections)
