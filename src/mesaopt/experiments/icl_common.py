"""Pieces shared by the in-context-learning presets: seed training, per-seed statistics, curves, checkpoints."""

from __future__ import annotations

import jax
import numpy as np

from mesaopt.detectors.stats import mean_ci
from mesaopt.errors import MesaoptError
from mesaopt.experiments.checkpoints import save_checkpoint
from mesaopt.optimizers.chunks import train_in_chunks


def check_positive(**values: int) -> None:
    """One-line ``MesaoptError`` naming the first value that is < 1."""
    for name, value in values.items():
        if value < 1:
            raise MesaoptError(f"{name} must be ≥ 1, got {value}")


def seed_keys(seed: int, n_runs: int) -> jax.Array:
    """One independent key per run (never reused for anything else)."""
    return jax.random.split(jax.random.key(seed), n_runs)


def train_runs(trainer, keys: jax.Array, run_params, n_chunks: int, on_chunk=None):
    """Train one supervised run per key (and row of ``run_params``); ``(params, metrics, timings)``."""
    state, metrics, timings = train_in_chunks(lambda k, _p: trainer.init(k), trainer.update, keys, run_params,
                                              trainer.cfg.steps, n_chunks, on_chunk)
    return state.params, metrics, timings


def unstack(params, i: int):
    """Run ``i`` of params stacked over runs."""
    return jax.tree_util.tree_map(lambda x: x[i], params)


def ci_summary(per_seed, clip=None) -> dict:
    """``{"mean", "ci": [low, high], "per_seed": [...]}`` with a 95 % t-interval over seeds."""
    per_seed = np.asarray(per_seed, np.float64)
    mean, low, high = mean_ci(per_seed, clip=clip)
    return {"mean": round(float(mean), 6), "ci": [round(float(low), 6), round(float(high), 6)],
            "per_seed": [round(float(v), 6) for v in per_seed]}


def loss_curves(metrics: dict, max_points: int = 200) -> dict:
    """Training loss per run, subsampled to ≲ ``max_points`` steps (for plots)."""
    loss = np.asarray(metrics["loss"])
    stride = max(1, loss.shape[1] // max_points)
    idx = np.arange(0, loss.shape[1], stride)
    return {"step": (idx + 1).tolist(), "loss": np.round(loss[:, idx], 5).tolist()}


def save_params(writer, params, metadata: dict) -> None:
    """The runs' parameters (stacked) as a safetensors checkpoint with a sidecar."""
    save_checkpoint(writer.path("checkpoints/params.safetensors"), params, metadata)


def timing_summary(timings: dict, n_runs: int, wall: float) -> dict:
    """The ``timings`` block of an ICL report: compile, train and wall seconds, steps/s summed over runs."""
    return {"compile_seconds": round(timings["compile_seconds"], 2),
            "train_seconds": round(timings["train_seconds"], 2), "wall_seconds": round(wall, 2),
            "train_steps_per_second": round(n_runs * timings["updates"] / max(timings["train_seconds"], 1e-9))}
