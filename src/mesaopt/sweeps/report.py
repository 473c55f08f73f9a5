"""A sweep's ``report.html``: each headline number against each swept field, with the points' 95 % intervals,
and a table of every point (values, status, attempts, numbers)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.plots import figure_png_bytes
from mesaopt.sweeps.aggregate import headline_numbers

MAX_FIGURES = 12
"""At most this many headline numbers get a picture (all are in the table)."""
NOT_PLOTTED = ("n_seeds", "n_batches", "n_trials", "n_runs")


def _numeric_axis(values: list[str]) -> np.ndarray | None:
    try:
        return np.asarray([float(v) for v in values])
    except ValueError:
        return None


def _series(points: list[dict], field: str, others: list[str], name: str):
    """``{label: (xs, means, lows, highs)}``: one line per combination of the other swept fields' values."""
    out = {}
    combos = sorted({tuple(p["values"][o] for o in others) for p in points})
    for combo in combos:
        rows = [p for p in points if tuple(p["values"][o] for o in others) == combo and name in p["headline"]]
        if not rows:
            continue
        means = [float(p["headline"][name]) for p in rows]
        cis = [p["headline"].get(f"{name}_ci") or [m, m] for p, m in zip(rows, means)]
        label = ", ".join(f"{o}={v}" for o, v in zip(others, combo)) or name
        out[label] = ([p["values"][field] for p in rows], means, [c[0] for c in cis], [c[1] for c in cis])
    return out


def _panel(ax, field: str, values: list[str], series: dict) -> None:
    numeric = _numeric_axis(values)
    positions = {v: (numeric[i] if numeric is not None else i) for i, v in enumerate(values)}
    for label, (xs, means, lows, highs) in series.items():
        x = np.asarray([positions[v] for v in xs], dtype=float)
        means, lows, highs = (np.asarray(a, dtype=float) for a in (means, lows, highs))
        ax.errorbar(x, means, yerr=[means - lows, highs - means], marker="o", capsize=3, label=label)
    ax.set_xticks(list(positions.values()), values)
    if numeric is not None and numeric.min() > 0 and numeric.max() / numeric.min() >= 8:
        ax.set_xscale("log")
        ax.set_xticks(list(positions.values()), values)
    ax.set_xlabel(field)
    ax.grid(alpha=0.3)


def figure_png(points: list[dict], axes: dict[str, list[str]], name: str) -> bytes:
    """One picture for headline number ``name``: a panel per swept field with two or more values."""
    swept = [f for f, vs in axes.items() if len(vs) >= 2] or list(axes)[:1]
    fig = Figure(figsize=(4.2 * len(swept) + 1.5, 3.4), layout="constrained")
    FigureCanvasAgg(fig)
    for i, field in enumerate(swept):
        ax = fig.add_subplot(1, len(swept), i + 1)
        others = [f for f in axes if f != field]
        _panel(ax, field, axes[field], _series(points, field, others, name))
        ax.set_ylabel(name if i == 0 else "")
        if others:  # each panel's lines are the other fields' combinations: its own legend
            ax.legend(fontsize=7, loc="best", frameon=False)
    return figure_png_bytes(fig)


def _numbers(points: list[dict]) -> list[str]:
    complete = [p for p in points if p["status"] == "complete"]
    names = list(itertools.chain.from_iterable(headline_numbers(p["headline"]) for p in complete))
    return [n for n in dict.fromkeys(names) if n not in NOT_PLOTTED]


def _cell(headline: dict, name: str) -> str:
    if name not in headline:
        return "—"
    ci = headline.get(f"{name}_ci")
    return mean_with_ci(headline[name], ci, 3) if ci else f"{headline[name]:.4g}"


def points_table(sweep: dict, names: list[str]) -> list[list[str]]:
    """Header plus one row per point: swept values, status, attempts, runs, each number with its interval."""
    fields = list(sweep["grid"])
    rows = [[*fields, "status", "attempts", "runs", *names]]
    for p in sweep["points"]:
        numbers = [_cell(p["headline"], n) for n in names]
        rows.append([*(p["values"][f] for f in fields), p["status"], str(sum(t["attempts"] for t in p["tasks"])),
                     " ".join(t["run"] for t in p["tasks"]), *numbers])
    return rows


def write_sweep_report(directory: Path, sweep: dict) -> Path:
    """Write ``report.html`` of a sweep (``sweep.json``'s data) into ``directory``; return its path."""
    names = _numbers(sweep["points"])
    complete = [p for p in sweep["points"] if p["status"] == "complete"]
    images = [(f"{n} against each swept field (95 % intervals)", figure_png(complete, sweep["grid"], n))
              for n in names[:MAX_FIGURES]] if complete and sweep["grid"] else []
    counts = sweep["points_by_status"]
    summary = [("preset", sweep["preset"]), ("grid", "; ".join(f"{f} = {', '.join(v)}" for f, v in
                                                               sweep["grid"].items()) or "one point"),
               ("backend", sweep["backend"]), ("points", f"{len(sweep['points'])}: {counts['complete']} complete, "
                                               f"{counts['failed']} failed, {counts['pending']} pending"),
               ("seeds per task", str(sweep["seeds_per_task"] or "all of a point")), ("run store", sweep["root"])]
    sections = [Section("Headline numbers against the swept fields",
                        text="A point run in seed batches shows the seed-weighted mean and a t-interval over its "
                             "batches; a point run whole shows its run's own interval.", images=images),
                Section("Points", table=points_table(sweep, names))]
    return write_html_report(Path(directory) / "report.html", title=f"sweep: {sweep['preset']}",
                             summary_rows=summary, sections=sections)
