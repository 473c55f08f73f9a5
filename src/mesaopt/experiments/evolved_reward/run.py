"""Run ``evolved-reward``: evolve the reward weights of a lifetime learner at every level of the knob (all runs in
one compiled program), then measure the evolved learners in the ancestral and in the junk-food world."""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.choice_objective import recover_choice_objective
from mesaopt.detectors.stats import mean_ci
from mesaopt.envs.foraging import best_possible_nutrition, sample_world
from mesaopt.experiments.evolved_reward.config import EvolvedRewardConfig, LifeConditions
from mesaopt.experiments.shared.common import curve_indices
from mesaopt.experiments.shared.icl import ci_summary, timing_summary
from mesaopt.models.reward_learner import FITNESS_AS_REWARD, SIGNALS, live
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.evolution import make_evolution


def lifetime_fitness(cfg: EvolvedRewardConfig):
    """``fitness(weights, key, conditions)``: mean nutrition over ``lifetimes_per_evaluation`` fresh worlds of the
    run's ancestral correlation (:class:`LifeConditions`)."""
    def fitness(weights, key, cond: LifeConditions):
        def one(k):
            k_world, k_life = jax.random.split(k)
            world = sample_world(k_world, cfg.task, cond.correlation)
            return live(weights, world, k_life, cond.delay, cfg.learner, cond.credit, cfg.credit_window).nutrition

        return jnp.mean(jax.vmap(one)(jax.random.split(key, cfg.lifetimes_per_evaluation)))

    return fitness


def evolve(cfg: EvolvedRewardConfig, ctx):
    """Every run's evolved weights (the search distribution's centre), the fitness curves, the timings."""
    evolution = make_evolution(cfg.evolution, lambda k: jnp.zeros(len(SIGNALS)), lifetime_fitness(cfg))
    conditions = jax.tree.map(jnp.asarray, cfg.run_problems())
    keys = jax.random.split(jax.random.key(cfg.seed), conditions.delay.shape[0])
    state, metrics, timings = train_in_chunks(evolution, keys, conditions, cfg.n_chunks, on_chunk=ctx.on_chunk,
                                              store=ctx.checkpoints)
    ctx.phase("measuring the evolved learners")
    return np.asarray(jax.vmap(evolution.center_genome)(state)), metrics, timings


def lives_fn(cfg: EvolvedRewardConfig):
    """``lives(weights [rows, 2], conditions (scalars), key)``, jitted once: nutrition per lifetime ``[rows,
    eval_lifetimes]`` of learners with each row of weights over ``eval_lifetimes`` worlds of one correlation (the
    same worlds for every row), the omniscient forager's, and the choices (sweetness, nutrition of the chosen and
    of the declined kind) of the second half of each life, for the behavioural objective."""
    half = cfg.task.lifetime // 2

    def one(w, k, cond: LifeConditions):
        k_world, k_life = jax.random.split(k)
        world = sample_world(k_world, cfg.task, cond.correlation)
        life = live(w, world, k_life, cond.delay, cfg.learner, cond.credit, cfg.credit_window)
        chosen = jnp.stack([world.sweetness[life.eaten[half:]], world.nutrition[life.eaten[half:]]])
        declined = jnp.stack([world.sweetness[life.declined[half:]], world.nutrition[life.declined[half:]]])
        return life.nutrition, best_possible_nutrition(world), chosen, declined

    def lives(weights, cond, key):
        keys = jax.random.split(key, cfg.eval_lifetimes)
        per_row = jax.vmap(lambda k, w: one(w, k, cond), in_axes=(0, None))
        return jax.vmap(lambda w: per_row(keys, w))(weights)

    return jax.jit(lives)


def measure(lives, weights: np.ndarray, cond: LifeConditions, key) -> dict:
    """:func:`lives_fn`'s measurements as NumPy: ``fitness [rows, lifetimes]``, ``achievable`` (mean), choices."""
    cond = LifeConditions(jnp.int32(cond.delay), jnp.float32(cond.correlation), jnp.float32(cond.credit))
    nutrition, best, chosen, declined = lives(jnp.asarray(weights, jnp.float32), cond, key)
    return {"fitness": np.asarray(nutrition), "achievable": float(np.asarray(best)[0].mean()),
            "chosen": np.asarray(chosen), "declined": np.asarray(declined)}


def over_lifetimes(per_life: np.ndarray) -> dict:
    """``{"mean", "ci"}`` of one fixed learner's nutrition, the 95 % t-interval over its lifetimes."""
    mean, low, high = mean_ci(per_life, clip=None)
    return {"mean": round(float(mean), 3), "ci": [round(float(low), 3), round(float(high), 3)]}


def behavioral_objective(chosen: np.ndarray, declined: np.ndarray) -> dict:
    """Cue (sweetness) or value (nutrition) from pooled choices ``[runs, lifetimes, 2, steps]``."""
    def pool(x, i):
        return x[:, :, i].reshape(-1)

    return recover_choice_objective({"cue": pool(chosen, 0), "value": pool(chosen, 1)},
                                    {"cue": pool(declined, 0), "value": pool(declined, 1)})


def measure_level(cfg: EvolvedRewardConfig, lives, evolved: np.ndarray, cond: LifeConditions, key) -> dict:
    """Everything the headline needs for one level (``cond``: its ancestral conditions): evolved and
    fitness-rewarded learners in both worlds."""
    k_train, k_shift = jax.random.split(key)
    rows = np.concatenate([evolved, np.asarray(FITNESS_AS_REWARD)[None]])
    train = measure(lives, rows, cond, k_train)
    shifted = measure(lives, rows, cond._replace(correlation=cfg.shifted_correlation), k_shift)
    n = len(evolved)
    train_fit, shifted_fit = train["fitness"].mean(axis=1), shifted["fitness"].mean(axis=1)
    lost = 1.0 - shifted_fit[:n] / shifted["achievable"]
    share = evolved / np.maximum(np.abs(evolved).sum(axis=1, keepdims=True), 1e-12)
    return {"weights": {s: ci_summary(share[:, i]) for i, s in enumerate(SIGNALS)},
            "raw_weights": evolved.round(4).tolist(),
            "train_fitness": ci_summary(train_fit[:n]),
            "train_fitness_fitness_reward": over_lifetimes(train["fitness"][n]),
            "shifted_fitness": ci_summary(shifted_fit[:n]),
            "shifted_fitness_fitness_reward": over_lifetimes(shifted["fitness"][n]),
            "fitness_lost_under_shift": ci_summary(lost),
            "achievable_train_fitness": round(train["achievable"], 3),
            "achievable_shifted_fitness": round(shifted["achievable"], 3),
            "behavior": behavioral_objective(shifted["chosen"][:n], shifted["declined"][:n])}


def run_evolved_reward(cfg: EvolvedRewardConfig, ctx) -> dict:
    """Evolve, measure every level, return the report."""
    started = time.perf_counter()
    cfg.validate()
    evolved, metrics, timings = evolve(cfg, ctx)
    conditions = cfg.run_problems()
    k_measure = jax.random.fold_in(jax.random.key(cfg.seed), 1)  # the same test worlds at every level
    levels, lives = [], lives_fn(cfg)
    for i in range(len(cfg.levels)):
        rows = slice(i * cfg.n_seeds, (i + 1) * cfg.n_seeds)
        levels.append(measure_level(cfg, lives, evolved[rows], level_conditions(conditions, i * cfg.n_seeds),
                                    k_measure))
    wall = time.perf_counter() - started
    idx = curve_indices(cfg.evolution.generations)
    curves = {"generation": (idx + 1).tolist(),
              "best_fitness_so_far": np.asarray(metrics["best_fitness_so_far"])[:, idx].round(3).tolist(),
              "mean_fitness": np.asarray(metrics["mean_fitness"])[:, idx].round(3).tolist()}
    return {"preset": "evolved-reward", "headline": headline(cfg, levels, wall), "levels": levels,
            "evolution_curves": curves, "timings": timing_summary(timings, len(evolved), wall),
            "config": dataclasses.asdict(cfg)}


def level_conditions(conditions: LifeConditions, row: int) -> LifeConditions:
    """One run's conditions as Python scalars."""
    return LifeConditions(int(conditions.delay[row]), float(conditions.correlation[row]),
                          float(conditions.credit[row]))


def level_names(cfg: EvolvedRewardConfig) -> list[str]:
    """The levels as report keys (``"0"``, ``"1"``, ... for delays; ``"0.9"`` for correlations)."""
    return [f"{int(v)}" if cfg.knob == "delay" else f"{v:g}" for v in cfg.levels]


def headline(cfg: EvolvedRewardConfig, levels: list[dict], wall: float) -> dict:
    """The stable names (docs/evolution.md); lists are aligned with ``levels``."""
    names = level_names(cfg)

    def mean(key):
        return [lv[key]["mean"] for lv in levels]

    def ci(key):
        return [lv[key]["ci"] for lv in levels]

    out = {"knob": cfg.knob, "levels": [int(v) if cfg.knob == "delay" else float(v) for v in cfg.levels],
           "evolved_weights": {n: {s: lv["weights"][s]["mean"] for s in SIGNALS} for n, lv in zip(names, levels)}}
    for key in ("train_fitness", "train_fitness_fitness_reward", "shifted_fitness", "shifted_fitness_fitness_reward",
                "fitness_lost_under_shift"):
        out[key], out[f"{key}_ci"] = mean(key), ci(key)
    for key in ("achievable_train_fitness", "achievable_shifted_fitness"):
        out[key] = [lv[key] for lv in levels]
    out["behavioral_objective"] = {n: lv["behavior"]["objective"] for n, lv in zip(names, levels)}
    out["n_seeds"], out["wall_seconds"] = cfg.n_seeds, round(wall, 2)
    return out
