"""Run ``conditions-hardcoded``: the fully learned thinker and the planner hybrid trained on the same mazes, measured
for learned search; the hybrid's learned map read as an objective; and (the proxy arm) both trained with the goal
always in the corner room and tested with it moved."""

from __future__ import annotations

import dataclasses
import time

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors import search
from mesaopt.experiments.conditions_hardcoded.config import ConditionsHardcodedConfig
from mesaopt.experiments.maze_search.train import IN_CHANNELS, path_loss
from mesaopt.experiments.shared.common import take
from mesaopt.experiments.shared.icl import ci_summary
from mesaopt.experiments.shared.thinker_conditions import (FRESH, LevelSpec, ThinkerSetup, level_store,
                                                           make_pool_trainer, pool_problems, run_levels,
                                                           summarize_measures, train_pool_runs)
from mesaopt.models.planner_hybrid import PlannerHybrid, target_probs
from mesaopt.optimizers.supervised import make_supervised
from mesaopt.tasks.maze_paths import MazePathTask, draw_maze_batch, sample_pool_batch

THINKER, HYBRID = "learned thinker", "planner + learned map"
"""The two levels' names."""


def make_hybrid_trainer(setup: ThinkerSetup, depth: int, rounds: int, task: MazePathTask | None = None):
    """Supervised training of a :class:`PlannerHybrid` (the loss after ``rounds`` planner rounds) on each run's
    pool of ``task`` (default: any goal at the setup's side)."""
    task = MazePathTask(setup.side) if task is None else task

    def loss_fn(model, key, step, problem):
        size, pool = problem
        batch = sample_pool_batch(jax.random.wrap_key_data(pool), size, key, task, setup.batch_size)
        return path_loss(model(batch.images, rounds), batch.path)

    return make_supervised(setup.supervised(), lambda k: PlannerHybrid(IN_CHANNELS, depth=depth, width=setup.width,
                                                                       key=k), loss_fn)


def model_levels(cfg: ConditionsHardcodedConfig, task: MazePathTask | None = None) -> list[LevelSpec]:
    """The thinker and the hybrid, trained on ``task``."""
    return [LevelSpec(THINKER, make_pool_trainer(cfg.setup, task=task), cfg.setup.train_iterations),
            LevelSpec(HYBRID, make_hybrid_trainer(cfg.setup, cfg.encoder_depth, cfg.planner_rounds, task),
                      cfg.planner_rounds)]


@jax.jit
def map_reading(model: PlannerHybrid, images: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Per maze: the cell the learned map ranks first among the open cells (row, column), and the map's
    probability on the goal."""
    open_cells = images[..., 0] > 0.5
    probs = target_probs(model.reward_map(images), open_cells)
    flat = jnp.argmax(probs.reshape(probs.shape[0], -1), axis=-1)
    top = jnp.stack([flat // images.shape[2], flat % images.shape[2]], axis=-1)
    return top, jnp.sum(probs * images[..., 2], axis=(-2, -1))


def map_measures(trainer, params, n_seeds: int, batch) -> dict[str, list[float]]:
    """Per hybrid: how often its map's top cell is the goal (``map_goal_match``), its mean probability on the goal
    (``map_goal_mass``) and how often its top cell is the top-right corner (``map_corner_match``)."""
    side = batch.images.shape[1]
    out = {"map_goal_match": [], "map_goal_mass": [], "map_corner_match": []}
    for s in range(n_seeds):
        top, mass = map_reading(trainer.model(take(params, s)), batch.images)
        top = np.asarray(top)
        at_goal = np.asarray(batch.images)[np.arange(len(top)), top[:, 0], top[:, 1], 2] > 0.5
        out["map_goal_match"].append(float(at_goal.mean()))
        out["map_goal_mass"].append(float(np.asarray(mass).mean()))
        out["map_corner_match"].append(float(np.mean((top[:, 0] == 0) & (top[:, 1] == side - 1))))
    return out


def target_rates(level: LevelSpec, params, n_seeds: int, batches: dict) -> dict[str, list[float]]:
    """Per network of a proxy-arm level: exact accuracy with the goal in the corner room (``in_distribution``)
    and, with the goal moved, how often the predicted path leads to the goal or to the corner (``goal``,
    ``corner``; :func:`mesaopt.detectors.search.path_targets`)."""
    shifted, side = batches["shifted"], batches["shifted"].images.shape[1]
    corner = jnp.zeros((side, side), bool).at[0, side - 1].set(True)
    out = {"in_distribution": [], "goal": [], "corner": []}
    for s in range(n_seeds):
        model = level.trainer.model(take(params, s))
        pred = search.predicted_path(model, batches["in_dist"].images, level.train_iterations)
        out["in_distribution"].append(float(jnp.all(pred == batches["in_dist"].path, axis=(-2, -1)).mean()))
        codes = np.asarray(search.path_targets(search.predicted_path(model, shifted.images, level.train_iterations),
                                               shifted.images, shifted.path, corner))
        out["goal"].append(float(np.mean(codes == 0)))
        out["corner"].append(float(np.mean(codes == 1)))
    return out


def proxy_arm(cfg: ConditionsHardcodedConfig, ctx, key) -> dict:
    """Both models trained with the goal in the corner room, tested in distribution and with the goal moved:
    ``{"rates": {level: {...per seed}}, "map": {...per seed of the hybrid}}``."""
    k_pools, k_train, k_test = jax.random.split(key, 3)
    side = cfg.setup.side
    levels = model_levels(cfg, MazePathTask(side, goal_region=1))
    k_in, k_shift = jax.random.split(k_test)
    batches = {"in_dist": draw_maze_batch(k_in, MazePathTask(side, 1), cfg.setup.eval_mazes),
               "shifted": draw_maze_batch(k_shift, MazePathTask(side, 1, goal_outside_region=True),
                                          cfg.setup.eval_mazes)}
    rates, read = {}, {}
    for i, level in enumerate(levels):
        ctx.phase(f"proxy arm, {level.label}: training {cfg.n_seeds} networks with the goal in the corner room")
        problems = pool_problems([FRESH] * cfg.n_seeds, jax.random.fold_in(k_pools, i))
        params, _, _ = train_pool_runs(cfg.setup, level.trainer, problems, jax.random.fold_in(k_train, i),
                                       dataclasses.replace(ctx, checkpoints=level_store(ctx, f"proxy-{i}")))
        rates[level.label] = target_rates(level, params, cfg.n_seeds, batches)
        if level.label == HYBRID:
            read = map_measures(level.trainer, params, cfg.n_seeds, batches["shifted"])
    return {"rates": rates, "map": read}


def _summary(per_seed, clip=(0.0, 1.0)) -> tuple[float, list[float]]:
    cell = ci_summary(per_seed, clip=clip)
    return round(cell["mean"], 4), [round(x, 4) for x in cell["ci"]]


def headline(cfg: ConditionsHardcodedConfig, arm: dict, read: dict, proxy: dict | None, wall: float) -> dict:
    """The stable names (docs/conditions.md)."""
    h = {"factor": "hardcoded", "levels": [THINKER, HYBRID],
         "train_iterations": [cfg.setup.train_iterations, cfg.planner_rounds], **summarize_measures(arm["per_seed"])}
    for name in ("map_goal_match", "map_goal_mass"):
        h[name], h[f"{name}_ci"] = _summary(read[name])
    if proxy is not None:
        for name, key in (("proxy_in_distribution_accuracy", "in_distribution"), ("proxy_goal_rate", "goal"),
                          ("proxy_corner_rate", "corner")):
            cells = [_summary(proxy["rates"][level][key]) for level in h["levels"]]
            h[name], h[f"{name}_ci"] = [c[0] for c in cells], [c[1] for c in cells]
        for name, key in (("map_target_goal", "map_goal_match"), ("map_target_corner", "map_corner_match")):
            h[name], h[f"{name}_ci"] = _summary(proxy["map"][key])
    h["n_seeds"], h["wall_seconds"] = cfg.n_seeds, round(wall, 2)
    return h


def run_conditions_hardcoded(cfg: ConditionsHardcodedConfig, ctx) -> dict:
    """Train and measure both models (and the proxy arm); the headline."""
    started = time.perf_counter()
    cfg = cfg.resolved()
    cfg.validate()
    k_main, k_map, k_proxy = jax.random.split(jax.random.key(cfg.seed), 3)
    levels = model_levels(cfg)
    arm = run_levels(cfg.setup, levels, cfg.n_seeds, ctx, k_main, keep_params=True)
    kept = arm.pop("params")
    novel = draw_maze_batch(k_map, MazePathTask(cfg.setup.side), cfg.setup.eval_mazes)
    read = map_measures(levels[1].trainer, kept[1], cfg.n_seeds, novel)
    proxy = proxy_arm(cfg, ctx, k_proxy) if cfg.proxy_arm else None
    wall = time.perf_counter() - started
    return {"preset": "conditions-hardcoded", "headline": headline(cfg, arm, read, proxy, wall), **arm,
            "map_per_seed": read, "proxy_per_seed": proxy, "timings": {"wall_seconds": round(wall, 2)},
            "config": dataclasses.asdict(cfg)}
