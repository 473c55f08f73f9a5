"""In-context linear regression: every prompt is a fresh (or pooled) task ``y = w·x + noise``.

A prompt holds ``n_context + 1`` examples ``(x_i, y_i)``. A learner predicts ``y_i`` from the examples before
``i`` and ``x_i`` — at every position for sequence models (error vs number of in-context examples) and at the
last position (the query, with ``n_context`` examples before it) for the single-query LSA layer.

Batches are a pure function of ``(key, step)``: :func:`batch_key` folds the step into the data key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from mesaopt.errors import MesaoptError

INPUT_DISTRIBUTIONS = ("gaussian", "uniform", "skewed", "orthant")
"""``gaussian``: x ~ N(0, I); ``uniform``: x ~ U(-1, 1)^d; ``skewed``: x ~ N(0, Σ) with eigenvalues ∝ 1/i²
rescaled to trace d; ``orthant``: like gaussian, but the context points of a prompt share one random orthant
while the query does not (Garg et al.'s orthant shift). ``input_scale`` multiplies every x."""


@dataclass(frozen=True)
class RegressionTask:
    """One in-context linear regression distribution."""

    d: int = 10
    """Input dimension (≥ 1)."""
    n_context: int = 10
    """In-context examples before the query; a prompt holds ``n_context + 1`` examples."""
    noise_std: float = 0.0
    """Standard deviation of the label noise (σ; σ² is the noise variance ridge and dMMSE assume)."""
    input_dist: str = "gaussian"
    """Input distribution, one of ``INPUT_DISTRIBUTIONS``."""
    input_scale: float = 1.0
    """Every input is multiplied by this (an out-of-distribution knob)."""
    pool_size: int | None = None
    """Number M of distinct tasks drawn once and reused (finite pretraining diversity); None = fresh per prompt."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` for impossible values."""
        if self.d <= 0:
            raise MesaoptError(f"task d must be ≥ 1, got {self.d}")
        if self.n_context < 0:
            raise MesaoptError(f"task n_context must be ≥ 0, got {self.n_context}")
        if self.noise_std < 0:
            raise MesaoptError(f"task noise_std must be ≥ 0, got {self.noise_std}")
        if self.input_dist not in INPUT_DISTRIBUTIONS:
            raise MesaoptError(f"unknown input_dist {self.input_dist!r}; allowed: {list(INPUT_DISTRIBUTIONS)}")
        if self.pool_size is not None and self.pool_size <= 0:
            raise MesaoptError(f"task pool_size M must be ≥ 1 (or None for fresh tasks), got {self.pool_size}")

    @property
    def n_examples(self) -> int:
        """Examples per prompt: the context plus the query."""
        return self.n_context + 1


class Prompts(NamedTuple):
    """A batch of prompts: inputs ``xs (B, n, d)``, labels ``ys (B, n)``, the task weights ``ws (B, d)``."""

    xs: jax.Array
    ys: jax.Array
    ws: jax.Array


def batch_key(data_key: jax.Array, step) -> jax.Array:
    """The key of training batch ``step``: batches are a pure function of (key, step)."""
    return jax.random.fold_in(data_key, step)


def draw_task_pool(key: jax.Array, task: RegressionTask, size: int | None = None) -> jax.Array:
    """``(M, d)`` task weights w ~ N(0, I), drawn once (``size`` defaults to ``task.pool_size``)."""
    size = task.pool_size if size is None else size
    if size is None or size <= 0:
        raise MesaoptError(f"a task pool needs a size M ≥ 1, got {size}")
    return jax.random.normal(key, (size, task.d))


def skewed_scales(d: int) -> jax.Array:
    """Per-dimension standard deviations of the ``skewed`` inputs: variances ∝ 1/i², trace d."""
    var = 1.0 / jnp.arange(1, d + 1) ** 2
    return jnp.sqrt(var * d / var.sum())


def _draw_inputs(key: jax.Array, task: RegressionTask, batch: int) -> jax.Array:
    shape = (batch, task.n_examples, task.d)
    k_x, k_sign = jax.random.split(key)
    if task.input_dist == "uniform":
        xs = jax.random.uniform(k_x, shape, minval=-1.0, maxval=1.0)
    else:
        xs = jax.random.normal(k_x, shape)
    if task.input_dist == "skewed":
        xs = xs * skewed_scales(task.d)
    if task.input_dist == "orthant":
        signs = jnp.where(jax.random.bernoulli(k_sign, 0.5, (batch, 1, task.d)), 1.0, -1.0)
        context = jnp.abs(xs[:, :-1]) * signs
        xs = jnp.concatenate([context, xs[:, -1:]], axis=1)
    return xs * task.input_scale


def _draw_weights(key: jax.Array, task: RegressionTask, batch: int, pool, n_active) -> jax.Array:
    if pool is None:
        return jax.random.normal(key, (batch, task.d))
    n_active = pool.shape[0] if n_active is None else n_active
    idx = jax.random.randint(key, (batch,), 0, n_active)
    return pool[idx]


def sample_prompts(key: jax.Array, task: RegressionTask, batch: int, pool: jax.Array | None = None,
                   n_active=None) -> Prompts:
    """A batch of prompts; tasks come from ``pool[:n_active]`` when a pool is given, else fresh w ~ N(0, I).

    ``n_active`` may be a traced integer, so one compiled program can serve pools of several sizes M (the
    pool array is allocated at the largest M and only its first ``n_active`` rows are used).
    """
    k_x, k_w, k_noise = jax.random.split(key, 3)
    xs = _draw_inputs(k_x, task, batch)
    ws = _draw_weights(k_w, task, batch, pool, n_active)
    ys = jnp.einsum("bnd,bd->bn", xs, ws)
    if task.noise_std > 0:
        ys = ys + task.noise_std * jax.random.normal(k_noise, ys.shape)
    return Prompts(xs, ys, ws)


def normalized_squared_error(pred: jax.Array, target: jax.Array, d: int) -> jax.Array:
    """Squared error divided by d (the variance of y for x, w ~ N(0, I)); 1 ≈ predicting zero."""
    return (pred - target) ** 2 / d
