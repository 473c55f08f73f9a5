"""Result plots: dose-response curves over training-region size and learning curves over seeds.

Figures are :class:`matplotlib.figure.Figure` objects with their own Agg canvas (never ``pyplot``), so
plotting has no global state and needs no display. Turn one into PNG bytes with :func:`figure_png_bytes`.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import EngFormatter
from numpy.typing import ArrayLike

LEARNING_BANDS = ("minmax", "std")
_PALETTE = ("#1f77b4", "#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")
_BASELINE_DASHES = ((0, (5, 3)), (0, (2, 2)), (0, (6, 2, 1, 2)), (0, (1, 3)))


def _new_figure(width: float = 7.0, height: float = 4.0) -> tuple[Figure, Axes]:
    """A figure with its own Agg canvas, constrained layout and one axes."""
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _as_series(name: str, values: tuple[ArrayLike, ArrayLike, ArrayLike], n: int) -> np.ndarray:
    """``[3, n]`` array (mean, low, high) for one series, validated against ``n`` x values."""
    if len(values) != 3:
        raise ValueError(f"series {name!r} must be a (mean, low, high) triple, got {len(values)} items")
    arr = np.asarray([np.asarray(v, float) for v in values])
    if arr.shape != (3, n):
        raise ValueError(f"series {name!r}: mean, low and high must each have {n} values (one per region size)")
    return arr


def plot_dose_response(
    region_sizes: Sequence[int],
    series: Mapping[str, tuple[ArrayLike, ArrayLike, ArrayLike]],
    *,
    baselines: Mapping[str, float] | None = None,
    title: str = "Goal misgeneralization vs training-region size",
    xlabel: str = "training-region size",
    ylabel: str = "rate",
) -> Figure:
    """Rates against training-region size: one line with markers per series and a shaded band from ``low`` to
    ``high`` (e.g. a bootstrap CI), optional dashed horizontal ``baselines`` (e.g. ``"random walk: goal"``).

    ``series`` maps a label (``"goal rate (shifted)"``) to ``(mean, low, high)``, each one value per region size.
    The y axis is fixed to [0, 1]; the x ticks are the region sizes.
    """
    xs = np.asarray(region_sizes)
    if xs.ndim != 1 or len(xs) == 0:
        raise ValueError(f"region_sizes must be a non-empty 1-D sequence, got shape {xs.shape}")
    fig, ax = _new_figure()
    for i, (name, values) in enumerate(series.items()):
        mean, low, high = _as_series(name, values, len(xs))
        color = _PALETTE[i % len(_PALETTE)]
        ax.fill_between(xs, low, high, color=color, alpha=0.18, linewidth=0)
        ax.plot(xs, mean, marker="o", color=color, linewidth=2, label=name)
    for j, (name, level) in enumerate((baselines or {}).items()):
        dash = _BASELINE_DASHES[j % len(_BASELINE_DASHES)]
        ax.axhline(float(level), color="#555555", linestyle=dash, linewidth=1.2, label=name)
    ax.set_xticks(xs)
    ax.set_ylim(-0.02, 1.02)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # outside: bands stay visible
    return fig


def _as_curve(name: str, values: ArrayLike, n_steps: int) -> np.ndarray:
    """``[n_seeds, n_updates]`` array (a 1-D curve counts as one seed), validated against the steps."""
    arr = np.asarray(values, float)
    arr = arr[None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != n_steps:
        raise ValueError(f"curve {name!r} must have shape (n_seeds, {n_steps}) to match steps, got {arr.shape}")
    return arr


def plot_learning_curves(
    steps: ArrayLike,
    curves: Mapping[str, ArrayLike],
    *,
    ylabel: str,
    xlabel: str = "environment steps",
    title: str | None = None,
    band: str = "minmax",
) -> Figure:
    """Learning curves: per curve the mean over seeds, with a band over seeds (``band='minmax'``: min to max,
    ``'std'``: mean ± one standard deviation). ``curves`` maps a label to ``[n_seeds, n_updates]`` values."""
    if band not in LEARNING_BANDS:
        raise ValueError(f"unknown band {band!r}; allowed: {list(LEARNING_BANDS)}")
    xs = np.asarray(steps, float)
    fig, ax = _new_figure()
    for i, (name, values) in enumerate(curves.items()):
        arr = _as_curve(name, values, len(xs))
        mean = arr.mean(axis=0)
        if band == "minmax":
            low, high = arr.min(axis=0), arr.max(axis=0)
        else:
            low, high = mean - arr.std(axis=0), mean + arr.std(axis=0)
        color = _PALETTE[i % len(_PALETTE)]
        ax.fill_between(xs, low, high, color=color, alpha=0.2, linewidth=0)
        ax.plot(xs, mean, color=color, linewidth=1.8, label=f"{name} (n={arr.shape[0]})")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 200000 -> 200k
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    if curves:
        ax.legend(fontsize=8, loc="best")
    return fig


def figure_png_bytes(fig: Figure, *, dpi: int = 110) -> bytes:
    """PNG bytes of ``fig``; then closes it (releases it from ``pyplot`` if pyplot manages it)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:  # only if the caller already uses pyplot; never import it (global state)
        pyplot.close(fig)
    return buf.getvalue()
