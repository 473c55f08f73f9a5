"""Run ``optimal-reward``: search the reward of a bounded Q-learner at every level of the knob (all runs in one
compiled program), then compare each searched reward with fitness-as-reward on the same lifetimes."""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.stats import mean_ci
from mesaopt.experiments.optimal_reward.config import OptimalRewardConfig
from mesaopt.experiments.shared.common import curve_indices
from mesaopt.experiments.shared.icl import ci_summary, timing_summary
from mesaopt.models.q_learner import FITNESS_AS_REWARD, INTERNAL_STATES, LearnerSettings, lifetime_meals
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.evolution import make_evolution


def reward_fitness(cfg: OptimalRewardConfig):
    """``fitness(weights, key, settings)``: mean meals over ``lifetimes_per_evaluation`` fresh lifetimes."""
    def fitness(weights, key, settings):
        keys = jax.random.split(key, cfg.lifetimes_per_evaluation)
        meals = jax.vmap(lambda k: lifetime_meals(weights, k, cfg.task, cfg.learner, settings,
                                                  cfg.longest_lifetime))(keys)
        return jnp.mean(meals)

    return fitness


def search_rewards(cfg: OptimalRewardConfig, ctx):
    """Every run's searched reward (the search distribution's centre), fitness curves, timings."""
    evolution = make_evolution(cfg.evolution, lambda k: FITNESS_AS_REWARD, reward_fitness(cfg))
    settings = LearnerSettings(**{k: jnp.asarray(v) for k, v in cfg.run_settings().items()})
    keys = jax.random.split(jax.random.key(cfg.seed), settings.lifetime.shape[0])
    state, metrics, timings = train_in_chunks(evolution, keys, settings, cfg.n_chunks, on_chunk=ctx.on_chunk,
                                              store=ctx.checkpoints)
    ctx.phase("comparing with fitness-as-reward")
    return np.asarray(jax.vmap(evolution.center_genome)(state)), metrics, timings


def meals_fn(cfg: OptimalRewardConfig):
    """``meals(weights [rows, 4], settings, key) -> [rows, eval_lifetimes]``, jitted once: every row of weights on
    the same ``eval_lifetimes`` lifetimes (layouts and luck)."""
    def meals(weights, settings, key):
        keys = jax.random.split(key, cfg.eval_lifetimes)
        one_row = jax.vmap(lambda k, w: lifetime_meals(w, k, cfg.task, cfg.learner, settings, cfg.longest_lifetime),
                           in_axes=(0, None))
        return jax.vmap(lambda w: one_row(keys, w))(weights)

    return jax.jit(meals)


def normalized(weights: np.ndarray) -> np.ndarray:
    """Rewards divided by their largest magnitude (a positive rescaling leaves a Q-learner's choices unchanged)."""
    return weights / np.maximum(np.abs(weights).max(axis=-1, keepdims=True), 1e-12)


def compare_level(cfg: OptimalRewardConfig, meals, searched: np.ndarray, settings: LearnerSettings, key) -> dict:
    """One level: the searched rewards and fitness-as-reward on the same lifetimes."""
    rows = np.concatenate([searched, np.asarray(FITNESS_AS_REWARD)[None]]).astype(np.float32)
    per_life = np.asarray(meals(jnp.asarray(rows), settings, key))
    searched_meals, fitness_meals = per_life[:-1], per_life[-1]
    paired = searched_meals.mean(axis=0) - fitness_meals  # per lifetime: the searched rewards' mean minus fitness's
    margin, low, high = mean_ci(paired, clip=None)
    fit_mean, fit_low, fit_high = mean_ci(fitness_meals, clip=None)
    shares = normalized(searched)
    return {"reward": {name: ci_summary(shares[:, i]) for i, name in enumerate(INTERNAL_STATES)},
            "raw_rewards": searched.round(4).tolist(),
            "best_fitness": ci_summary(searched_meals.mean(axis=1)),
            "fitness_reward_fitness": {"mean": round(float(fit_mean), 3),
                                       "ci": [round(float(fit_low), 3), round(float(fit_high), 3)]},
            "margin": {"mean": round(float(margin), 3), "ci": [round(float(low), 3), round(float(high), 3)]},
            "values_quenching": ci_summary(shares[:, 2] - shares[:, 3])}


def run_optimal_reward(cfg: OptimalRewardConfig, ctx) -> dict:
    """Search, compare every level, return the report."""
    started = time.perf_counter()
    cfg.validate()
    searched, metrics, timings = search_rewards(cfg, ctx)
    settings = cfg.run_settings()
    meals, key = meals_fn(cfg), jax.random.fold_in(jax.random.key(cfg.seed), 1)
    levels = []
    for i in range(len(cfg.levels)):
        first = i * cfg.n_seeds
        level_settings = LearnerSettings(**{k: jnp.asarray(v[first]) for k, v in settings.items()})
        levels.append(compare_level(cfg, meals, searched[first:first + cfg.n_seeds], level_settings, key))
    wall = time.perf_counter() - started
    idx = curve_indices(cfg.evolution.generations)
    curves = {"generation": (idx + 1).tolist(),
              "best_fitness_so_far": np.asarray(metrics["best_fitness_so_far"])[:, idx].round(3).tolist()}
    return {"preset": "optimal-reward", "headline": headline(cfg, levels, wall), "levels": levels,
            "search_curves": curves, "timings": timing_summary(timings, len(searched), wall),
            "config": dataclasses.asdict(cfg)}


def headline(cfg: OptimalRewardConfig, levels: list[dict], wall: float) -> dict:
    """The stable names (docs/evolution.md); lists are aligned with ``levels``."""
    names = [f"{v:g}" for v in cfg.levels]
    out = {"knob": cfg.knob, "levels": [int(v) if cfg.knob == "lifetime" else float(v) for v in cfg.levels],
           "best_reward": {n: {s: lv["reward"][s]["mean"] for s in INTERNAL_STATES} for n, lv in zip(names, levels)}}
    for key in ("best_fitness", "fitness_reward_fitness", "margin", "values_quenching"):
        out[key] = [lv[key]["mean"] for lv in levels]
        out[f"{key}_ci"] = [lv[key]["ci"] for lv in levels]
    out["n_seeds"], out["wall_seconds"] = cfg.n_seeds, round(wall, 2)
    return out
