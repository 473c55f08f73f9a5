"""Per-preset report builders: the HTML writer and the terminal summary table of each preset."""

from __future__ import annotations

from mesaopt.reports import (
    absent_supervisor_html,
    icl_diversity_html,
    icl_gd_html,
    icl_regression_html,
    maze_misgen_html,
)

REPORT_WRITERS = {
    "maze-misgen": maze_misgen_html.write_maze_misgen_html,
    "icl-gd": icl_gd_html.write_icl_gd_html,
    "icl-regression": icl_regression_html.write_icl_regression_html,
    "icl-diversity": icl_diversity_html.write_icl_diversity_html,
    "absent-supervisor": absent_supervisor_html.write_absent_supervisor_html,
}
"""``writer(run_dir, report) -> path of report.html`` by preset name."""

SUMMARY_TABLES = {
    "maze-misgen": maze_misgen_html.summary_table,
    "icl-gd": icl_gd_html.summary_table,
    "icl-regression": icl_regression_html.summary_table,
    "icl-diversity": icl_diversity_html.summary_table,
    "absent-supervisor": absent_supervisor_html.summary_table,
}
"""``summary_table(report) -> rows`` (header first) by preset name, for the end-of-run terminal table."""
