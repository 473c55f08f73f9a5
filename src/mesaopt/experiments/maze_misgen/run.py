"""Run ``maze-misgen`` end to end into a run directory: train, evaluate, checkpoint, report."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from mesaopt.experiments.maze_misgen.config import MazeMisgenConfig, build_setup, with_size_rule
from mesaopt.experiments.maze_misgen.evaluate import build_headline, evaluate, rate_table
from mesaopt.experiments.shared.agents import load_ppo_agents, ppo_learning_curves, ppo_timings, train_and_store_agents

PRESET = "maze-misgen"


def checkpoint_metadata(cfg: MazeMisgenConfig) -> dict:
    """What a checkpoint must match to be loaded back into this experiment's model."""
    cfg = with_size_rule(cfg)
    metadata = {"preset": PRESET, "model": cfg.model, "env": cfg.env, "size": cfg.size,
                "obs_format": cfg.obs_format, "n_agents": len(cfg.region_sizes) * cfg.n_seeds}
    if cfg.training_side != cfg.size:  # only then, so that runs stored before train_size still load
        metadata["train_size"] = cfg.training_side
    return metadata


def learning_curves(metrics: dict[str, np.ndarray], steps_per_update: int) -> dict:
    """Success rate and episode length per update, for plots (≲ 200 points)."""
    return ppo_learning_curves(metrics, steps_per_update, {"success_rate": (1.0, 4), "episode_length": (1.0, 2)})


def run_maze_misgen(cfg: MazeMisgenConfig, ctx) -> dict:
    """Train and evaluate every (region, seed) agent; store checkpoints and metrics; return the report."""
    started = time.perf_counter()
    cfg = with_size_rule(cfg)
    setup = build_setup(cfg)
    params, metrics, timings = train_and_store_agents(setup, cfg.n_chunks, ctx, checkpoint_metadata(cfg))
    evaluation = evaluate(setup, cfg, params)
    tables = {"in_dist": rate_table(evaluation["in_dist"], cfg), "shifted": rate_table(evaluation["shifted"], cfg)}
    wall = time.perf_counter() - started
    return {
        "preset": PRESET,
        "headline": build_headline(tables, cfg, timings["env_steps_per_agent"], wall),
        "rates": tables,
        "random_baseline": {"in_dist_first_region": evaluation["random_in_dist_first_region"],
                            "shifted": evaluation["random_shifted"]},
        "examples": evaluation["examples"],
        "learning_curves": learning_curves(metrics, setup.ppo.cfg.steps_per_update),
        "timings": ppo_timings(timings, setup.n_agents, wall),
        "config": dataclasses.asdict(cfg),
    }


def load_trained_agents(run_dir) -> tuple:
    """``(cfg, setup, params)`` of a stored run (see :func:`~mesaopt.experiments.shared.agents.load_ppo_agents`),
    ``cfg`` with the size rule's values filled in."""
    cfg, setup, params = load_ppo_agents(run_dir, MazeMisgenConfig(), build_setup, checkpoint_metadata)
    return with_size_rule(cfg), setup, params
