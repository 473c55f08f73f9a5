"""Report pieces the ``conditions-*`` factors share: a table and a plot of the learned-search measurements per
level (from a headline's lists)."""

from __future__ import annotations

import numpy as np

from mesaopt.reports.html import mean_with_ci
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

LABELS = {"train_accuracy": "training mazes", "novel_accuracy": "novel mazes",
          "extrapolation_accuracy": "larger mazes, best over iterations", "thinking_gain": "thinking gain"}
"""Column names of the measurements."""


def levels_table(h: dict, first: str = "level", measures=tuple(LABELS)) -> list[list[str]]:
    """Header + one row per level: each measurement as ``mean [low, high]``."""
    rows = [[first, *(LABELS[m] for m in measures)]]
    for i, level in enumerate(h["levels"]):
        rows.append([str(level), *(mean_with_ci(h[m][i], h[f"{m}_ci"][i]) for m in measures)])
    return rows


def levels_png(h: dict, title: str, x=None, xlabel: str | None = None, logx: bool = False, extra=None,
               vlines=None) -> bytes:
    """The measurements against the levels (``x``: numbers for the axis; default the level index)."""
    xs = list(range(len(h["levels"]))) if x is None else x
    series = {label: (h[name], *np.asarray(h[f"{name}_ci"], float).T) for name, label in LABELS.items()}
    series.update(extra or {})
    label = xlabel or "level: " + " | ".join(str(level) for level in h["levels"])
    fig = plot_curves(xs, series, xlabel=label, ylabel="accuracy", title=title, logx=logx, vlines=vlines)
    return figure_png_bytes(fig)


def setup_summary(h: dict, setup: dict) -> list[tuple[str, str]]:
    """The report summary rows the network factors share: maze sizes and ladder, networks, wall time."""
    return [("mazes", f"side {setup['side']} in training, side {setup['extrapolation_side']} for extrapolation; "
                      f"test ladder {setup['test_iterations']}"),
            ("networks", f"{len(h['levels'])} levels x {h['n_seeds']} seeds, {setup['steps']} steps each, "
                         "a fresh maze per example"),
            ("wall time", f"{h['wall_seconds']:.0f} s")]
