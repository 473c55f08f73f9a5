"""The ``report.html`` of an ``optimal-reward`` run and its terminal table, from ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.experiments.shared.evolution import best_so_far_png
from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes

EXPLANATION = (
    "Where do rewards come from? (Singh, Lewis & Barto 2009). A Q-learner lives in a small room with food and "
    "water in two corners; it can eat only when not thirsty, and fitness is the number of meals in its lifetime. "
    "Its reward is four numbers, one per internal state (sated or hungry, quenched or thirsty), which a search "
    "(CMA-ES, starting at fitness-as-reward: 1 when sated, else 0) sets to make the learner as fit as possible. "
    "The best reward is not the fitness: for a bounded learner (short life, epsilon-greedy exploration, values "
    "starting at 0) a reward that also punishes hunger and values being quenched (which fitness ignores) makes it "
    "fitter. 'margin' is the searched rewards' meals minus fitness-as-reward's on the same lifetimes (95 % "
    "t-interval over lifetimes); 'values quenching' is the searched reward of hungry-and-quenched minus "
    "hungry-and-thirsty, as a share of the reward's largest magnitude (over searches)."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per level."""
    h = report["headline"]
    rows = [[h["knob"], "meals: searched reward", "meals: fitness as reward", "margin", "values quenching"]]
    for i, level in enumerate(h["levels"]):
        rows.append([f"{level:g}"] + [mean_with_ci(h[k][i], h[f"{k}_ci"][i], 1) for k in
                                      ("best_fitness", "fitness_reward_fitness", "margin")]
                    + [mean_with_ci(h["values_quenching"][i], h["values_quenching_ci"][i])])
    return rows


def _reward_table(report: dict) -> list[list[str]]:
    h = report["headline"]
    states = list(next(iter(h["best_reward"].values())))
    rows = [[h["knob"], *states]]
    for name, reward in h["best_reward"].items():
        rows.append([name, *(f"{reward[s]:+.3f}" for s in states)])
    rows.append(["fitness as reward", "+1.000", "+1.000", "+0.000", "+0.000"])
    return rows


def _fitness_png(report: dict) -> bytes:
    h = report["headline"]

    def band(key):
        ci = np.asarray(h[f"{key}_ci"], float)
        return np.asarray(h[key], float), ci[:, 0], ci[:, 1]

    fig = plot_curves(h["levels"], {"searched reward": band("best_fitness"),
                                    "fitness as reward": band("fitness_reward_fitness")},
                      xlabel=h["knob"], ylabel="meals per lifetime", title="Fitness of the learner, by its reward")
    return figure_png_bytes(fig)


def write_optimal_reward_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, t, cfg = report["headline"], report["timings"], report["config"]
    ev = cfg["evolution"]
    summary = [("searches", f"{h['n_seeds']} per level, {ev['strategy']} population {ev['population_size']} for "
                            f"{ev['generations']} generations"),
               ("learner", f"Q-learning, lifetime {cfg['learner']['lifetime']}, learning rate "
                           f"{cfg['learner']['learning_rate']}, exploration {cfg['learner']['exploration']} "
                           f"(the swept one varies)"),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"search {t['train_seconds']:.0f} s)")]
    sections = [
        Section("Does the best reward differ from fitness?", EXPLANATION, table=summary_table(report)),
        Section("The searched rewards", "Mean over searches of each reward divided by its largest magnitude.",
                table=_reward_table(report)),
        Section("Fitness", "Meals per lifetime on the same lifetimes.", images=[("fitness", _fitness_png(report))]),
        Section("Search", "The fittest reward so far, per generation.", images=[("search", best_so_far_png(
                report, "search_curves", "best fitness so far (mean of searches)", "Reward search"))]),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="optimal-reward: where do rewards come from?",
                             summary_rows=summary, sections=sections)
