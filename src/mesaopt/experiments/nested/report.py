"""The ``report.html`` of a ``nested`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "Three optimizers in a chain. Evolution (objective: fitness, the nutrition eaten) sets the reward weights of a "
    "lifetime learner: how much it likes the sweetness it tastes at once and the nutrition it feels one meal "
    "later. The learner learns a value for each kind of food from that reward over its learning phase. A depth-k "
    "planner then forages down trees of food, searching the paths of the next k steps for the highest sum of "
    "learned values. Each level optimizes what the level above produced; none sees fitness but evolution. Each "
    "level's pressure is swept with the others at their defaults (generations; learning meals; look-ahead depth), "
    "in the ancestral world (sweet food is nourishing) and the junk-food world (the sweetest harms). True fitness: "
    "nutrition per step of the trips. Objective correlation: Spearman's rho between each level's objective and "
    "fitness over the kinds of food of a world (evolution: nutrition; learner: the reward as it experiences each "
    "kind; planner: its learned values), mean over worlds. Intervals: 95 % t-intervals over evolutionary runs."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per level: its objective, correlation with fitness in both worlds, true fitness at its
    lowest and highest pressure."""
    h = report["headline"]
    rows = [["level", "objective", "rho with fitness (train)", "rho (junk food)", "true fitness: low → high pressure",
             "junk food: low → high"]]
    for i, name in enumerate(h["levels"]):
        tf, tfs = h["true_fitness"][name], h["true_fitness_shifted"][name]
        knob = h["pressures"][name]
        rows.append([name, h["objectives"][name],
                     mean_with_ci(h["objective_correlation_train"][i], h["objective_correlation_train_ci"][i]),
                     mean_with_ci(h["objective_correlation_shifted"][i], h["objective_correlation_shifted_ci"][i]),
                     f"{tf[0]:.2f} → {tf[-1]:.2f} ({knob['knob']} {knob['values'][0]} → {knob['values'][-1]})",
                     f"{tfs[0]:.2f} → {tfs[-1]:.2f}"])
    return rows


def _band(h: dict, key: str, name: str):
    ci = np.asarray(h[f"{key}_ci"][name], float)
    return np.asarray(h[key][name], float), ci[:, 0], ci[:, 1]


def _pressure_png(report: dict, name: str) -> bytes:
    h = report["headline"]
    series = {"true fitness, ancestral": _band(h, "true_fitness", name),
              "true fitness, junk food": _band(h, "true_fitness_shifted", name),
              f"{name}'s own objective, ancestral": _band(h, "own_objective", name),
              f"{name}'s own objective, junk food": _band(h, "own_objective_shifted", name)}
    knob = h["pressures"][name]
    fig = plot_curves(knob["values"], series, xlabel=f"{name}: {knob['knob']}", ylabel="per step",
                      title=f"More pressure at the {name} level")
    return figure_png_bytes(fig)


def _correlation_png(report: dict) -> bytes:
    h = report["headline"]
    series = {}
    for world in ("train", "shifted"):
        ci = np.asarray(h[f"objective_correlation_{world}_ci"], float)
        series[{"train": "ancestral world", "shifted": "junk-food world"}[world]] = (
            np.asarray(h[f"objective_correlation_{world}"], float), ci[:, 0], ci[:, 1])
    fig = plot_curves(np.arange(len(h["levels"])), series, xlabel="level (0 = " + ", ".join(
        f"{i} = {n}" for i, n in enumerate(h["levels"]))[4:] + ")", ylabel="rank correlation with fitness",
        title="How each level's objective ranks the foods")
    return figure_png_bytes(fig)


def write_nested_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, cfg = report["headline"], report["config"]
    ev = cfg["evolution"]
    pairs = "; ".join(f"{world}: " + ", ".join(f"{k} {v:.2f}" for k, v in p.items())
                      for world, p in h["objective_correlation_pairs"].items())
    products = "; ".join(f"{world}: " + ", ".join(f"{v:.2f}" for v in h[f"objective_correlation_chain_product_{world}"])
                         for world in ("train", "shifted"))
    summary = [("chain", " → ".join(h["levels"])),
               ("evolution", f"{h['n_seeds']} runs, {ev['strategy']} population {ev['population_size']}; evolved "
                             f"weight shares: sweetness {h['evolved_weights']['sweetness']:+.2f}, nutrition "
                             f"{h['evolved_weights']['nutrition']:+.2f}"),
               ("world", f"{cfg['task']['n_types']} kinds of food, nutrition felt {cfg['delay']} meal(s) later; "
                         f"correlation {cfg['train_correlation']} → {cfg['shifted_correlation']}"),
               ("adjacent levels (rho)", pairs),
               ("product of the links above each level (rho if each level were a noisy copy of the one above)",
                products),
               ("wall time", f"{h['wall_seconds']:.0f} s")]
    sections = [
        Section("What does each level of the chain optimize?", EXPLANATION, table=summary_table(report)),
        Section("Objective correlations", "Each level's objective against fitness, at the default pressures.",
                images=[("correlations", _correlation_png(report))]),
        Section("Pressure", "True fitness and the level's own objective against its pressure, the other levels "
                "at their defaults.", images=[(name, _pressure_png(report, name)) for name in h["levels"]]),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="nested: evolution → learner → planner",
                             summary_rows=summary, sections=sections)
