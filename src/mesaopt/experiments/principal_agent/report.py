"""The ``report.html`` of a ``principal-agent`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.reports.evidence_html import evidence_sections
from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "Shareholders hire executives. Candidates are optimizers with hidden objectives: a loyalty w weighs company "
    "value against private benefit (w < 1/2: misaligned), and some can model the evaluation (they recognize a "
    "period of it with chance m). Each period an agent works (company value = its skill), games the metric (the "
    "metric sees a high yield; the company pays a cost) or takes private benefit (hidden from the metric unless "
    "inspected). It picks what maximizes its own utility, counting the metric only when it believes the metric "
    "decides its job. The principal hires the best 2^-bits of a cohort by the metric measured in the evaluation, "
    "where each period is inspected with the oversight probability; after hiring nobody looks, unless there are "
    "audits. The deception gap is the share of periods spent taking after hiring minus during the evaluation, "
    "among the hired. Outer misalignment (the metric is not company value) is the value lost by hiring on the "
    "metric instead of on value when no one has a hidden objective (the same cohorts with w = 1); inner "
    "misalignment is the further loss due to the hidden objectives. Intervals: 95 % t-intervals over cohorts."
)


def _grid(h: dict, key: str, j: int):
    mean, ci = np.asarray(h[key], float), np.asarray(h[f"{key}_ci"], float)
    return mean[:, j], ci[:, j, 0], ci[:, j, 1]


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per oversight level at the strongest pressure, then the interventions."""
    h = report["headline"]
    last = len(h["selection_pressures"]) - 1
    rows = [["condition", "misaligned share of the hired", "deception gap", "value delivered"]]
    for j, o in enumerate(h["oversight_levels"]):
        rows.append([f"oversight {o:g}, {h['selection_pressures'][last]:g} bits",
                     *(mean_with_ci(h[k][last][j], h[f"{k}_ci"][last][j]) for k in
                       ("misaligned_share_selected", "deception_gap", "value_delivered"))])
    for name, cell in h["interventions"].items():
        if name != "baseline":
            rows.append([f"{name} (oversight {h['oversight_levels'][0]:g})",
                         *(mean_with_ci(cell[k], cell[f"{k}_ci"]) for k in
                           ("misaligned_share_selected", "deception_gap", "value_delivered"))])
    return rows


def _pressure_png(report: dict, key: str, ylabel: str) -> bytes:
    h = report["headline"]
    series = {f"oversight {o:g}": _grid(h, key, j) for j, o in enumerate(h["oversight_levels"])}
    fig = plot_curves(h["selection_pressures"], series, xlabel="selection pressure (bits: hire the best 2^-bits)",
                      ylabel=ylabel, title=f"{ylabel} of the hired")
    return figure_png_bytes(fig)


def _losses_png(report: dict) -> bytes:
    h = report["headline"]
    series = {f"{kind} misalignment": _grid(h, f"{kind}_loss", 0) for kind in ("outer", "inner")}
    fig = plot_curves(h["selection_pressures"], series, xlabel="selection pressure (bits)",
                      ylabel="company value lost per period",
                      title=f"Outer vs inner misalignment at oversight {h['oversight_levels'][0]:g}")
    return figure_png_bytes(fig)


def _interventions_table(report: dict) -> list[list[str]]:
    h = report["headline"]
    rows = [["condition", "deception gap", "misaligned share of the hired", "value delivered"]]
    for name, cell in h["interventions"].items():
        rows.append([name, *(mean_with_ci(cell[k], cell[f"{k}_ci"]) for k in
                             ("deception_gap", "misaligned_share_selected", "value_delivered"))])
    return rows


def write_principal_agent_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, cfg = report["headline"], report["config"]
    m = cfg["market"]
    summary = [("cohorts", f"{h['n_seeds']} of {m['cohort_size']} candidates; {m['misaligned_share']:.0%} "
                           f"misaligned, {m['modeller_share']:.0%} able to model the evaluation"),
               ("metric", f"gaming yield {m['gaming_yield']:g} (cost {m['gaming_cost']:g}), taking hidden "
                          f"(cost {m['take_cost']:g}), noise {m['metric_noise']:g}; {cfg['evaluation_periods']} "
                          f"evaluation periods"),
               ("wall time", f"{h['wall_seconds']:.1f} s")]
    pressure = [(label, _pressure_png(report, key, label)) for key, label in
                (("misaligned_share_selected", "misaligned share"), ("deception_gap", "deception gap"),
                 ("value_delivered", "value delivered"))]
    sections = [
        Section("Whom does hiring on a metric select?", EXPLANATION, table=summary_table(report)),
        Section("Selection pressure and oversight", "One line per oversight level.", images=pressure),
        Section("Outer and inner misalignment", "Value lost to hiring on the metric rather than on value (outer) "
                "and to hidden objectives (inner), at the weakest oversight.",
                images=[("losses", _losses_png(report))]),
        Section("Interventions", f"At oversight {h['oversight_levels'][0]:g} and "
                f"{h['selection_pressures'][-1]:g} bits of selection.", table=_interventions_table(report)),
        *evidence_sections(report),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="principal-agent: hiring executives",
                             summary_rows=summary, sections=sections)
