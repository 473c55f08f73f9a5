"""The one-page ``report.html`` of a ``conditions`` run: RLO's predicted directions against the measured ones, then
one panel per factor, from ``report.json`` alone (the factor headlines are copied into it)."""

from __future__ import annotations

from pathlib import Path

from mesaopt.experiments.shared.conditions_report import levels_png, levels_table
from mesaopt.reports.html import Section, mean_with_ci, write_html_report

EXPLANATION = (
    "RLO §2 names conditions under which a base optimizer is more likely to produce a learned optimizer; mesaopt "
    "runs each as an experiment (one conditions-* preset per factor). Each row sets a quantity at two levels of a "
    "factor against RLO's predicted direction: 'held' when the two 95 % intervals do not overlap and the change "
    "goes the predicted way, 'contradicted' when they do not overlap and it goes the other way, 'unclear' when "
    "they overlap. A contradiction is a result, not a failure. Each factor's own report has the full curves."
)


QUANTITIES = {"novel_accuracy": "novel mazes", "extrapolation_accuracy": "larger mazes",
              "thinking_gain": "thinking gain", "algorithm_share (programs)": "programs: algorithm share"}
"""Short names of the compared quantities."""


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per comparison (levels on one line, values on the next)."""
    rows = [["factor: quantity", "from -> to", "RLO", "verdict"]]
    for c in report["headline"]["comparisons"]:
        values = f"{mean_with_ci(c['from_mean'], c['from_ci'])} -> {mean_with_ci(c['to_mean'], c['to_ci'])}"
        rows.append([f"{c['factor']}: {QUANTITIES.get(c['quantity'], c['quantity'])}",
                     f"{c['from']} -> {c['to']}\n{values}", c["predicted"], c["verdict"]])
    return rows


def factor_section(factor: str, entry: dict) -> Section:
    """One factor's panel: its prediction, its run, its levels (the gradient-descent levels for compression)."""
    h = entry["headline"]
    text = f"RLO: {entry['prediction']}. Run: {entry['run']}" + (" (reused)." if entry["reused"] else ".")
    if not h.get("levels"):
        return Section(f"conditions-{factor}", text + " No network levels in this run.")
    return Section(f"conditions-{factor}", text, table=levels_table(h),
                   images=[(factor, levels_png(h, f"conditions-{factor}"))])


def write_conditions_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h = report["headline"]
    summary = [("factors", ", ".join(h["factors"])), ("scale", report["config"]["scale"]),
               ("verdicts", f"{h['held']} held, {h['contradicted']} contradicted, {h['unclear']} unclear"),
               ("wall time", f"{h['wall_seconds']:.0f} s (stored factor runs are reused)")]
    sections = [Section("RLO's predictions against the measurements", EXPLANATION, table=summary_table(report))]
    sections += [factor_section(f, report["factors"][f]) for f in h["factors"]]
    return write_html_report(Path(run_dir) / "report.html", title="conditions: RLO §2, measured",
                             summary_rows=summary, sections=sections)
