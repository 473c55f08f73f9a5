"""The ``report.html`` of a ``conditions-diversity`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.experiments.shared.conditions_report import levels_png, levels_table
from mesaopt.reports.html import Section, write_html_report

EXPLANATION = (
    "RLO §2: the more distinct tasks a base optimizer must solve, the more it pays to learn one run-time optimizer "
    "rather than many answers. Each network (a weight-tied recurrent thinker, trained with the progressive loss) "
    "sees a pool of N distinct maze problems, N on a log ladder up to a fresh maze per example. Memorizing shows as "
    "high accuracy on the pool and little on novel mazes; search shows as accuracy on novel mazes and on larger "
    "mazes given more iterations than in training (extrapolation, thinking gain). N*: where novel-maze accuracy "
    "first gets half way from its lowest to its highest level. Dashed: RLO's toy model (run-time share of "
    "optimization, power-law cost) fitted to the rescaled novel-accuracy curve. Intervals: 95 % t-intervals over "
    "seeds."
)

def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per level."""
    return levels_table(report["headline"], first="N")


def _curves_png(report: dict) -> bytes:
    h = report["headline"]
    fit, extra = h["toy_model_fit"], {}
    if fit.get("fitted"):
        low, high = min(h["novel_accuracy"]), max(h["novel_accuracy"])
        extra["toy model (scaled to novel)"] = low + (high - low) * np.asarray(fit["predicted"], float)
    return levels_png(h, "Task diversity and learned search", x=h["effective_n"], logx=True, extra=extra,
                      xlabel="distinct training mazes N (fresh: examples seen)",
                      vlines={"N*": h["n_star"]} if h["n_star"] is not None else None)


def write_conditions_diversity_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, setup = report["headline"], report["config"]["setup"]
    fit = h["toy_model_fit"]
    star = "none" if h["n_star"] is None else f"{h['n_star']:g} [{h['n_star_ci'][0]:g}, {h['n_star_ci'][1]:g}]"
    summary = [("mazes", f"side {setup['side']} in training, side {setup['extrapolation_side']} for extrapolation; "
                         f"{setup['train_iterations']} iterations in training, up to {setup['test_iterations'][-1]} "
                         "at test"),
               ("networks", f"{len(h['levels'])} levels x {h['n_seeds']} seeds, {setup['steps']} steps each"),
               ("N*", star),
               ("toy model", f"R² {fit['r2']:.2f} (c {fit['c']:g}, a {fit['a']:g}, P {fit['budget_bits']:g} bits)"
                if fit.get("fitted") else fit.get("why", "not fitted")),
               ("wall time", f"{h['wall_seconds']:.0f} s")]
    sections = [Section("Does task diversity make learned search appear?", EXPLANATION, table=summary_table(report),
                        images=[("curves", _curves_png(report))])]
    return write_html_report(Path(run_dir) / "report.html", title="conditions-diversity: task diversity",
                             summary_rows=summary, sections=sections)
