"""Preset ``maze-search``: do recurrent maze solvers trained on small mazes search, and which search?

A weight-tied recurrent "thinking" network and its untied fixed-depth control are trained on small mazes (several
sides at once), then tested on larger mazes with a ladder of test-time iterations. A network that learned an
iterative search (Schwarzschild et al. 2021; Bansal et al. 2022) solves mazes several times larger when it may
think longer; the control cannot. The search detectors (:mod:`mesaopt.detectors.search`) then ask whether its
compute tracks a candidate algorithm's rounds, which candidate its hidden state matches, and whether its target
moves with the goal marker.
"""

from __future__ import annotations

import dataclasses
import time

import jax
import numpy as np

from mesaopt.detectors.path_failures import FAILURE_KINDS
from mesaopt.experiments.maze_search.config import MODEL_KINDS, MazeSearchConfig
from mesaopt.experiments.maze_search.evaluate import (accuracy_grid, path_erasure_by_seed, readout_frames,
                                                      search_evidence, test_batches)
from mesaopt.experiments.maze_search.train import checkpoint_metadata, make_trainer
from mesaopt.experiments.shared.common import stored_config, take
from mesaopt.experiments.shared.icl import ci_summary, loss_curves, timing_summary
from mesaopt.runs.checkpoints import load_checkpoint, save_checkpoint
from mesaopt.runs.resume import ChunkCheckpoints
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.tasks.maze_algorithms import CANDIDATES


def _store_for(ctx, kind: str):
    """The chunk-checkpoint store of one model class's training phase (the driver's for the first)."""
    if ctx.checkpoints is None or kind == MODEL_KINDS[0]:
        return ctx.checkpoints
    return ChunkCheckpoints(ctx.writer.work_dir, tag=kind)


def train_model_class(cfg: MazeSearchConfig, kind: str, key, ctx):
    """Train ``n_seeds`` networks of one class in one compiled program; store them; ``(trainer, params, metrics,
    timings)``."""
    trainer = make_trainer(cfg, kind)
    ctx.phase(f"training {kind}")
    state, metrics, timings = train_in_chunks(trainer, jax.random.split(key, cfg.n_seeds), np.zeros(cfg.n_seeds),
                                              cfg.n_chunks, on_chunk=ctx.on_chunk, store=_store_for(ctx, kind),
                                              sequential_runs=True)
    save_checkpoint(ctx.writer.path(f"checkpoints/{kind}.safetensors"), state.params, checkpoint_metadata(cfg, kind))
    return trainer, state.params, metrics, timings


def summarize_grid(grid: np.ndarray) -> dict:
    """Mean and 95 % t-interval over seeds of a ``(seeds, sides, iterations)`` accuracy grid."""
    cells = [[ci_summary(grid[:, j, i], clip=(0.0, 1.0)) for i in range(grid.shape[2])] for j in range(grid.shape[1])]
    return {"mean": [[c["mean"] for c in row] for row in cells], "ci": [[c["ci"] for c in row] for row in cells],
            "per_seed": np.round(grid, 4).tolist()}


def run_maze_search(cfg: MazeSearchConfig, ctx) -> dict:
    """Train both model classes, evaluate the ladder, run the search detectors, write checkpoints; the report."""
    started = time.perf_counter()
    cfg.validate()
    cfg = cfg.resolved()
    k_train, k_test, k_search = jax.random.split(jax.random.key(cfg.seed), 3)
    train_keys = dict(zip(MODEL_KINDS, jax.random.split(k_train, len(MODEL_KINDS))))
    batches = test_batches(cfg, k_test)
    grids, curves, timings, recurrent = {}, {}, {}, None
    for kind in MODEL_KINDS:
        trainer, params, metrics, timing = train_model_class(cfg, kind, train_keys[kind], ctx)
        ctx.phase(f"evaluating {kind}")
        grids[kind] = accuracy_grid(cfg, kind, trainer, params, batches)
        curves[kind], timings[kind] = loss_curves(metrics), timing_summary(timing, cfg.n_seeds, 0.0)
        if kind == "recurrent":
            recurrent = (trainer, params)
    ctx.phase("search detectors")
    trainer, params = recurrent
    erasure = path_erasure_by_seed(cfg, trainer, params, batches[cfg.test_sides[-1]])
    evidence = [{**search_evidence(cfg, trainer.model(take(params, s)), k), "path_erasure": erasure[s]}
                for s, k in enumerate(jax.random.split(k_search, cfg.n_seeds))]
    frames = readout_frames(cfg, trainer.model(take(params, 0)), batches[cfg.test_sides[-1]])
    wall = time.perf_counter() - started
    accuracy = {kind: summarize_grid(grid) for kind, grid in grids.items()}
    return {
        "preset": "maze-search",
        "headline": headline(cfg, grids, accuracy, evidence, wall),
        "accuracy": accuracy, "search_evidence": evidence, "readout_frames": frames,
        "learning_curves": curves,
        "timings": combined_timings(timings, wall),
        "config": dataclasses.asdict(cfg),
    }


def combined_timings(per_kind: dict, wall: float) -> dict:
    """Compile and train seconds summed over the model classes, training steps/s over all runs, and each class's
    own block."""
    train = sum(t["train_seconds"] for t in per_kind.values())
    steps = sum(t["train_steps_per_second"] * t["train_seconds"] for t in per_kind.values())
    return {"compile_seconds": round(sum(t["compile_seconds"] for t in per_kind.values()), 2),
            "train_seconds": round(train, 2), "train_steps_per_second": round(steps / max(train, 1e-9)),
            "wall_seconds": round(wall, 2), **{kind: {k: v for k, v in t.items() if k != "wall_seconds"}
                                               for kind, t in per_kind.items()}}


def _mean_fit(evidence: list[dict]) -> dict:
    names = evidence[0]["solve_iteration_fit"]
    return {name: {key: round(float(np.mean([e["solve_iteration_fit"][name][key] for e in evidence])), 4)
                   for key in ("slope", "r2")} for name in names}


def mean_cell_fit(evidence: list[dict]) -> dict:
    """The per-cell settle fit averaged over seeds: least-squares slope and R², the rank correlation, the slope of
    the per-round medians, the settled share."""
    fits = [{**e["cell_settle_fit"], "median_slope": e["cell_settle_fit"]["median_fit"]["slope"]} for e in evidence]
    return {key: round(float(np.mean([fit[key] for fit in fits])), 4)
            for key in ("slope", "r2", "rank_corr", "median_slope", "settled_share")}


def _mean_probes(evidence: list[dict]) -> dict:
    return {name: round(float(np.mean([e["probes"][name]["score"] for e in evidence])), 4) for name in CANDIDATES}


def headline(cfg: MazeSearchConfig, grids: dict, accuracy: dict, evidence: list[dict], wall: float) -> dict:
    """The stable headline (names from issue 14; documented in docs/maze-search.md)."""
    train_index = cfg.test_iterations.index(cfg.train_iterations)
    gains = {kind: ci_summary(grid[:, -1, -1] - grid[:, -1, train_index], clip=(-1.0, 1.0))
             for kind, grid in grids.items()}
    fit = _mean_fit(evidence)
    probes = _mean_probes(evidence)
    best = max(probes, key=probes.get)
    return {
        "train_side": cfg.train_side, "test_sides": list(cfg.test_sides), "test_iterations": list(cfg.test_iterations),
        "accuracy": {kind: a["mean"] for kind, a in accuracy.items()},
        "accuracy_ci": {kind: a["ci"] for kind, a in accuracy.items()},
        "in_dist_accuracy": {kind: round(float(grid[:, 0, train_index].mean()), 4) for kind, grid in grids.items()},
        "extrapolation_accuracy": {kind: round(float(grid[:, -1].mean(0).max()), 4) for kind, grid in grids.items()},
        "thinking_gain": {kind: g["mean"] for kind, g in gains.items()},
        "thinking_gain_ci": {kind: g["ci"] for kind, g in gains.items()},
        "solve_iteration_fit": fit,
        "solve_iteration_r2": max(f["r2"] for f in fit.values()),
        "cell_settle_fit": mean_cell_fit(evidence),
        "algorithm_match": probes,
        "best_matching_algorithm": best if probes[best] >= 0.9 else "none",
        "retarget_rate": round(float(np.mean([e["retarget_rate"] for e in evidence])), 4),
        "path_erasure_rate": round(float(np.mean([e["path_erasure"]["rate"] for e in evidence])), 4),
        "failure_kinds": {kind: round(float(np.mean([e["path_erasure"]["failure_kinds"][kind] for e in evidence])), 4)
                          for kind in FAILURE_KINDS},
        "cut_unravel_rate": _mean_or_none([e["cut_test"]["unravel_rate"] for e in evidence]),
        "n_seeds": cfg.n_seeds,
        "wall_seconds": round(wall, 2),
    }


def _mean_or_none(values: list) -> float | None:
    """The mean of the values that are not None (None if all are)."""
    present = [v for v in values if v is not None]
    return round(float(np.mean(present)), 4) if present else None


def load_trained_models(run_dir) -> tuple:
    """``(cfg, trainers, params)`` of a stored run, the last two keyed by model class (``recurrent``,
    ``feedforward``); ``trainers[kind].model(take(params[kind], s))`` is seed ``s``'s network. Raises
    ``NotARunError`` / ``CheckpointError`` (one line) for a directory that is not a complete run of this preset."""
    cfg, record = stored_config(run_dir, MazeSearchConfig())
    cfg = cfg.resolved()
    trainers, params = {}, {}
    for kind in MODEL_KINDS:
        trainers[kind] = make_trainer(cfg, kind)
        keys = jax.random.split(jax.random.key(0), cfg.n_seeds)
        like = jax.eval_shape(jax.vmap(lambda k, t=trainers[kind]: t.init(k, None).params), keys)
        params[kind] = load_checkpoint(f"{record['path']}/checkpoints/{kind}.safetensors", like,
                                       expected_metadata=checkpoint_metadata(cfg, kind))
    return cfg, trainers, params
