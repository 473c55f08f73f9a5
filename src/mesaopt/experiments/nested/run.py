"""Run ``nested``: evolve the learner's reward (all runs in one program), then measure every level's product under
every level's pressure, in the ancestral and the junk-food world."""

from __future__ import annotations

import dataclasses
import functools
import time

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.objective_correlation import objective_correlations
from mesaopt.detectors.stats import mean_ci
from mesaopt.envs.foraging import sample_world
from mesaopt.errors import MesaoptError
from mesaopt.experiments.nested.config import LEVELS, NestedConfig
from mesaopt.models.reward_learner import SIGNALS, live
from mesaopt.models.tree_planner import forage_trip
from mesaopt.optimizers.evolution import make_evolution


def organism(cfg: NestedConfig, weights, key, correlation, lifetime: int, depth: int) -> dict:
    """One life of the chain's product: learn values from the reward ``weights`` for ``lifetime`` meals, then
    forage ``cfg.trips`` trips with a depth-``depth`` planner on the learned values. Per-step means, and every
    level's objective over the world's kinds (for the objective correlations)."""
    k_world, k_life, k_trips = jax.random.split(key, 3)
    world = sample_world(k_world, dataclasses.replace(cfg.task, lifetime=lifetime), correlation)
    life = live(weights, world, k_life, cfg.delay, cfg.learner)
    seeds = jax.random.bits(k_trips, (cfg.trips,), jnp.uint32)
    trips = jax.vmap(lambda s, k: forage_trip(life.values, world.sweetness, world.nutrition, s, cfg.trip_steps,
                                              depth, k))(seeds, jax.random.split(k_trips, cfg.trips))
    steps = cfg.trips * cfg.trip_steps
    # the reward as the learner experiences a kind: sweetness at once; nutrition only when felt at once
    experienced = weights[0] * world.sweetness + (weights[1] * world.nutrition if cfg.delay == 0 else 0.0)
    return {"fitness": (life.nutrition + trips.nutrition.sum()) / (lifetime + steps),
            "trip_nutrition": trips.nutrition.sum() / steps, "planner_objective": trips.learned_value.sum() / steps,
            "learner_objective": life.reward / lifetime,
            "objectives": jnp.stack([world.nutrition, experienced, life.values])}


def fitness_fn(cfg: NestedConfig):
    """Evolution's objective: nutrition per step over ``lifetimes_per_evaluation`` ancestral lives."""
    def fitness(weights, key, correlation):
        keys = jax.random.split(key, cfg.lifetimes_per_evaluation)
        lives = jax.vmap(lambda k: organism(cfg, weights, k, correlation, cfg.task.lifetime, cfg.planner_depth))
        return jnp.mean(lives(keys)["fitness"])
    return fitness


def evolve(cfg: NestedConfig, ctx) -> dict[int, np.ndarray]:
    """``{generation: centre genomes [n_seeds, 2]}`` at every generation level (0: the starting genome, reward
    0); stops with one line if fitness goes non-finite."""
    evolution = make_evolution(cfg.evolution, lambda k: jnp.zeros(len(SIGNALS)), fitness_fn(cfg))
    keys = jax.random.split(jax.random.key(cfg.seed), cfg.n_seeds)
    problems = jnp.full((cfg.n_seeds,), cfg.train_correlation, jnp.float32)
    state = jax.jit(jax.vmap(evolution.init))(keys, problems)
    step, centre = jax.jit(jax.vmap(evolution.step)), jax.jit(jax.vmap(evolution.center_genome))
    out = {0: np.asarray(centre(state))} if 0 in cfg.generation_levels else {}
    for g in range(1, max(cfg.generation_levels) + 1):
        state, metrics = step(state, problems)
        best = np.asarray(metrics.best_fitness)
        if not np.all(np.isfinite(best)):
            raise MesaoptError(f"evolution diverged: best_fitness is not finite at generation {g}")
        if ctx.on_chunk is not None:
            ctx.on_chunk(g, max(cfg.generation_levels), {"best_fitness": best[:, None]})
        if g in cfg.generation_levels:
            out[g] = np.asarray(centre(state))
    return out


@functools.lru_cache(maxsize=32)
def lives_fn(cfg: NestedConfig, lifetime: int, depth: int):
    """``lives(weights [seeds, 2], correlation, key) -> organism outputs [seeds, eval_lifetimes, ...]``, jitted
    (the same worlds for every genome)."""
    def lives(weights, correlation, key):
        keys = jax.random.split(key, cfg.eval_lifetimes)
        one = jax.vmap(lambda k, w: organism(cfg, w, k, correlation, lifetime, depth), in_axes=(0, None))
        return jax.vmap(lambda w: one(keys, w))(weights)
    return jax.jit(lives)


def summarize(per_seed: np.ndarray) -> dict:
    """``{"mean", "ci"}`` over seeds (95 % t-interval)."""
    mean, low, high = mean_ci(np.asarray(per_seed, np.float64), clip=None)
    return {"mean": round(float(mean), 4), "ci": [round(float(low), 4), round(float(high), 4)]}


def measure(cfg: NestedConfig, weights: np.ndarray, lifetime: int, depth: int, key) -> dict:
    """Every level's objective and the true fitness of the genomes ``weights``, in both worlds (per-seed means
    over lifetimes, then intervals over seeds)."""
    # choices are the same for any positive multiple of the weights (values scale with the reward): measure at
    # |w| = 1 so that the learner's and the planner's objectives are in the same units for every run
    weights = weights / np.maximum(np.abs(weights).sum(axis=1, keepdims=True), 1e-12)
    out = {}
    for world, correlation in (("train", cfg.train_correlation), ("shifted", cfg.shifted_correlation)):
        lives = lives_fn(cfg, lifetime, depth)(jnp.asarray(weights, jnp.float32), jnp.float32(correlation), key)
        lives = jax.tree.map(np.asarray, lives)
        corr = objective_correlations(dict(zip([lv.name for lv in LEVELS], np.moveaxis(lives["objectives"], 2, 0))))
        out[world] = {k: summarize(lives[k].mean(axis=1)) for k in ("fitness", "trip_nutrition",
                                                                    "planner_objective", "learner_objective")}
        out[world]["correlation_with_top"] = {n: summarize(r.mean(axis=1)) for n, r in corr["with_top"].items()}
        out[world]["correlation_pairs"] = {n: summarize(r.mean(axis=1)) for n, r in corr["pairs"].items()}
        out[world]["chain_product"] = {n: summarize(r.mean(axis=1)) for n, r in corr["chain_product"].items()}
    return out


OWN_OBJECTIVE = {"evolution": "fitness", "learner": "learner_objective", "planner": "planner_objective"}
"""Which measurement is each level's own objective: evolution's fitness (nutrition per step of a whole life), the
learner's reward per meal, the planner's learned value per step of its trips."""


def sweeps(cfg: NestedConfig, centres: dict[int, np.ndarray], ctx) -> dict:
    """``{level: [measurement per pressure value]}``: each level's pressure swept with the others at their
    defaults (the final genome for the learner and the planner)."""
    key = jax.random.fold_in(jax.random.key(cfg.seed), 1)  # the same test worlds at every point
    final = centres[max(cfg.generation_levels)]
    default = (cfg.task.lifetime, cfg.planner_depth)
    points = {"evolution": [(centres[g], *default) for g in cfg.generation_levels],
              "learner": [(final, life, cfg.planner_depth) for life in cfg.lifetime_levels],
              "planner": [(final, cfg.task.lifetime, d) for d in cfg.depth_levels]}
    out = {}
    for level, settings in points.items():
        ctx.phase(f"measuring: {level} pressure")
        out[level] = [measure(cfg, w, life, depth, key) for w, life, depth in settings]
    return out


def run_nested(cfg: NestedConfig, ctx) -> dict:
    """Evolve, sweep every level's pressure, return the report."""
    started = time.perf_counter()
    cfg.validate()
    centres = evolve(cfg, ctx)
    measured = sweeps(cfg, centres, ctx)
    wall = time.perf_counter() - started
    final = centres[max(cfg.generation_levels)]
    share = final / np.maximum(np.abs(final).sum(axis=1, keepdims=True), 1e-12)
    return {"preset": "nested", "headline": headline(cfg, measured, share, wall), "sweeps": measured,
            "levels": [dataclasses.asdict(lv) for lv in LEVELS], "evolved_weights": final.round(4).tolist(),
            "timings": {"wall_seconds": round(wall, 2)}, "config": dataclasses.asdict(cfg)}


def headline(cfg: NestedConfig, measured: dict, share: np.ndarray, wall: float) -> dict:
    """The stable names (docs/nested.md)."""
    names = [lv.name for lv in LEVELS]
    at_default = measured["evolution"][-1]  # the final genome at the default lifetime and depth
    ladders = {"evolution": cfg.generation_levels, "learner": cfg.lifetime_levels, "planner": cfg.depth_levels}
    out = {"levels": names, "objectives": {lv.name: lv.objective for lv in LEVELS},
           "pressures": {lv.name: {"knob": lv.pressure, "values": list(ladders[lv.name])} for lv in LEVELS},
           "evolved_weights": {s: round(float(share[:, i].mean()), 4) for i, s in enumerate(SIGNALS)}}
    for world, suffix in (("train", ""), ("shifted", "_shifted")):
        out[f"true_fitness{suffix}"] = {n: [p[world]["trip_nutrition"]["mean"] for p in measured[n]] for n in names}
        out[f"true_fitness{suffix}_ci"] = {n: [p[world]["trip_nutrition"]["ci"] for p in measured[n]] for n in names}
        out[f"own_objective{suffix}"] = {n: [p[world][OWN_OBJECTIVE[n]]["mean"] for p in measured[n]] for n in names}
        out[f"own_objective{suffix}_ci"] = {n: [p[world][OWN_OBJECTIVE[n]]["ci"] for p in measured[n]]
                                            for n in names}
        corr = at_default[world]["correlation_with_top"]
        out[f"objective_correlation_{world}"] = [corr[n]["mean"] for n in names]
        out[f"objective_correlation_{world}_ci"] = [corr[n]["ci"] for n in names]
        out[f"objective_correlation_chain_product_{world}"] = [at_default[world]["chain_product"][n]["mean"]
                                                               for n in names]
    out["objective_correlation_pairs"] = {
        world: {pair: stats["mean"] for pair, stats in at_default[world]["correlation_pairs"].items()}
        for world in ("train", "shifted")}
    out["n_seeds"], out["wall_seconds"] = cfg.n_seeds, round(wall, 2)
    return out
