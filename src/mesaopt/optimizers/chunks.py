"""The one chunked driver of every base optimizer: steps run in fixed-size compiled chunks, so the shell can show
progress between them, a :class:`ChunkStore` can checkpoint after each one (a killed run resumes), and training
that goes non-finite stops with one line."""

from __future__ import annotations

import time
from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from mesaopt.errors import TrainingDivergedError
from mesaopt.optimizers.contract import BaseOptimizer


class ChunkProgress(NamedTuple):
    """What a :class:`ChunkStore` gives back to resume from."""

    done: int
    """Chunks already trained."""
    state: Any
    """The (padded) training state after ``done`` chunks."""
    metrics: dict[str, np.ndarray]
    """Metrics of those chunks, ``{name: [runs, steps so far]}``."""


class ChunkStore(Protocol):
    """Where chunk checkpoints go (``mesaopt.runs.resume.ChunkCheckpoints`` keeps them in a partial run)."""

    def load(self, like_state: Any, layout: dict) -> ChunkProgress | None:
        """The last complete checkpoint whose ``layout`` matches, restored into ``like_state``'s shapes, or None."""

    def save(self, done: int, state: Any, metrics: dict[str, np.ndarray], layout: dict) -> None:
        """Store the state after chunk ``done`` (atomically: a kill leaves the previous checkpoint intact)."""


def make_chunk_runner(step_fn, chunk_len: int, sharding: NamedSharding | None = None, sequential_runs: bool = False):
    """``run(state, problem) -> (state, metrics[chunk_len])``: ``chunk_len`` steps in one ``scan``.

    ``step_fn(state, problem) -> (state, metrics)`` is one step of one run; the result is jitted and mapped over a
    leading batch axis of both ``state`` and ``problem`` (seeds × sweep points flattened). With a ``sharding``
    (:func:`run_sharding`) each device maps over its own rows (``shard_map``). A device holding a single run
    runs it without ``vmap``: XLA's CPU backend compiled a vmapped batch of one into slower matmuls (the
    ``icl-regression`` step ran at 36 instead of 50 steps/s, benchmarks/README.md). With ``sequential_runs`` a
    device's runs go one after the other (``lax.map``) instead of side by side (``vmap``): for convolutional
    networks whose every layer is already a batch-wide matmul, a vmap over runs turned those into batched matmuls
    (the maze-search thinker: 4 seeds on 2 cores trained in 370 s vmapped, 2 seeds alone in 140 s, 2026-12-05).
    """

    def run(state, problem):
        return jax.lax.scan(lambda s, _: step_fn(s, problem), state, None, length=chunk_len)

    def over_runs(state, problem):
        if jax.tree_util.tree_leaves(state)[0].shape[0] == 1:
            out = run(*jax.tree_util.tree_map(lambda leaf: leaf[0], (state, problem)))
            return jax.tree_util.tree_map(lambda leaf: leaf[None], out)
        if sequential_runs:
            return jax.lax.map(lambda sp: run(*sp), (state, problem))
        return jax.vmap(run)(state, problem)

    if sharding is None:
        return jax.jit(over_runs)
    # check_vma=False: code written for one run (scans with constant initial carries) need not mark what varies
    return jax.jit(jax.shard_map(over_runs, mesh=sharding.mesh, in_specs=sharding.spec, out_specs=sharding.spec,
                                 check_vma=False))


def chunk_lengths(n_steps: int, n_chunks: int) -> tuple[int, int]:
    """(steps per chunk, number of chunks): equal chunks covering at least ``n_steps`` (one compile)."""
    n_chunks = max(1, min(n_chunks, n_steps))
    per_chunk = -(-n_steps // n_chunks)
    return per_chunk, -(-n_steps // per_chunk)


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


def check_finite_metrics(metrics: dict[str, np.ndarray], names, first_step: int) -> None:
    """Raise :class:`TrainingDivergedError` naming the first of ``names`` that is non-finite in a chunk's
    ``metrics`` ``{name: [runs, steps]}`` (``first_step``: the index of the chunk's first step, from 0)."""
    for name in names:
        bad = np.argwhere(~np.isfinite(np.asarray(metrics[name])))
        if len(bad):
            run, step = (int(i) for i in bad[0])
            value = float(np.asarray(metrics[name])[run, step])
            raise TrainingDivergedError(f"training diverged: {name} is {value} at step {first_step + step + 1} of "
                                        f"run {run}; nothing was stored (try a smaller learning rate)")


@jax.jit
def _nonfinite_leaves(state):
    return [jnp.any(~jnp.isfinite(leaf)) for leaf in jax.tree_util.tree_leaves(state)
            if jnp.issubdtype(leaf.dtype, jnp.inexact)]


def check_finite_state(state, step: int) -> None:
    """Raise :class:`TrainingDivergedError` naming the first floating-point leaf of ``state`` (parameters,
    optimizer moments, ...) that holds a non-finite value after ``step`` steps."""
    flags = np.asarray(jax.device_get(_nonfinite_leaves(state)))
    if not flags.any():
        return
    paths = [jax.tree_util.keystr(p, simple=True, separator=".")
             for p, leaf in jax.tree_util.tree_flatten_with_path(state)[0] if jnp.issubdtype(leaf.dtype, jnp.inexact)]
    raise TrainingDivergedError(f"training diverged: {paths[int(np.argmax(flags))]} became non-finite by step {step}; "
                                "nothing was stored (try a smaller learning rate)")


def _stack_metrics(chunk) -> dict[str, np.ndarray]:
    return {name: np.asarray(getattr(chunk, name)) for name in chunk._fields}


def _concat(done: dict[str, np.ndarray] | None, new: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return new if done is None else {k: np.concatenate([done[k], new[k]], axis=1) for k in new}


def train_in_chunks(optimizer: BaseOptimizer, keys, problems, n_chunks: int, *, on_chunk=None, devices=None,
                    store: ChunkStore | None = None, sequential_runs: bool = False):
    """Train one run per row of ``keys`` / ``problems``: ``(state, metrics {name: [runs, steps]}, timings)``.

    ``optimizer.init(key, problem)`` builds one run's state (mapped with ``lax.map``, not ``vmap``: a vmapped
    orthogonal init becomes batched LAPACK QRs that can starve XLA's CPU pool). The runs are split across the
    ``devices`` (default: all of the default backend's; :func:`run_sharding`), each run computing what it would
    alone (up to float rounding: XLA may vectorize a different batch width differently). After each chunk the
    metrics named in ``optimizer.finite_metrics`` and every float in the state are checked (non-finite:
    :class:`TrainingDivergedError`), ``store`` (if given) saves a checkpoint, and ``on_chunk(done, total,
    metrics_of_chunk)`` is called. With a ``store`` holding a checkpoint of the same layout, training resumes after
    its last chunk and ends with the numbers an uninterrupted run gives (same device count).
    ``sequential_runs`` (see :func:`make_chunk_runner`) runs a device's runs one after the other. ``timings`` separate
    compilation (and loading a checkpoint) from training, and say which chunk training resumed after
    (``resumed_from_chunk``, 0 = fresh) and how many steps this call trained (``trained_updates``: rates use it).
    """
    n_runs = keys.shape[0]
    sharding, n_padded = run_sharding(n_runs, devices)
    keys, problems = _pad_runs((keys, problems), n_padded)
    per_chunk, n_chunks = chunk_lengths(optimizer.n_steps, n_chunks)
    layout = {"n_runs": n_runs, "padded_runs": n_padded, "steps_per_chunk": per_chunk, "n_chunks": n_chunks}
    runner = make_chunk_runner(optimizer.step, per_chunk, sharding, sequential_runs)
    init = jax.jit(lambda ks, ps: jax.lax.map(lambda kp: optimizer.init(*kp), (ks, ps)))
    t0 = time.perf_counter()
    progress = None if store is None else store.load(jax.eval_shape(init, keys, problems), layout)
    state = init(keys, problems) if progress is None else progress.state
    if sharding is not None:
        state, problems = jax.device_put((state, problems), sharding)
    done, metrics = (0, None) if progress is None else (progress.done, progress.metrics)
    compiled = runner.lower(state, problems).compile() if done < n_chunks else None  # None: killed after training
    compile_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    for i in range(done, n_chunks):
        state, chunk = compiled(state, problems)
        chunk = {k: v[:n_runs] for k, v in _stack_metrics(chunk).items()}
        check_finite_metrics(chunk, optimizer.finite_metrics, i * per_chunk)
        check_finite_state(state, (i + 1) * per_chunk)
        metrics = _concat(metrics, chunk)
        if store is not None:
            store.save(i + 1, state, metrics, layout)
        if on_chunk is not None:
            on_chunk(i + 1, n_chunks, chunk)
    timings = {"compile_seconds": compile_s, "train_seconds": time.perf_counter() - t1,
               "updates": n_chunks * per_chunk, "trained_updates": (n_chunks - done) * per_chunk,
               "devices": 1 if sharding is None else len(sharding.mesh.devices), "resumed_from_chunk": done}
    home = (jax.devices() if devices is None else list(devices))[0]
    return _unpad_runs(state, n_runs, home), metrics, timings
