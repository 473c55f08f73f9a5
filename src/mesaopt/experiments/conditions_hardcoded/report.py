"""The ``report.html`` of a ``conditions-hardcoded`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

from mesaopt.experiments.shared.conditions_report import levels_png, levels_table
from mesaopt.reports.html import Section, mean_with_ci, write_html_report

EXPLANATION = (
    "RLO §2: hard-coded optimization — if the base optimizer's model already contains a search, there is less "
    "reason for a learned one. The learned thinker has to carry the search itself (a weight-tied recurrent block); "
    "the hybrid's search is fixed code (a start wavefront and a flow of target mass back to the start, "
    "models.planner_hybrid) over a reward map drawn by a small feed-forward network with no recurrence. Both are "
    "trained on the same fresh mazes. The hybrid's thinking gain is its planner's rounds, not anything learned; "
    "its map can be read as an objective: where does it put its mass? Intervals: 95 % t-intervals over seeds."
)
PROXY_TEXT = (
    "Both models trained again with the goal always in the top-right corner room (goal and corner coincide), then "
    "tested with the goal elsewhere: does the predicted path lead to the goal marker or to the corner? For the "
    "hybrid the objective can be read straight off its map: the cell it ranks first."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per model."""
    return levels_table(report["headline"], first="model")


def _cell(h: dict, name: str, i: int | None = None) -> str:
    """``mean [low, high]`` of headline ``name`` (entry ``i`` of a per-model list)."""
    if i is None:
        return mean_with_ci(h[name], h[f"{name}_ci"])
    return mean_with_ci(h[name][i], h[f"{name}_ci"][i])


def objective_table(h: dict) -> list[list[str]]:
    """What the hybrid's map targets, and (proxy arm) what each model follows once goal and corner part."""
    rows = [["measure", "value"], ["hybrid map: top cell is the goal (fresh mazes)", _cell(h, "map_goal_match")],
            ["hybrid map: probability on the goal", _cell(h, "map_goal_mass")]]
    if "proxy_goal_rate" in h:
        for i, level in enumerate(h["levels"]):
            rows += [[f"{level}, goal in the corner: exact paths", _cell(h, "proxy_in_distribution_accuracy", i)],
                     [f"{level}, goal moved: path to the goal", _cell(h, "proxy_goal_rate", i)],
                     [f"{level}, goal moved: path to the corner", _cell(h, "proxy_corner_rate", i)]]
        rows += [["hybrid map, goal moved: top cell is the goal", _cell(h, "map_target_goal")],
                 ["hybrid map, goal moved: top cell is the corner", _cell(h, "map_target_corner")]]
    return rows


def write_conditions_hardcoded_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, cfg = report["headline"], report["config"]
    setup = cfg["setup"]
    summary = [("mazes", f"side {setup['side']} in training, side {setup['extrapolation_side']} for extrapolation; "
                         f"test ladder {setup['test_iterations']}"),
               ("models", f"thinker width {setup['width']} (T = {setup['train_iterations']}); hybrid encoder "
                          f"{cfg['encoder_depth']} layers, planner trained with {cfg['planner_rounds']} rounds"),
               ("networks", f"{h['n_seeds']} seeds per model and arm, {setup['steps']} steps each"),
               ("wall time", f"{h['wall_seconds']:.0f} s")]
    sections = [Section("Where does the search live?", EXPLANATION, table=summary_table(report),
                        images=[("models", levels_png(h, "Hard-coded vs learned search"))]),
                Section("The objective, read off the map", PROXY_TEXT, table=objective_table(h))]
    return write_html_report(Path(run_dir) / "report.html", title="conditions-hardcoded",
                             summary_rows=summary, sections=sections)
