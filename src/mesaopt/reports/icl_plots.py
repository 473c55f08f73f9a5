"""Plots of the in-context-learning presets: curves with 95 % bands over seeds and weight heatmaps."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from mesaopt.reports.plots import _PALETTE, _new_figure


def plot_curves(
    xs: ArrayLike,
    series: Mapping[str, tuple[ArrayLike, ArrayLike, ArrayLike] | ArrayLike],
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    logx: bool = False,
    logy: bool = False,
    vlines: Mapping[str, float] | None = None,
) -> Figure:
    """One line per series; a series is either values or ``(mean, low, high)`` (drawn with a shaded band).
    ``vlines`` marks x positions (e.g. ``{"M*": 300}`` or ``{"k = d": 5}``)."""
    xs = np.asarray(xs, float)
    fig, ax = _new_figure()
    for i, (name, values) in enumerate(series.items()):
        color = _PALETTE[i % len(_PALETTE)]
        if isinstance(values, tuple) and len(values) == 3:
            mean, low, high = (np.asarray(v, float) for v in values)
            ax.fill_between(xs, low, high, color=color, alpha=0.18, linewidth=0)
        else:
            mean = np.asarray(values, float)
        ax.plot(xs, mean, marker="o", markersize=3, color=color, linewidth=1.8, label=name)
    for name, x in (vlines or {}).items():
        ax.axvline(float(x), color="#555555", linestyle=(0, (4, 3)), linewidth=1.2, label=name)
    if logx:
        ax.set_xscale("log", base=2)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def plot_matrices(matrices: Mapping[str, ArrayLike], *, title: str = "") -> Figure:
    """Side-by-side heatmaps on one symmetric colour scale per matrix (red positive, blue negative)."""
    fig = Figure(figsize=(3.2 * len(matrices), 3.2), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(matrices), squeeze=False)[0]
    for ax, (name, matrix) in zip(axes, matrices.items()):
        m = np.asarray(matrix, float)
        lim = max(float(np.abs(m).max()), 1e-12)
        image = ax.imshow(m, cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(name, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        fig.colorbar(image, ax=ax, shrink=0.75)
    if title:
        fig.suptitle(title)
    return fig
