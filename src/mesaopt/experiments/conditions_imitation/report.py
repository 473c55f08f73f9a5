"""The ``report.html`` of a ``conditions-imitation`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

from mesaopt.experiments.shared.conditions_report import levels_png, levels_table, setup_summary
from mesaopt.reports.html import Section, mean_with_ci, write_html_report

EXPLANATION = (
    "RLO §2: modelling other optimizers — a model trained to predict an optimizer may have to become one. The same "
    "recurrent thinker, with the same loss and mazes, is trained to mark either the cells a BFS planner walks (the "
    "shortest start-goal path: an optimizer's output) or every cell the left-hand wall follower visits on its way "
    "to the goal (a fixed local rule with no objective). Each network is scored against its own target. In a "
    "perfect maze the start-goal path is unique, so any walker that reaches the goal without loops marks the same "
    "cells: the non-optimizer differs by its detours, and its targets hold more cells (see the last column). "
    "Intervals: 95 % t-intervals over seeds."
)
TRACKING_TEXT = (
    "Does a network's compute track a search? On fresh larger mazes, the iteration at which each maze is first "
    "solved is regressed on the rounds of a BFS wavefront from the start to the goal (path length), of dead-end "
    "filling, and on the wall follower's moves: R² per network, mean over the networks that solved at least 10 "
    "of the larger mazes (their count in the last column; a dash where none did)."
)
TRACKED_LABELS = {"path_length": "R² vs path length", "dead_end_filling": "R² vs dead-end filling",
                  "wall_follower_moves": "R² vs wall-follower moves"}


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per imitated walker, with its mean target cells."""
    h = report["headline"]
    rows = levels_table(h, first="level")
    rows[0].append("target cells")
    for row, cells in zip(rows[1:], h["target_cells"]):
        row.append(f"{cells:.1f}")
    return rows


def tracking_table(h: dict) -> list[list[str]]:
    """Per level, the R² of solve iterations against each candidate's rounds."""
    rows = [["level", *TRACKED_LABELS.values(), "networks"]]
    for i, level in enumerate(h["levels"]):
        cells = ["—" if h[f"r2_{m}"][i] is None else mean_with_ci(h[f"r2_{m}"][i], h[f"r2_{m}_ci"][i])
                 for m in TRACKED_LABELS]
        rows.append([level, *cells, str(h["r2_networks"][i])])
    return rows


PROBE_TEXT = (
    "Which algorithm, if any? A linear probe per candidate reads its per-cell state after each round (BFS from the "
    "start, from the goal, from both; dead-end filling) from the hidden state after each iteration, on side-7 mazes "
    "(half to fit, half to score): held-out balanced accuracy, mean over seeds; the best is named if it reaches "
    "0.9. A probe also scores what a cell's own image channels give away, so compare the candidates, not the "
    "absolute numbers."
)


def probe_table(h: dict) -> list[list[str]]:
    """Per level, each candidate's probe score and the best match."""
    names = list(h["algorithm_match"])
    rows = [["level", *names, "best match"]]
    for i, level in enumerate(h["levels"]):
        rows.append([level, *(mean_with_ci(h["algorithm_match"][n][i], h["algorithm_match_ci"][n][i])
                              for n in names), h["best_matching_algorithm"][i]])
    return rows


def write_conditions_imitation_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, setup = report["headline"], report["config"]["setup"]
    summary = setup_summary(h, setup)
    sections = [Section("Does imitating an optimizer make a searcher?", EXPLANATION, table=summary_table(report),
                        images=[("levels", levels_png(h, "Imitating an optimizer vs a non-optimizer"))]),
                Section("Does compute track a search?", TRACKING_TEXT, table=tracking_table(h))]
    if "algorithm_match" in h:
        sections.append(Section("Which algorithm?", PROBE_TEXT, table=probe_table(h)))
    return write_html_report(Path(run_dir) / "report.html", title="conditions-imitation",
                             summary_rows=summary, sections=sections)
