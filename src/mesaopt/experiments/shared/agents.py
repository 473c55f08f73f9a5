"""What every PPO preset does the same way: train all agents in chunks, store checkpoint and metrics, report
timings and learning curves, load the agents back."""

from __future__ import annotations

import jax
import numpy as np
from safetensors.numpy import save_file

from mesaopt.experiments.shared.common import checkpoint_path, curve_indices, stored_config, take
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.runs.checkpoints import load_checkpoint, save_checkpoint

METRIC_NAMES = ("episode_return", "episode_length", "success_rate", "policy_loss", "value_loss", "entropy",
                "approx_kl")
"""Per-update PPO metrics stored in a run's ``metrics.safetensors`` (arrays of [agents, updates])."""


def train_ppo_agents(setup, n_chunks: int, ctx):
    """Train every agent of ``setup`` (``ppo``, ``keys``, ``train_params`` stacked over agents) in one program.

    Returns (params stacked over agents, metrics of [agents, updates], timings incl. ``env_steps_per_agent``).
    ``ctx`` (a :class:`~mesaopt.experiments.record.RunContext`) supplies progress and chunk checkpoints.
    """
    state, stacked, timings = train_in_chunks(setup.ppo, setup.keys, setup.train_params, n_chunks,
                                              on_chunk=ctx.on_chunk, store=ctx.checkpoints)
    per_update = setup.ppo.cfg.steps_per_update
    steps, trained = timings.pop("updates") * per_update, timings.pop("trained_updates") * per_update
    return state.params, stacked, {**timings, "env_steps_per_agent": steps, "env_steps_trained_per_agent": trained}


def train_and_store_agents(setup, n_chunks: int, ctx, metadata: dict):
    """Train every agent, then store its checkpoint (with ``metadata``) and metrics in the run.

    Returns what :func:`train_ppo_agents` returns: (params, metrics, timings); enters the ``evaluating`` phase.
    """
    params, metrics, timings = train_ppo_agents(setup, n_chunks, ctx)
    ctx.phase("evaluating")
    save_checkpoint(ctx.writer.path("checkpoints/params.safetensors"), params, metadata)
    save_ppo_metrics(ctx.writer, metrics)
    return params, metrics, timings


def save_ppo_metrics(writer, metrics: dict[str, np.ndarray]) -> None:
    """Write the training metrics of every agent to ``metrics.safetensors`` in the run."""
    arrays = {k: np.ascontiguousarray(metrics[k], dtype=np.float32) for k in METRIC_NAMES}
    save_file(arrays, str(writer.path("metrics.safetensors")))


def ppo_timings(timings: dict, n_agents: int, wall_seconds: float) -> dict:
    """The ``timings`` block of a PPO run's report: training timings, wall time and env steps/s over agents (of the
    steps this process trained: a resumed run counts only its own)."""
    rate = n_agents * timings["env_steps_trained_per_agent"] / max(timings["train_seconds"], 1e-9)
    return {**timings, "wall_seconds": round(wall_seconds, 2), "env_steps_per_second": round(rate)}


def ppo_learning_curves(metrics: dict[str, np.ndarray], steps_per_update: int, scales: dict[str, tuple]) -> dict:
    """Per-update curves for plots (≲ 200 points): ``{"env_steps": [...], name: [agents][points]}`` for each
    ``name: (divisor, digits)`` in ``scales``; NaN (no episode ended) becomes 0."""
    idx = curve_indices(metrics["success_rate"].shape[1])
    curves = {"env_steps": ((idx + 1) * steps_per_update).tolist()}
    for name, (divisor, digits) in scales.items():
        curves[name] = np.nan_to_num(metrics[name][:, idx] / divisor, nan=0.0).round(digits).tolist()
    return curves


def load_ppo_agents(run_dir, default_config, build_setup, checkpoint_metadata) -> tuple:
    """Rebuild a PPO experiment's setup from a run's config.json and load its checkpoint: ``(cfg, setup, params)``.

    ``params`` has a leading agent axis; ``setup.ppo.model(take(params, i))`` is agent ``i``'s model. Raises
    ``NotARunError`` for a directory that is not a complete run and ``CheckpointError`` for a missing, corrupt or
    foreign checkpoint (one line each).
    """
    cfg, record = stored_config(run_dir, default_config)
    setup = build_setup(cfg)
    first = take(setup.train_params, 0)
    like = jax.eval_shape(jax.vmap(lambda k: setup.ppo.init(k, first).params), setup.keys)
    return cfg, setup, load_checkpoint(checkpoint_path(record), like, expected_metadata=checkpoint_metadata(cfg))
