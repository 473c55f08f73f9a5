"""What every PPO preset does the same way: train all agents in chunks, store the metrics, report timings."""

from __future__ import annotations

import numpy as np
from safetensors.numpy import save_file

from mesaopt.experiments.checkpoints import save_checkpoint
from mesaopt.optimizers.chunks import train_in_chunks

METRIC_NAMES = ("episode_return", "episode_length", "success_rate", "policy_loss", "value_loss", "entropy",
                "approx_kl")
"""Per-update PPO metrics stored in a run's ``metrics.safetensors`` (arrays of [agents, updates])."""


def train_ppo_agents(setup, n_chunks: int, on_chunk=None):
    """Train every agent of ``setup`` (``ppo``, ``keys``, ``train_params`` stacked over agents) in one program.

    Returns (params stacked over agents, metrics of [agents, updates], timings incl. ``env_steps_per_agent``).
    ``on_chunk(done_chunks, total_chunks, metrics_so_far)`` is called after each chunk (progress bars).
    """
    state, stacked, timings = train_in_chunks(setup.ppo.init, setup.ppo.update, setup.keys, setup.train_params,
                                              setup.ppo.n_updates, n_chunks, on_chunk)
    steps = timings.pop("updates") * setup.ppo.cfg.steps_per_update
    return state.params, stacked, {**timings, "env_steps_per_agent": steps}


def train_and_store_agents(setup, n_chunks: int, writer, metadata: dict, on_chunk=None, on_phase=None):
    """Train every agent, then store its checkpoint (with ``metadata``) and metrics in the run.

    Returns what :func:`train_ppo_agents` returns: (params, metrics, timings).

    ``on_phase("evaluating")`` is called once training is done (the shell switches its progress display).
    """
    params, metrics, timings = train_ppo_agents(setup, n_chunks, on_chunk)
    if on_phase:
        on_phase("evaluating")
    save_checkpoint(writer.path("checkpoints/params.safetensors"), params, metadata)
    save_ppo_metrics(writer, metrics)
    return params, metrics, timings


def save_ppo_metrics(writer, metrics: dict[str, np.ndarray]) -> None:
    """Write the training metrics of every agent to ``metrics.safetensors`` in the run."""
    arrays = {k: np.ascontiguousarray(metrics[k], dtype=np.float32) for k in METRIC_NAMES}
    save_file(arrays, str(writer.path("metrics.safetensors")))


def ppo_timings(timings: dict, n_agents: int, wall_seconds: float) -> dict:
    """The ``timings`` block of a PPO run's report: training timings, wall time and env steps/s over agents."""
    rate = n_agents * timings["env_steps_per_agent"] / max(timings["train_seconds"], 1e-9)
    return {**timings, "wall_seconds": round(wall_seconds, 2), "env_steps_per_second": round(rate)}
