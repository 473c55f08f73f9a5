"""Pieces shared by the in-context-learning presets: seed training, per-seed statistics, curves, checkpoints,
loading a stored run's models."""

from __future__ import annotations

import jax
import numpy as np

from mesaopt.detectors.stats import mean_ci
from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.common import checkpoint_path, curve_indices, stored_config, take
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.runs.checkpoints import load_checkpoint, save_checkpoint


def check_positive(**values: int) -> None:
    """One-line ``MesaoptError`` naming the first value that is < 1."""
    for name, value in values.items():
        if value < 1:
            raise MesaoptError(f"{name} must be ≥ 1, got {value}")


def train_runs(trainer, keys: jax.Array, run_params, n_chunks: int, ctx):
    """Train one supervised run per key (and row of ``run_params``); ``(params, metrics, timings)``.

    ``ctx`` (a :class:`~mesaopt.experiments.record.RunContext`) supplies progress and chunk checkpoints; the
    ``evaluating`` phase starts when training ends.
    """
    state, metrics, timings = train_in_chunks(trainer, keys, run_params, n_chunks, on_chunk=ctx.on_chunk,
                                              store=ctx.checkpoints)
    ctx.phase("evaluating")
    return state.params, metrics, timings


def ci_summary(per_seed, clip=None) -> dict:
    """``{"mean", "ci": [low, high], "per_seed": [...]}`` with a 95 % t-interval over seeds."""
    per_seed = np.asarray(per_seed, np.float64)
    mean, low, high = mean_ci(per_seed, clip=clip)
    return {"mean": round(float(mean), 6), "ci": [round(float(low), 6), round(float(high), 6)],
            "per_seed": [round(float(v), 6) for v in per_seed]}


def loss_curves(metrics: dict) -> dict:
    """Training loss per run, subsampled to ≲ 200 steps (for plots)."""
    loss = np.asarray(metrics["loss"])
    idx = curve_indices(loss.shape[1])
    return {"step": (idx + 1).tolist(), "loss": np.round(loss[:, idx], 5).tolist()}


def save_params(writer, params, metadata: dict) -> None:
    """The runs' parameters (stacked) as a safetensors checkpoint with a sidecar."""
    save_checkpoint(writer.path("checkpoints/params.safetensors"), params, metadata)


def timing_summary(timings: dict, n_runs: int, wall: float) -> dict:
    """The ``timings`` block of an ICL report: compile, train and wall seconds, steps/s summed over runs."""
    return {"compile_seconds": round(timings["compile_seconds"], 2),
            "train_seconds": round(timings["train_seconds"], 2), "wall_seconds": round(wall, 2),
            "train_steps_per_second": round(n_runs * timings["trained_updates"]
                                            / max(timings["train_seconds"], 1e-9)),
            "resumed_from_chunk": timings.get("resumed_from_chunk", 0)}


def load_supervised_runs(run_dir, default_config, make_trainer, checkpoint_metadata) -> tuple:
    """``(cfg, trainer, params)`` of a stored supervised run; ``trainer.model(take(params, i))`` is run ``i``'s model.

    Raises ``NotARunError`` for a directory that is not a complete run and ``CheckpointError`` (one line) for a
    missing, corrupt or foreign checkpoint (another preset's or another model's).
    """
    cfg, record = stored_config(run_dir, default_config)
    trainer = make_trainer(cfg)
    metadata = checkpoint_metadata(cfg)
    keys = jax.random.split(jax.random.key(0), metadata["n_runs"])
    like = jax.eval_shape(jax.vmap(lambda k: trainer.init(k, None).params), keys)
    return cfg, trainer, load_checkpoint(checkpoint_path(record), like, expected_metadata=metadata)


def supervised_loader(default_config, make_trainer, checkpoint_metadata):
    """An ``Experiment.load`` for a supervised experiment: ``load(run_dir) -> (cfg, trainer, params)``."""

    def load(run_dir) -> tuple:
        return load_supervised_runs(run_dir, default_config, make_trainer, checkpoint_metadata)

    return load
