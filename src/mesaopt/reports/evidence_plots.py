"""Plots of the evidence card: grouped bars per condition, curves over thinking steps, per-cell heatmaps."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mesaopt.reports.plots import figure_png_bytes

_PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")


def grouped_bars_png(
    groups: Sequence[str], series: Mapping[str, Sequence[float]], *, ylabel: str, title: str,
    errors: Mapping[str, Sequence[tuple[float, float]]] | None = None, hline: float | None = None,
) -> bytes:
    """One group of bars per condition, one bar per series (``errors``: optional (low, high) per bar)."""
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(groups))
    for i, (name, values) in enumerate(series.items()):
        values = np.asarray(values, float)
        pos = x - 0.4 + width * (i + 0.5)
        yerr = None
        if errors and name in errors:
            lo_hi = np.asarray(errors[name], float)
            yerr = np.abs(np.stack([values - lo_hi[:, 0], lo_hi[:, 1] - values]))
        ax.bar(pos, values, width, label=name, color=_PALETTE[i % len(_PALETTE)], yerr=yerr, capsize=3)
    if hline is not None:
        ax.axhline(hline, color="#555", lw=0.8, ls=":")
    ax.set_xticks(x, groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return figure_png_bytes(fig)


def curves_png(x: Sequence[int], curves: Mapping[str, Sequence[float]], *, xlabel: str, ylabel: str,
               title: str) -> bytes:
    """Lines with markers, one per condition."""
    fig = Figure(figsize=(6.0, 3.6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for i, (name, ys) in enumerate(curves.items()):
        ax.plot(x, ys, marker="o", label=name, color=_PALETTE[i % len(_PALETTE)])
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, frameon=False)
    return figure_png_bytes(fig)


def heatmaps_png(maps: Mapping[str, np.ndarray], *, title: str, vmin: float = 0.0, vmax: float = 1.0) -> bytes:
    """One heatmap per condition side by side (NaN cells left blank), values written in each cell."""
    n = max(len(maps), 1)
    fig = Figure(figsize=(2.6 * n + 0.8, 2.9), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, n, squeeze=False)[0]
    image = None
    for ax, (name, grid) in zip(axes, maps.items()):
        grid = np.asarray(grid, float)
        image = ax.imshow(grid, vmin=vmin, vmax=vmax, cmap="viridis")
        for (r, c), v in np.ndenumerate(grid):
            if np.isfinite(v):
                ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if v < (vmin + vmax) / 2 else "black")
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    if image is not None:
        fig.colorbar(image, ax=list(axes), shrink=0.8)
    fig.suptitle(title, fontsize=10)
    return figure_png_bytes(fig)
