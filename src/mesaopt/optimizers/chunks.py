"""Run a base optimizer's updates in fixed-size chunks so the shell can show progress between them."""

from __future__ import annotations

import time

import jax
import numpy as np


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


def train_in_chunks(init_fn, update_fn, keys, run_params, n_updates: int, n_chunks: int, on_chunk=None):
    """Train one run per row of ``keys`` / ``run_params``; ``(state, metrics {name: [runs, updates]}, timings)``.

    ``init_fn(key, run_params)`` builds one run's state (mapped with ``lax.map``, not ``vmap``: a vmapped
    orthogonal init becomes batched LAPACK QRs that can starve XLA's CPU pool). ``on_chunk(done, total,
    metrics_of_chunk)`` is called after each chunk. Timings separate compilation from training.
    """
    per_chunk, n_chunks = chunk_lengths(n_updates, n_chunks)
    runner = make_chunk_runner(update_fn, per_chunk)
    init = jax.jit(lambda ks, ps: jax.lax.map(lambda kp: init_fn(*kp), (ks, ps)))
    t0 = time.perf_counter()
    state = init(keys, run_params)
    compiled = runner.lower(state, run_params).compile()
    compile_s = time.perf_counter() - t0
    chunks = []
    t1 = time.perf_counter()
    for i in range(n_chunks):
        state, metrics = compiled(state, run_params)
        chunks.append(jax.tree_util.tree_map(np.asarray, metrics))
        if on_chunk is not None:
            on_chunk(i + 1, n_chunks, chunks[-1])
    train_s = time.perf_counter() - t1
    stacked = {k: np.concatenate([getattr(c, k) for c in chunks], axis=1) for k in chunks[0]._fields}
    timings = {"compile_seconds": compile_s, "train_seconds": train_s, "updates": n_chunks * per_chunk}
    return state, stacked, timings
