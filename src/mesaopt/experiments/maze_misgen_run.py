"""Run ``maze-misgen`` end to end into a :class:`RunWriter`: train, evaluate, checkpoint, report.json."""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from mesaopt.experiments.maze_misgen import MazeMisgenConfig, build_setup
from mesaopt.experiments.maze_misgen_eval import build_headline, evaluate, rate_table
from mesaopt.experiments.ppo_agents import ppo_timings, train_and_store_agents


def checkpoint_metadata(cfg: MazeMisgenConfig) -> dict:
    """What a checkpoint must match to be loaded back into this experiment's model."""
    return {"preset": "maze-misgen", "model": cfg.model, "env": cfg.env, "size": cfg.size,
            "obs_format": cfg.obs_format, "n_agents": len(cfg.region_sizes) * cfg.n_seeds}


def learning_curves(metrics: dict[str, np.ndarray], steps_per_update: int, every: int = 1) -> dict:
    """Success rate and return per update, for plots (subsampled to ≲ 200 points)."""
    n_updates = metrics["success_rate"].shape[1]
    stride = max(every, n_updates // 200)
    idx = np.arange(0, n_updates, stride)
    return {
        "env_steps": ((idx + 1) * steps_per_update).tolist(),
        "success_rate": np.nan_to_num(metrics["success_rate"][:, idx], nan=0.0).round(4).tolist(),
        "episode_length": np.nan_to_num(metrics["episode_length"][:, idx], nan=0.0).round(2).tolist(),
    }


def run_maze_misgen(cfg: MazeMisgenConfig, writer, on_chunk=None, on_phase=None) -> dict:
    """Train and evaluate every (region, seed) agent; write checkpoints, metrics and report.json."""
    started = time.perf_counter()
    setup = build_setup(cfg)
    params, metrics, timings = train_and_store_agents(setup, cfg.n_chunks, writer, checkpoint_metadata(cfg),
                                                      on_chunk, on_phase)
    evaluation = evaluate(setup, cfg, params)
    tables = {"in_dist": rate_table(evaluation["in_dist"], cfg), "shifted": rate_table(evaluation["shifted"], cfg)}
    wall = time.perf_counter() - started
    headline = build_headline(tables, cfg, timings["env_steps_per_agent"], wall)
    report = {
        "preset": "maze-misgen",
        "headline": headline,
        "rates": tables,
        "random_baseline": {"in_dist_first_region": evaluation["random_in_dist_first_region"],
                            "shifted": evaluation["random_shifted"]},
        "examples": evaluation["examples"],
        "learning_curves": learning_curves(metrics, setup.ppo.cfg.steps_per_update),
        "timings": ppo_timings(timings, setup.n_agents, wall),
        "config": dataclasses.asdict(cfg),
    }
    writer.write_json("report.json", report)
    return report


def _first(tree):
    import jax

    return jax.tree_util.tree_map(lambda x: x[0], tree)


def load_trained_agents(run_dir) -> tuple:
    """Rebuild the setup from a run's config.json and load its checkpoint: ``(cfg, setup, params)``.

    Raises ``NotARunError`` for a directory that is not a complete run and ``CheckpointError`` for a missing,
    corrupt or foreign checkpoint (one line each).
    """
    import jax

    from mesaopt.experiments.checkpoints import load_checkpoint
    from mesaopt.experiments.overrides import config_from_dict
    from mesaopt.experiments.store import load_run

    record = load_run(run_dir)
    cfg = config_from_dict(MazeMisgenConfig(), {k: v for k, v in record["config"].items() if k != "preset"})
    setup = build_setup(cfg)
    like = jax.eval_shape(jax.vmap(lambda k: setup.ppo.init(k, _first(setup.train_params)).params), setup.keys)
    path = f"{record['path']}/checkpoints/params.safetensors"
    return cfg, setup, load_checkpoint(path, like, expected_metadata=checkpoint_metadata(cfg))
