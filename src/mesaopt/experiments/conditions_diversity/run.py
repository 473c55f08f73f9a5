"""Run ``conditions-diversity``: every (level, seed) network in one training program, then the learned-search
measurements per network, the N* where search appears, and RLO's toy model fitted to the curve."""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import numpy as np

from mesaopt.detectors.stats import mean_ci
from mesaopt.experiments.conditions_diversity.config import ConditionsDiversityConfig
from mesaopt.experiments.shared.thinker_conditions import (FRESH, accuracy_ladders, make_pool_trainer, pool_problems,
                                                           search_measures, summarize_measures, train_pool_runs)
from mesaopt.theory.search_tradeoff import fit_share_curve

def crossing_log2(log_n: np.ndarray, curve: np.ndarray, threshold: float) -> float:
    """``log2 N`` where ``curve`` first reaches ``threshold`` (linear between levels; inf if it never does)."""
    above = np.flatnonzero(curve >= threshold)
    if above.size == 0:
        return math.inf
    i = int(above[0])
    if i == 0:
        return float(log_n[0])
    lo, hi = curve[i - 1], curve[i]
    return float(log_n[i - 1] + (threshold - lo) / (hi - lo) * (log_n[i] - log_n[i - 1]))


def n_star(effective_n: list[int], novel: np.ndarray) -> dict:
    """N*: where novel-maze accuracy first reaches half way from the mean curve's lowest to its highest level, per
    seed (``novel`` is ``[seeds, levels]``); the geometric mean over seeds with a t-interval on log2 N."""
    log_n = np.log2(np.asarray(effective_n, float))
    mean = novel.mean(axis=0)
    threshold = float(mean.min() + (mean.max() - mean.min()) / 2)
    per_seed = np.array([crossing_log2(log_n, row, threshold) for row in novel])
    finite = per_seed[np.isfinite(per_seed)]
    if finite.size == 0 or mean.max() - mean.min() <= 0:
        return {"n_star": None, "n_star_ci": [None, None], "threshold": round(threshold, 4),
                "per_seed": [None] * len(per_seed)}
    m, low, high = mean_ci(finite, clip=None)
    return {"n_star": round(2**float(m), 2), "n_star_ci": [round(2**float(low), 2), round(2**float(high), 2)],
            "threshold": round(threshold, 4),
            "per_seed": [round(2**float(v), 2) if np.isfinite(v) else None for v in per_seed]}


def toy_model_fit(effective_n: list[int], novel_mean: np.ndarray) -> dict:
    """RLO's run-time share (``theory.search_tradeoff``, power-law cost) fitted to the novel-accuracy curve
    rescaled to [0, 1]."""
    span = float(novel_mean.max() - novel_mean.min())
    if span <= 0:
        return {"family": "power", "fitted": False, "why": "the measured curve is flat"}
    scaled = (novel_mean - novel_mean.min()) / span
    fit = fit_share_curve(effective_n, scaled, family="power")
    return {"family": fit.family, "fitted": True, "c": round(fit.c, 4), "a": fit.a, "budget_bits": fit.budget,
            "r2": fit.r2, "n_half": fit.n_half, "at_grid_edge": fit.at_grid_edge,
            "measured_scaled": np.round(scaled, 4).tolist(),
            "predicted": fit.predicted}


def run_conditions_diversity(cfg: ConditionsDiversityConfig, ctx) -> dict:
    """Train, measure, summarize."""
    started = time.perf_counter()
    cfg = cfg.resolved()
    cfg.validate()
    k_pools, k_train, k_eval = jax.random.split(jax.random.key(cfg.seed), 3)
    sizes = [n if n != "fresh" else FRESH for n in cfg.levels for _ in range(cfg.n_seeds)]
    problems = pool_problems(sizes, k_pools)
    trainer = make_pool_trainer(cfg.setup)
    ctx.phase(f"training {len(sizes)} networks ({len(cfg.levels)} levels x {cfg.n_seeds} seeds, "
              f"{cfg.setup.steps} steps each, side {cfg.setup.side})")
    params, final_loss, timings = train_pool_runs(cfg.setup, trainer, problems, k_train, ctx)
    ctx.phase("measuring: training pool, novel mazes, larger mazes with more iterations")
    measures = search_measures(cfg.setup, accuracy_ladders(cfg.setup, trainer, params, problems, k_eval))
    per_level = {name: values.reshape(len(cfg.levels), cfg.n_seeds) for name, values in measures.items()}
    wall = time.perf_counter() - started
    return {"preset": "conditions-diversity", "headline": headline(cfg, per_level, wall),
            "per_seed": {name: np.round(v, 4).tolist() for name, v in per_level.items()},
            "final_loss": np.round(final_loss.reshape(len(cfg.levels), cfg.n_seeds), 5).tolist(),
            "timings": {"wall_seconds": round(wall, 2), "compile_seconds": round(timings["compile_seconds"], 2),
                        "train_seconds": round(timings["train_seconds"], 2),
                        "train_steps_per_second": round(len(sizes) * timings["trained_updates"]
                                                        / max(timings["train_seconds"], 1e-9))},
            "config": dataclasses.asdict(cfg)}


def headline(cfg: ConditionsDiversityConfig, per_level: dict, wall: float) -> dict:
    """The stable names (docs/conditions.md): lists aligned with ``levels``."""
    out = {"factor": "diversity", "levels": cfg.levels, "effective_n": cfg.effective_n,
           **summarize_measures(per_level)}
    star = n_star(cfg.effective_n, per_level["novel_accuracy"].T)
    out.update({"n_star": star["n_star"], "n_star_ci": star["n_star_ci"], "n_star_per_seed": star["per_seed"],
                "n_star_threshold": star["threshold"],
                "toy_model_fit": toy_model_fit(cfg.effective_n, np.asarray(out["novel_accuracy"]))})
    out["n_seeds"], out["wall_seconds"] = cfg.n_seeds, round(wall, 2)
    return out
