"""Run ``evolutionary-suicide``: simulate every population of every (treatment, fecundity) cell in one compiled
program, then count extinctions."""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.stats import wilson_interval
from mesaopt.experiments.evolutionary_suicide.config import EvolutionarySuicideConfig
from mesaopt.experiments.shared.common import curve_indices
from mesaopt.experiments.shared.icl import timing_summary
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.sexual_selection import SexualSelection


def simulate(cfg: EvolutionarySuicideConfig, ctx) -> tuple[dict, dict]:
    """Every population's records ``{name: [populations, generations]}`` and the driver's timings."""
    model = SexualSelection(generations=cfg.generations, capacity=cfg.capacity, founders=cfg.founders)
    params = jax.tree.map(jnp.asarray, cfg.population_params())
    keys = jax.random.split(jax.random.key(cfg.seed), params.fecundity.shape[0])
    _, records, timings = train_in_chunks(model, keys, params, cfg.n_chunks, on_chunk=ctx.on_chunk,
                                          store=ctx.checkpoints)
    ctx.phase("counting extinctions")
    return records, timings


def extinction_generation(population: np.ndarray) -> np.ndarray:
    """``(populations,)``: the first generation (1-based) with no adult, 0 for a population still alive."""
    extinct = population == 0
    return np.where(extinct.any(axis=1), np.argmax(extinct, axis=1) + 1, 0)


def summarize_cell(population: np.ndarray, ornament: np.ndarray) -> dict:
    """Extinction share (Wilson 95 % interval), median generations to extinction (None: no extinction) and the
    survivors' final mean ornament (None: none survived), of one cell's populations ``[populations, gens]``."""
    when = extinction_generation(population)
    extinct = when > 0
    low, high = wilson_interval(int(extinct.sum()), len(when))
    alive = ~extinct
    return {"extinct_fraction": round(float(extinct.mean()), 4), "extinct_fraction_ci": [round(low, 4), round(high, 4)],
            "median_generations_to_extinction": float(np.median(when[extinct])) if extinct.any() else None,
            "final_ornament_survivors": round(float(ornament[alive, -1].mean()), 4) if alive.any() else None}


def cell_trajectories(population: np.ndarray, ornament: np.ndarray, idx: np.ndarray) -> dict:
    """Median population size and the mean ornament of the populations still alive, at generations ``idx``."""
    alive = population[:, idx] > 0
    counts = np.maximum(alive.sum(axis=0), 1)
    mean_ornament = np.where(alive.any(axis=0), (ornament[:, idx] * alive).sum(axis=0) / counts, np.nan)
    return {"median_population": np.median(population[:, idx], axis=0).round(1).tolist(),
            "mean_ornament_alive": [None if np.isnan(v) else round(float(v), 4) for v in mean_ornament]}


def run_evolutionary_suicide(cfg: EvolutionarySuicideConfig, ctx) -> dict:
    """Simulate, summarize every cell, return the report."""
    started = time.perf_counter()
    cfg.validate()
    records, timings = simulate(cfg, ctx)
    population = np.asarray(records["population"])
    ornament = np.asarray(records["mean_ornament_males"])
    idx = curve_indices(cfg.generations)
    cells, trajectories = {}, {}
    for i, (treatment, fecundity) in enumerate(cfg.cells()):
        rows = slice(i * cfg.populations, (i + 1) * cfg.populations)
        cells.setdefault(treatment, []).append(summarize_cell(population[rows], ornament[rows]))
        trajectories.setdefault(treatment, []).append(cell_trajectories(population[rows], ornament[rows], idx))
    wall = time.perf_counter() - started
    return {"preset": "evolutionary-suicide", "headline": headline(cfg, cells, wall), "cells": cells,
            "trajectories": {"generation": (idx + 1).tolist(), "by_treatment": trajectories},
            "timings": timing_summary(timings, population.shape[0], wall),
            "config": dataclasses.asdict(cfg)}


def headline(cfg: EvolutionarySuicideConfig, cells: dict, wall: float) -> dict:
    """The stable names (see docs/evolution.md)."""
    def per_treatment(key):
        return {t: [c[key] for c in cells[t]] for t in cfg.treatments}

    return {"fecundities": list(cfg.fecundities), "extinct_fraction": per_treatment("extinct_fraction"),
            "extinct_fraction_ci": per_treatment("extinct_fraction_ci"),
            "median_generations_to_extinction": per_treatment("median_generations_to_extinction"),
            "final_ornament_survivors": per_treatment("final_ornament_survivors"),
            "threshold_fecundity": round(cfg.threshold_fecundity, 3), "generations": cfg.generations,
            "n_runs": cfg.populations, "wall_seconds": round(wall, 2)}
