"""The ``report.html`` of a ``conditions-compression`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.experiments.shared.conditions_report import levels_png, levels_table
from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "RLO §2: a base optimizer that pays for description length should favour a compact general algorithm (a "
    "searcher) over memorized answers, and one that pays for run time should favour the memorized answers. Here "
    "the base optimizer is program search over a small maze language: follow_wall(left|right) and "
    "search_to(goal|ne|nw|se|sw) are general algorithms; route(NNES...) is a lookup, one move string that solves "
    "every training maze. It keeps the cheapest program (bits + lam x run-time steps over the K training mazes) that "
    "solves all K; ties are broken at random. Training mazes start in the bottom-left room with the goal in the "
    "top-right room, so search_to(goal) and search_to(ne) are indistinguishable in training; the shifted test moves "
    "the goal off the corner. Intervals: 95 % t-intervals over seeds."
)


GRADIENT_EXPLANATION = (
    "Recurrent thinkers (maze-search's, at a smaller size) trained on a fresh maze per example, each level one "
    "pressure: AdamW weight decay (a description-length pressure: small weights, fewer effective parameters) or the "
    "every-iteration loss (the mean loss after each of 1 .. T iterations: it pays to be right early, a time "
    "pressure). RLO predicts more search (extrapolation, thinking gain) under description pressure and less under "
    "time pressure."
)


def _band(h: dict, key: str, column: int):
    mean = np.asarray(h[key], float)[:, column]
    ci = np.asarray(h[f"{key}_ci"], float)[:, column]
    return mean, ci[:, 0], ci[:, 1]


def summary_table(report: dict) -> list[list[str]]:
    """Header + the gradient arm's levels, then per K the program picked at the lowest and highest step price."""
    h = report["headline"]
    lams, last = h["program_lambda"], len(h["program_lambda"]) - 1
    rows = [["arm", "level", "novel / fresh-maze success", "extrapolation / shifted-goal success",
             "thinking gain / goal-target share", "program class"]]
    for i, level in enumerate(h.get("levels", [])):
        rows.append(["gradient", level, *(mean_with_ci(h[n][i], h[f"{n}_ci"][i]) for n in
                                          ("novel_accuracy", "extrapolation_accuracy", "thinking_gain")), "-"])
    for i, k in enumerate(h["program_k"]):
        for j in sorted({0, last}):
            rows.append(["programs", f"K {k}, lam {lams[j]:g}",
                         mean_with_ci(h["program_test_success"][i][j], h["program_test_success_ci"][i][j]),
                         mean_with_ci(h["program_shifted_success"][i][j], h["program_shifted_success_ci"][i][j]),
                         f"{h['goal_target_share'][i][j]:.2f}",
                         f"{h['program_class'][i][j]} ({h['algorithm_share'][i][j]:.0%} alg.)"])
    return rows


def _by_k_png(report: dict, key: str, ylabel: str, title: str) -> bytes:
    h = report["headline"]
    series = {f"lam {lam:g}": _band(h, key, j) for j, lam in enumerate(h["program_lambda"])}
    fig = plot_curves(h["program_k"], series, xlabel="training mazes K", ylabel=ylabel, title=title, logx=True)
    return figure_png_bytes(fig)


def _share_png(report: dict) -> bytes:
    h = report["headline"]
    series = {f"K = {k}": h["algorithm_share"][i] for i, k in enumerate(h["program_k"])}
    fig = plot_curves(h["program_lambda"], series, xlabel="step price lam (bits per run-time step)",
                      ylabel="share of seeds whose program is an algorithm", title="Time pressure selects lookups")
    return figure_png_bytes(fig)


def _grid_table(report: dict) -> list[list[str]]:
    h, rows = report["headline"], []
    rows.append(["K", "lam", "class (alg. share)", "bits", "target (goal share)", "fresh success", "shifted success"])
    for i, k in enumerate(h["program_k"]):
        for j, lam in enumerate(h["program_lambda"]):
            bits = h["program_bits"][i][j]
            rows.append([str(k), f"{lam:g}", f"{h['program_class'][i][j]} ({h['algorithm_share'][i][j]:.2f})",
                         "-" if bits is None else f"{bits:.1f}",
                         f"{h['program_target_feature'][i][j]} ({h['goal_target_share'][i][j]:.2f})",
                         mean_with_ci(h["program_test_success"][i][j], h["program_test_success_ci"][i][j]),
                         mean_with_ci(h["program_shifted_success"][i][j], h["program_shifted_success_ci"][i][j])])
    return rows


def write_conditions_compression_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, cfg = report["headline"], report["config"]
    summary = [("mazes", f"side {cfg['side']}, move cap {h['move_cap']}, {cfg['n_test']} test mazes per seed "
                         "and test"),
               ("seeds", f"{h['program_n_seeds']} per program point; {h['n_seeds']} networks per gradient level"),
               ("route enumeration", f"budget {cfg['route_state_budget']:,} joint positions; hit in "
                                     f"{h['route_budget_hits']} searches"),
               ("wall time", f"{h['wall_seconds']:.0f} s")]
    sections = [
        Section("Does description length select a searcher, and run time a lookup?", EXPLANATION,
                table=summary_table(report)),
        *([Section("Gradient descent", GRADIENT_EXPLANATION, table=levels_table(h), images=[
            ("gradient", levels_png(h, "Gradient descent under description or time pressure"))])]
          if h.get("levels") else []),
        Section("Programs: test success", "Share of fresh mazes (training corners) that the selected program "
                "solves, against K, one line per step price.",
                images=[("fresh", _by_k_png(report, "program_test_success", "fresh-maze success",
                                            "Generalization of the selected program")),
                        ("shifted", _by_k_png(report, "program_shifted_success", "shifted-goal success",
                                              "With the goal moved off the corner"))]),
        Section("Which class wins", "Share of seeds whose selected program is an algorithm, against the step price.",
                images=[("share", _share_png(report))]),
        Section("Every point", "Majority class and target over seeds, with the shares behind them.",
                table=_grid_table(report)),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="conditions-compression: program search",
                             summary_rows=summary, sections=sections)
