"""Run a base optimizer's updates in fixed-size chunks so the shell can show progress between them."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def make_chunk_runner(update_fn, chunk_len: int):
    """``run(state, env_params) -> (state, metrics[chunk_len])``: ``chunk_len`` updates in one ``scan``.

    ``update_fn(state, env_params) -> (state, metrics)`` is one update of one seed; the result is jitted and
    vmapped over a leading batch axis of both ``state`` and ``env_params`` (seeds × sweep points flattened).
    """

    def run(state, env_params):
        return jax.lax.scan(lambda s, _: update_fn(s, env_params), state, None, length=chunk_len)

    return jax.jit(jax.vmap(run))


def chunk_lengths(n_updates: int, n_chunks: int) -> tuple[int, int]:
    """(updates per chunk, number of chunks): equal chunks covering at least ``n_updates`` (one compile)."""
    n_chunks = max(1, min(n_chunks, n_updates))
    per_chunk = -(-n_updates // n_chunks)
    return per_chunk, -(-n_updates // per_chunk)


def run_sharding(n_runs: int, devices=None):
    """How to split ``n_runs`` runs over ``devices`` (default: the default backend's): ``(sharding, padded_runs)``.

    With several devices (one per core on CPU, see :mod:`mesaopt._xla_flags`) the runs are split evenly along
    their leading axis, padded up to a multiple of the device count; with one device, or one run, ``(None,
    n_runs)``: nothing to split.
    """
    devices = jax.devices() if devices is None else list(devices)
    n_devices = min(len(devices), n_runs)
    if n_devices < 2:
        return None, n_runs
    mesh = Mesh(np.asarray(devices[:n_devices]), ("runs",))
    return NamedSharding(mesh, PartitionSpec("runs")), -(-n_runs // n_devices) * n_devices


def _pad_runs(tree, n_padded: int):
    """Repeat the last run until the leading axis has ``n_padded`` rows (the copies are trained and dropped)."""

    def pad(leaf):
        extra = n_padded - leaf.shape[0]
        return leaf if extra == 0 else jnp.concatenate([leaf, jnp.repeat(leaf[-1:], extra, axis=0)])

    return jax.tree_util.tree_map(pad, tree)


def _unpad_runs(tree, n_runs: int, device):
    """The first ``n_runs`` rows, gathered onto ``device`` (ordinary arrays for whatever comes next)."""
    return jax.device_put(jax.tree_util.tree_map(lambda leaf: leaf[:n_runs], tree), device)


def train_in_chunks(init_fn, update_fn, keys, run_params, n_updates: int, n_chunks: int, on_chunk=None,
                    devices=None):
    """Train one run per row of ``keys`` / ``run_params``; ``(state, metrics {name: [runs, updates]}, timings)``.

    ``init_fn(key, run_params)`` builds one run's state (mapped with ``lax.map``, not ``vmap``: a vmapped
    orthogonal init becomes batched LAPACK QRs that can starve XLA's CPU pool). The runs are split across the
    ``devices`` (default: all of the default backend's; :func:`run_sharding`), each run computing what it would
    alone (up to float rounding: XLA may vectorize a different batch width differently). ``on_chunk(done, total,
    metrics_of_chunk)`` is called after each chunk. Timings separate compilation from training.
    """
    n_runs = keys.shape[0]
    sharding, n_padded = run_sharding(n_runs, devices)
    keys, run_params = _pad_runs((keys, run_params), n_padded)
    per_chunk, n_chunks = chunk_lengths(n_updates, n_chunks)
    runner = make_chunk_runner(update_fn, per_chunk)
    init = jax.jit(lambda ks, ps: jax.lax.map(lambda kp: init_fn(*kp), (ks, ps)))
    t0 = time.perf_counter()
    state = init(keys, run_params)
    if sharding is not None:
        state, run_params = jax.device_put((state, run_params), sharding)
    compiled = runner.lower(state, run_params).compile()
    compile_s = time.perf_counter() - t0
    chunks = []
    t1 = time.perf_counter()
    for i in range(n_chunks):
        state, metrics = compiled(state, run_params)
        chunks.append(jax.tree_util.tree_map(lambda m: np.asarray(m)[:n_runs], metrics))
        if on_chunk is not None:
            on_chunk(i + 1, n_chunks, chunks[-1])
    train_s = time.perf_counter() - t1
    stacked = {k: np.concatenate([getattr(c, k) for c in chunks], axis=1) for k in chunks[0]._fields}
    timings = {"compile_seconds": compile_s, "train_seconds": train_s, "updates": n_chunks * per_chunk,
               "devices": 1 if sharding is None else len(sharding.mesh.devices)}
    home = (jax.devices() if devices is None else list(devices))[0]
    return _unpad_runs(state, n_runs, home), stacked, timings
