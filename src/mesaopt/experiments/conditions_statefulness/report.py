"""The ``report.html`` of a ``conditions-statefulness`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

from mesaopt.experiments.shared.conditions_report import levels_png, levels_table, setup_summary
from mesaopt.reports.html import Section, write_html_report

EXPLANATION = (
    "RLO §2: statefulness and algorithmic range — a learned algorithm that can run longer, reusing its state, has "
    "more room to search. Weight-tied recurrent thinkers are trained with T = 1 to 32 iterations; untied "
    "(feed-forward) controls have depth-many blocks of their own weights, one at the recurrent width (the same "
    "depth and compute per pass as recurrent T = depth, many more parameters) and one narrow enough to have about "
    "the recurrent network's parameters. A fixed-depth network cannot think longer: its thinking gain is 0 by "
    "construction. Novel accuracy and the gain are read at each level's own T. Intervals: 95 % t-intervals over "
    "seeds."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per level, with its parameter count."""
    h = report["headline"]
    rows = levels_table(h)
    rows[0].append("parameters")
    for row, count in zip(rows[1:], h["parameters"]):
        row.append(f"{count:,}")
    return rows


def write_conditions_statefulness_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, setup = report["headline"], report["config"]["setup"]
    summary = setup_summary(h, setup)
    sections = [Section("Does room to run longer make learned search?", EXPLANATION, table=summary_table(report),
                        images=[("levels", levels_png(h, "Statefulness and algorithmic range"))])]
    return write_html_report(Path(run_dir) / "report.html", title="conditions-statefulness",
                             summary_rows=summary, sections=sections)
