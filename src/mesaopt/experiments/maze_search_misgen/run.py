"""Preset ``maze-search-misgen``: what does a learned maze search search *for*, when in training the goal marker
and a proxy coincide?

Recurrent thinking networks (as in ``maze-search``) are trained on mazes whose goal always lies in the top-right
r × r block of rooms, for several r (the conditions). On the shifted test the goal marker is outside the block: a
network that follows the marker draws the path to it (goal); one that learned "go to the top-right" draws a path
into the block (proxy). Knutson et al. (2024) report that such networks' extrapolation "is not immune to goal
misgeneralization"; this measures it per condition with confidence intervals over seeds. ``mesaopt inspect`` adds
the search detectors and a verdict per condition.
"""

from __future__ import annotations

import dataclasses
import time

import jax

from mesaopt.experiments.maze_search_misgen.config import MazeSearchMisgenConfig
from mesaopt.experiments.maze_search_misgen.evaluate import evaluate_conditions
from mesaopt.experiments.maze_search_misgen.train import checkpoint_metadata, make_trainer, run_regions
from mesaopt.experiments.shared.icl import ci_summary, loss_curves, save_params, supervised_loader, timing_summary
from mesaopt.optimizers.chunks import train_in_chunks

RATES = ("in_dist_accuracy", "goal_rate", "proxy_rate", "both_rate", "other_rate")
"""Per-network measurements, each summarised per condition."""


def train_networks(cfg: MazeSearchMisgenConfig, key, ctx):
    """Every (condition, seed) network in one compiled program, a device's runs one after the other."""
    trainer = make_trainer(cfg)
    ctx.phase("training")
    state, metrics, timings = train_in_chunks(trainer, jax.random.split(key, cfg.n_runs), run_regions(cfg),
                                              cfg.n_chunks, on_chunk=ctx.on_chunk, store=ctx.checkpoints,
                                              sequential_runs=True)
    save_params(ctx.writer, state.params, checkpoint_metadata(cfg))
    return trainer, state.params, metrics, timings


def run_maze_search_misgen(cfg: MazeSearchMisgenConfig, ctx) -> dict:
    """Train, measure goal vs proxy per condition; the report."""
    started = time.perf_counter()
    cfg.validate()
    k_train, k_test = jax.random.split(jax.random.key(cfg.seed))
    trainer, params, metrics, timings = train_networks(cfg, k_train, ctx)
    ctx.phase("evaluating")
    per_seed, examples = evaluate_conditions(cfg, trainer, params, k_test)
    wall = time.perf_counter() - started
    rates = {name: [ci_summary(row, clip=(0.0, 1.0)) for row in per_seed[name]] for name in RATES}
    return {
        "preset": "maze-search-misgen",
        "headline": headline(cfg, rates, wall),
        "rates": rates, "examples": examples,
        "learning_curves": loss_curves(metrics),
        "timings": timing_summary(timings, cfg.n_runs, wall),
        "config": dataclasses.asdict(cfg),
    }


def headline(cfg: MazeSearchMisgenConfig, rates: dict, wall: float) -> dict:
    """The stable headline (names from issue 14; documented in docs/maze-search.md)."""
    out = {"conditions": list(cfg.goal_regions), "test_side": cfg.test_side}
    for name, key in (("goal_rate", "goal_rate_shifted"), ("proxy_rate", "proxy_rate_shifted"),
                      ("both_rate", "both_rate_shifted"), ("other_rate", "other_rate_shifted"),
                      ("in_dist_accuracy", "in_dist_accuracy")):
        out[key] = [r["mean"] for r in rates[name]]
        out[f"{key}_ci"] = [r["ci"] for r in rates[name]]
    return {**out, "n_seeds": cfg.n_seeds, "wall_seconds": round(wall, 2)}


load_trained_thinkers = supervised_loader(MazeSearchMisgenConfig(), make_trainer, checkpoint_metadata)
"""``load(run_dir) -> (cfg, trainer, params)``; run ``c * n_seeds + s`` is condition ``c``'s seed ``s``."""
