"""Closed-form reference learners for in-context regression: what a learned in-context algorithm is compared to.

Every learner maps one prompt's context to a prediction: ``learner(X (n, d), y (n,), mask (n,), x_query (d,))``
where ``mask`` marks which of the ``n`` rows are context (the others are ignored, so one compiled function
serves every prefix length). :func:`predict_every_position` predicts ``y_i`` from the examples before ``i``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from mesaopt.errors import MesaoptError
from mesaopt.tasks.regression import RegressionTask, sample_prompts

Learner = Callable[[jax.Array, jax.Array, jax.Array, jax.Array], jax.Array]


def _masked(X, y, mask):
    return X * mask[:, None], y * mask


def least_squares(X, y, mask, x_query):
    """Minimum-norm least squares: ``x_q · pinv(X) y`` (interpolates when there are ≤ d points)."""
    Xm, ym = _masked(X, y, mask)
    return x_query @ (jnp.linalg.pinv(Xm) @ ym)


def averaging(X, y, mask, x_query):
    """Garg et al.'s averaging estimator: ``x_q · mean_i(y_i x_i)`` (one GD step of size 1 from w = 0)."""
    Xm, ym = _masked(X, y, mask)
    return x_query @ (Xm.T @ ym) / jnp.maximum(mask.sum(), 1.0)


@dataclass(frozen=True)
class Ridge:
    """Ridge regression ``(XᵀX + λI)⁻¹Xᵀy`` with λ = noise_var / prior_var: the posterior mean (Bayes-optimal)
    for w ~ N(0, prior_var I) and Gaussian label noise; λ = 0 falls back to minimum-norm least squares."""

    noise_var: float
    prior_var: float = 1.0

    def __call__(self, X, y, mask, x_query):
        lam = self.noise_var / self.prior_var
        if lam == 0:
            return least_squares(X, y, mask, x_query)
        Xm, ym = _masked(X, y, mask)
        w = jnp.linalg.solve(Xm.T @ Xm + lam * jnp.eye(X.shape[1]), Xm.T @ ym)
        return x_query @ w


@dataclass(frozen=True)
class GradientDescent:
    """``steps`` steps of gradient descent from w = 0 on ``L(w) = 1/(2N) Σ_i (w·x_i − y_i)²``, N = context size."""

    step_size: float
    steps: int = 1

    def __call__(self, X, y, mask, x_query):
        Xm, ym = _masked(X, y, mask)
        n = jnp.maximum(mask.sum(), 1.0)

        def step(w, _):
            return w - self.step_size * Xm.T @ (Xm @ w - ym) / n, None

        w, _ = jax.lax.scan(step, jnp.zeros(X.shape[1]), None, length=self.steps)
        return x_query @ w


@dataclass(frozen=True)
class NearestNeighbours:
    """Mean label of the ``k`` context points nearest to the query (fewer when the context is shorter; 0 if empty)."""

    k: int = 3

    def __call__(self, X, y, mask, x_query):
        dist = jnp.where(mask > 0, jnp.sum((X - x_query) ** 2, axis=1), jnp.inf)
        k = min(self.k, X.shape[0])
        neg, idx = jax.lax.top_k(-dist, k)
        valid = jnp.isfinite(neg)
        return jnp.sum(jnp.where(valid, y[idx], 0.0)) / jnp.maximum(valid.sum(), 1)


@dataclass(frozen=True, eq=False)
class DiscreteMMSE:
    """dMMSE: the posterior mean of w over a finite task pool (uniform prior on ``pool[:n_active]``, Gaussian
    noise of variance ``noise_var``, floored at 1e-4 so noiseless tasks stay finite) — Bayesian updating over
    the pretraining tasks as an optimizer."""

    pool: jax.Array
    noise_var: float
    n_active: object = None

    def __call__(self, X, y, mask, x_query):
        var = max(self.noise_var, 1e-4)
        resid = (X @ self.pool.T - y[:, None]) * mask[:, None]
        logits = -jnp.sum(resid**2, axis=0) / (2 * var)
        if self.n_active is not None:
            logits = jnp.where(jnp.arange(self.pool.shape[0]) < self.n_active, logits, -jnp.inf)
        post = jax.nn.softmax(logits)
        return x_query @ (post @ self.pool)


LEARNER_NAMES = ("least_squares", "ridge", "gd", "averaging", "knn3", "dmmse")
"""Reference learners by name (see :func:`make_learner`)."""


def make_learner(name: str, task: RegressionTask, *, pool=None, n_active=None, gd_step_size: float | None = None,
                 gd_steps: int = 1) -> Learner:
    """The reference learner ``name`` for ``task``; one-line ``MesaoptError`` for unknown names or missing inputs."""
    noise_var = task.noise_std**2
    if name == "least_squares":
        return least_squares
    if name == "ridge":
        return Ridge(noise_var)
    if name == "averaging":
        return averaging
    if name == "knn3":
        return NearestNeighbours(3)
    if name == "gd":
        if gd_step_size is None:
            raise MesaoptError("reference learner 'gd' needs a step size (see best_gd_step_size)")
        return GradientDescent(gd_step_size, gd_steps)
    if name == "dmmse":
        if pool is None:
            raise MesaoptError("reference learner 'dmmse' needs the finite task pool it is Bayesian over")
        return DiscreteMMSE(pool, noise_var, n_active)
    raise MesaoptError(f"unknown reference learner {name!r}; allowed: {list(LEARNER_NAMES)}")


def predict_every_position(learner: Learner, xs: jax.Array, ys: jax.Array) -> jax.Array:
    """``(B, n)`` predictions: position i uses examples ``0..i-1`` as context and ``x_i`` as the query."""
    n = xs.shape[1]
    masks = (jnp.arange(n)[None, :] < jnp.arange(n)[:, None]).astype(xs.dtype)  # row i: context j < i

    def one_prompt(X, y):
        return jax.vmap(lambda m, xq: learner(X, y, m, xq))(masks, X)

    return jax.vmap(one_prompt)(xs, ys)


def predict_query(learner: Learner, xs: jax.Array, ys: jax.Array) -> jax.Array:
    """``(B,)`` predictions of the last example from all the others."""
    n = xs.shape[1]
    mask = (jnp.arange(n) < n - 1).astype(xs.dtype)
    return jax.vmap(lambda X, y: learner(X, y, mask, X[-1]))(xs, ys)


def best_gd_step_size(key: jax.Array, task: RegressionTask, steps: int = 1, n_prompts: int = 8192) -> float:
    """The step size of ``steps``-step GD with the least expected query error on ``task`` (fresh tasks).

    One step is linear in the step size, so the optimum is closed-form (a least-squares fit of y_q on the
    step-size-1 prediction); several steps use a log-spaced grid of 200 step sizes.
    """
    p = sample_prompts(key, task, n_prompts)
    y_q = p.ys[:, -1]
    if steps == 1:
        g = predict_query(GradientDescent(1.0, 1), p.xs, p.ys)
        return float(jnp.sum(g * y_q) / jnp.sum(g * g))
    # The Hessian XᵀX/N spreads its trace mean‖x‖² over min(d, N) nonzero eigenvalues: scale the grid by their mean.
    mean_eig = jnp.mean(jnp.sum(p.xs**2, axis=-1)) / max(min(task.d, task.n_context), 1)
    grid = jnp.logspace(-3, 1, 200) / mean_eig
    errs = jax.vmap(lambda eta: jnp.mean((predict_query(GradientDescent(eta, steps), p.xs, p.ys) - y_q) ** 2))(grid)
    return float(grid[jnp.nanargmin(errs)])
