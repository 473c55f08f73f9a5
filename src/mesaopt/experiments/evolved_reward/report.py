"""The ``report.html`` of an ``evolved-reward`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.experiments.shared.evolution import best_so_far_png
from mesaopt.reports.evidence_html import evidence_sections
from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "Evolution is the base optimizer, lifetime nutrition its objective (fitness). What it selects is a reward "
    "function: the weights with which a lifetime learner values what it can sense, the sweetness it tastes at once "
    "and the nutrition it feels D steps after a meal. The learner is bounded (it credits each reward to the meal "
    "just eaten), and it learns anew in every lifetime which of six kinds of food to prefer. In the ancestral world "
    "sweetness and nutrition agree (correlation 0.9); the junk-food world reverses them. The evolved reward is the "
    "mesa-objective: with no delay evolution can install nutrition itself; with a delay, nutrition cannot teach "
    "the bounded learner, and evolution installs the cue (the sweet tooth), which wins in the ancestral world and "
    "fails when the world changes. 'lost under shift' is 1 - shifted fitness / the omniscient forager's; the "
    "behavioural objective is read from the learner's choices in the junk-food world, where cue and value "
    "disagree. Intervals: 95 % t-intervals over evolutionary runs (the fitness-rewarded learner: over lifetimes)."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per level."""
    h = report["headline"]
    rows = [[h["knob"], "sweetness weight share", "train fitness (fitness-reward)", "shifted fitness "
             "(fitness-reward)", "lost under shift", "behaviour"]]
    for i, level in enumerate(h["levels"]):
        name = list(h["evolved_weights"])[i]
        rows.append([f"{level:g}", f"{h['evolved_weights'][name]['sweetness']:+.2f}",
                     f"{mean_with_ci(h['train_fitness'][i], h['train_fitness_ci'][i], 1)} "
                     f"({h['train_fitness_fitness_reward'][i]:.1f})",
                     f"{mean_with_ci(h['shifted_fitness'][i], h['shifted_fitness_ci'][i], 1)} "
                     f"({h['shifted_fitness_fitness_reward'][i]:.1f})",
                     mean_with_ci(h["fitness_lost_under_shift"][i], h["fitness_lost_under_shift_ci"][i]),
                     h["behavioral_objective"][name]])
    return rows


def _band(h: dict, key: str):
    ci = np.asarray(h[f"{key}_ci"], float)
    return np.asarray(h[key], float), ci[:, 0], ci[:, 1]


def _fitness_png(report: dict) -> bytes:
    h = report["headline"]
    series = {"evolved learner, ancestral world": _band(h, "train_fitness"),
              "evolved learner, junk-food world": _band(h, "shifted_fitness"),
              "fitness-rewarded learner, ancestral": _band(h, "train_fitness_fitness_reward"),
              "fitness-rewarded learner, junk food": _band(h, "shifted_fitness_fitness_reward"),
              "omniscient forager, ancestral": h["achievable_train_fitness"]}
    fig = plot_curves(h["levels"], series, xlabel=h["knob"], ylabel="nutrition per lifetime",
                      title="Fitness of the evolved reward, before and after the shift")
    return figure_png_bytes(fig)


def _weights_png(report: dict) -> bytes:
    h, levels = report["headline"], report["levels"]
    series = {}
    for signal in ("sweetness", "nutrition"):
        stats = [lv["weights"][signal] for lv in levels]
        series[f"{signal} weight share"] = (np.array([s["mean"] for s in stats]), np.array([s["ci"][0] for s in stats]),
                                            np.array([s["ci"][1] for s in stats]))
    fig = plot_curves(h["levels"], series, xlabel=h["knob"], ylabel="w / (|w_sweetness| + |w_nutrition|)",
                      title="What evolution installed as the learner's reward")
    return figure_png_bytes(fig)


def write_evolved_reward_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, t, cfg = report["headline"], report["timings"], report["config"]
    ev = cfg["evolution"]
    summary = [("runs", f"{h['n_seeds']} evolutionary runs per level, {ev['strategy']} population "
                        f"{ev['population_size']} for {ev['generations']} generations"),
               ("worlds", f"ancestral correlation {cfg['train_correlation']}, junk food {cfg['shifted_correlation']}; "
                          f"{cfg['task']['n_types']} kinds, {cfg['task']['lifetime']} meals per life"),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"evolution {t['train_seconds']:.0f} s)")]
    sections = [
        Section("What does evolution make the learner want?", EXPLANATION, table=summary_table(report)),
        Section("Fitness", "Nutrition per lifetime against the knob; the omniscient forager eats the better kind of "
                "every offer.", images=[("fitness", _fitness_png(report))]),
        Section("Evolved weights", "Each weight as a share of the total: +1 = sweetness only, the learner's "
                "reward is the cue; nutrition +1 = fitness itself.", images=[("weights", _weights_png(report))]),
        Section("Evolution", "The fittest genome so far, per generation.", images=[("evolution", best_so_far_png(
                report, "evolution_curves", "best fitness so far (mean of runs)", "Evolution"))]),
        *evidence_sections(report),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="evolved-reward: the sweet tooth",
                             summary_rows=summary, sections=sections)
