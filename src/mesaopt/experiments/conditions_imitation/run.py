"""Run ``conditions-imitation``: one level per imitated walker, the same recurrent thinker trained on each walker's
cells, measured for learned search; then, per network, whether its compute tracks the rounds of a search
(``detectors.search``: the iteration at which each larger maze is first solved, against each candidate's rounds)."""

from __future__ import annotations

import dataclasses
import functools
import time

import jax
import numpy as np

from mesaopt.detectors import search
from mesaopt.experiments.conditions_imitation.config import ConditionsImitationConfig
from mesaopt.experiments.shared.common import take
from mesaopt.experiments.shared.icl import ci_summary
from mesaopt.experiments.shared.thinker_conditions import LevelSpec, make_pool_trainer, relabel, run_levels, \
    summarize_measures
from mesaopt.tasks.maze_paths import MazePathTask, draw_maze_batch
from mesaopt.tasks.maze_walks import walk_moves

LABELS = {"path": "imitates the BFS planner", "wall_follower": "imitates the wall follower"}
"""Level names by target."""
TRACKED = ("path_length", "dead_end_filling", "wall_follower_moves")
"""Rounds the solve iterations are regressed on: a BFS wavefront from the start reaches the goal, dead-end filling
converges, the wall follower's walk (moves) ends."""
MIN_FIT_MAZES = 10
"""Solved mazes a network needs for its R² to count (a line through 3 or 4 points says little)."""
PROBE_MAZES = 32
"""Training-side mazes whose hidden states the algorithm probes read (half to fit, half to score)."""


def imitation_levels(cfg: ConditionsImitationConfig) -> list[LevelSpec]:
    """One level per target: the same thinker and loss, trained on that walker's cells."""
    return [LevelSpec(LABELS[t], make_pool_trainer(cfg.setup, target=t), cfg.setup.train_iterations, target=t)
            for t in cfg.targets]


@functools.partial(jax.jit, static_argnums=3)
def _solve_iterations(model, images, target, iterations: int):
    return search.solve_iterations(search.correct_by_iteration(model, images, target, iterations))


def compute_tracking(cfg: ConditionsImitationConfig, levels, kept, key) -> dict[str, dict[str, list]]:
    """Per level and :data:`TRACKED` measure, the R² per seed of the line ``solve iteration ≈ a × rounds + b`` on
    fresh larger mazes (each network scored against its own target; None for a network that solved fewer than
    :data:`MIN_FIT_MAZES`), and ``solved``: the mazes each fit used."""
    batch = draw_maze_batch(key, MazePathTask(cfg.setup.extrapolation_side), cfg.setup.eval_mazes)
    walked = np.asarray(relabel(batch, "wall_follower").path)
    difficulty = search.difficulty_of(batch.images)
    rounds = {"path_length": difficulty["path_length"], "dead_end_filling": difficulty["dead_end_filling"],
              "wall_follower_moves": walk_moves(walked, np.asarray(batch.path))}
    out = {}
    for level, params in zip(levels, kept):
        target = relabel(batch, level.target).path
        fits = [search.fit_solve_iterations(np.asarray(_solve_iterations(
            level.trainer.model(take(params, s)), batch.images, target, max(cfg.setup.test_iterations))), rounds)
            for s in range(cfg.n_seeds)]
        out[level.label] = {name: [fit[name]["r2"] if fit[name]["n"] >= MIN_FIT_MAZES else None for fit in fits]
                            for name in TRACKED}
        out[level.label]["solved"] = [fit[TRACKED[0]]["n"] for fit in fits]
    return out


def r2_summary(per_seed: list) -> tuple:
    """Mean and 95 % interval of the R² of the seeds that have one; ``(None, [None, None])`` if none has."""
    kept = [r for r in per_seed if r is not None]
    if not kept:
        return None, [None, None]
    cell = ci_summary(kept, clip=(0.0, 1.0))
    return round(cell["mean"], 4), [round(x, 4) for x in cell["ci"]]


def algorithm_probes(cfg: ConditionsImitationConfig, levels, kept, images) -> dict[str, dict[str, list[float]]]:
    """Per level and candidate algorithm (:data:`mesaopt.tasks.maze_algorithms.CANDIDATES`), each network's
    held-out probe score: can a linear probe read that algorithm's per-cell state, round by round, from the hidden
    state (:func:`mesaopt.detectors.search.probe_candidates`)?"""
    states_of = jax.jit(search.hidden_states, static_argnums=2)
    out = {}
    for level, params in zip(levels, kept):
        scores = [search.probe_candidates(states_of(level.trainer.model(take(params, s)), images,
                                                    level.train_iterations), images) for s in range(cfg.n_seeds)]
        out[level.label] = {name: [seed[name]["score"] for seed in scores] for name in scores[0]}
    return out


def probe_fields(levels, probes: dict) -> dict:
    """``algorithm_match`` (+ ``_ci``): candidate -> per-level mean probe score; ``best_matching_algorithm`` per
    level (the best mean, if it reaches ``search.MATCH_THRESHOLD``; else "none")."""
    names = list(probes[levels[0].label])
    cells = {n: [ci_summary(probes[lv.label][n], clip=(0.0, 1.0)) for lv in levels] for n in names}
    match = {n: [round(c["mean"], 4) for c in cells[n]] for n in names}
    best = [search.best_match({n: {"score": match[n][i]} for n in names}) for i in range(len(levels))]
    return {"algorithm_match": match, "best_matching_algorithm": best,
            "algorithm_match_ci": {n: [[round(x, 4) for x in c["ci"]] for c in cells[n]] for n in names}}


def headline(cfg: ConditionsImitationConfig, levels, arm: dict, tracking: dict, probes: dict, cells: list[float],
             wall: float) -> dict:
    """The stable names (docs/conditions.md)."""
    h = {"factor": "imitation", "levels": [lv.label for lv in levels], "targets": list(cfg.targets),
         "target_cells": cells, **summarize_measures(arm["per_seed"])}
    for name in TRACKED:
        summaries = [r2_summary(tracking[lv.label][name]) for lv in levels]
        h[f"r2_{name}"], h[f"r2_{name}_ci"] = [c[0] for c in summaries], [c[1] for c in summaries]
    h["r2_networks"] = [sum(r is not None for r in tracking[lv.label][TRACKED[0]]) for lv in levels]
    h.update(probe_fields(levels, probes))
    h["n_seeds"], h["wall_seconds"] = cfg.n_seeds, round(wall, 2)
    return h


def run_conditions_imitation(cfg: ConditionsImitationConfig, ctx) -> dict:
    """Train and measure every level; the headline."""
    started = time.perf_counter()
    cfg = cfg.resolved()
    cfg.validate()
    k_levels, k_track, k_cells = jax.random.split(jax.random.key(cfg.seed), 3)
    levels = imitation_levels(cfg)
    arm = run_levels(cfg.setup, levels, cfg.n_seeds, ctx, k_levels, keep_params=True)
    kept = arm.pop("params")
    ctx.phase("does compute track a search? solve iterations on larger mazes")
    tracking = compute_tracking(cfg, levels, kept, k_track)
    sample = draw_maze_batch(k_cells, MazePathTask(cfg.setup.side), cfg.setup.eval_mazes)
    cells = [round(float(np.asarray(relabel(sample, t).path).sum(axis=(-2, -1)).mean()), 2) for t in cfg.targets]
    ctx.phase("which algorithm? linear probes of the hidden state")
    probes = algorithm_probes(cfg, levels, kept, sample.images[:PROBE_MAZES])
    wall = time.perf_counter() - started
    return {"preset": "conditions-imitation",
            "headline": headline(cfg, levels, arm, tracking, probes, cells, wall), **arm,
            "tracking_per_seed": tracking, "probes_per_seed": probes, "timings": {"wall_seconds": round(wall, 2)},
            "config": dataclasses.asdict(cfg)}
