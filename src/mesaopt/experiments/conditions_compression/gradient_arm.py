"""The gradient-descent arm of ``conditions-compression``: recurrent thinkers trained with more or less
description-length pressure (AdamW weight decay) or under time pressure (the every-iteration loss), each on a fresh
maze per example, then the learned-search measurements."""

from __future__ import annotations

import dataclasses

import jax
import numpy as np

from mesaopt.experiments.shared.icl import ci_summary
from mesaopt.experiments.shared.thinker_conditions import (FRESH, accuracy_ladders, make_pool_trainer, pool_problems,
                                                           search_measures, train_pool_runs)
from mesaopt.runs.resume import ChunkCheckpoints

MEASURES = ("train_accuracy", "novel_accuracy", "extrapolation_accuracy", "thinking_gain")
"""Per-network measurements, per level with a 95 % t-interval over seeds."""


def level_trainers(cfg) -> list:
    """One trainer per level of ``cfg.gd_levels``."""
    trainers = [make_pool_trainer(cfg.setup, weight_decay=wd) for wd in cfg.weight_decays]
    if cfg.time_pressure:
        trainers.append(make_pool_trainer(cfg.setup, loss="every_iteration", weight_decay=0.0))
    return trainers


def _store(ctx, index: int):
    """Level ``index``'s own chunk store (each level's training resumes from its own chunks)."""
    if ctx.checkpoints is None:
        return None
    return ChunkCheckpoints(ctx.writer.work_dir, tag=f"gradient-{index}")


def run_gradient_arm(cfg, ctx, key) -> dict:
    """Train every level's networks (one compiled program per level), measure them: ``{measure: [levels,
    seeds]}`` plus each level's final training loss."""
    k_pools, k_train, k_eval = jax.random.split(key, 3)
    per_level = {name: [] for name in MEASURES}
    losses = []
    for i, (label, trainer) in enumerate(zip(cfg.gd_levels, level_trainers(cfg))):
        ctx.phase(f"gradient arm, {label}: training {cfg.gd_seeds} networks ({cfg.setup.steps} steps each)")
        problems = pool_problems([FRESH] * cfg.gd_seeds, jax.random.fold_in(k_pools, i))
        scoped = ctx if i == 0 else dataclasses.replace(ctx, checkpoints=_store(ctx, i))
        params, final_loss, _ = train_pool_runs(cfg.setup, trainer, problems, jax.random.fold_in(k_train, i), scoped)
        measures = search_measures(cfg.setup, accuracy_ladders(cfg.setup, trainer, params, problems, k_eval))
        for name in MEASURES:
            per_level[name].append(measures[name])
        losses.append(final_loss)
    return {"per_seed": {k: np.round(np.asarray(v), 4).tolist() for k, v in per_level.items()},
            "final_loss": np.round(np.asarray(losses), 5).tolist()}


def gradient_headline(cfg, arm: dict) -> dict:
    """The factor's stable names, aligned with ``levels``."""
    out = {"levels": cfg.gd_levels, "n_seeds": cfg.gd_seeds}
    for name in MEASURES:
        clip = (-1.0, 1.0) if name == "thinking_gain" else (0.0, 1.0)
        cells = [ci_summary(row, clip=clip) for row in arm["per_seed"][name]]
        out[name] = [round(c["mean"], 4) for c in cells]
        out[f"{name}_ci"] = [[round(x, 4) for x in c["ci"]] for c in cells]
    return out
