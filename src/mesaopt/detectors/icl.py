"""Detectors for in-context learners: which algorithm does a trained model run?

All pure functions of predictions, gradients or activations; each has a planted positive and negative in
``tests/detectors/test_icl_detectors.py``. Conventions: ``d`` is the input dimension, errors and distances are
divided by d (so predicting 0 for x, w ~ N(0, I) scores ≈ 1).
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np


def relative_prediction_difference(pred: jax.Array, reference: jax.Array) -> float:
    """``‖pred − reference‖₂ / ‖reference‖₂`` over a batch (0 = identical predictions; ≥ 0, lower is closer)."""
    return float(jnp.linalg.norm(pred - reference) / jnp.maximum(jnp.linalg.norm(reference), 1e-12))


def prediction_distance(pred: jax.Array, reference: jax.Array, d: int) -> float:
    """Raventós et al.'s Δ: mean squared difference of two learners' predictions divided by d (≥ 0)."""
    return float(jnp.mean((pred - reference) ** 2) / d)


def query_sensitivities(predict: Callable, xs: jax.Array, ys: jax.Array) -> jax.Array:
    """``(B, d)`` gradients ∂ŷ/∂x_query of ``predict(X_context, y_context, x_query) -> ŷ`` on each prompt (the
    last example is the query; its label is not used)."""
    grad = jax.grad(lambda xq, X, y: predict(X[:-1], y[:-1], xq))
    return jax.vmap(grad)(xs[:, -1], xs, ys)


def sensitivity_agreement(grads: jax.Array, reference: jax.Array) -> dict[str, float]:
    """Mean cosine (1 = same direction; in [−1, 1]) and mean relative L2 distance (0 = equal) of two learners'
    input sensitivities, prompt by prompt."""
    norms = jnp.linalg.norm(grads, axis=1) * jnp.linalg.norm(reference, axis=1)
    cos = jnp.sum(grads * reference, axis=1) / jnp.maximum(norms, 1e-12)
    rel = jnp.linalg.norm(grads - reference, axis=1) / jnp.maximum(jnp.linalg.norm(reference, axis=1), 1e-12)
    return {"cosine": float(cos.mean()), "relative_l2": float(rel.mean())}


def interpolation_losses(loss_of: Callable, params_a, params_b, n_points: int = 11) -> tuple[np.ndarray, np.ndarray]:
    """Loss along the straight line ``(1 − α) a + α b`` for α in [0, 1]: ``(alphas, losses)``.

    A flat path (no barrier above the endpoints) says the trained weights and the constructed ones sit in one
    basin — the trained network implements the constructed algorithm, not just something with equal loss.
    """
    alphas = np.linspace(0.0, 1.0, n_points)
    losses = [float(loss_of(jax.tree_util.tree_map(lambda a, b, t=t: (1 - t) * a + t * b, params_a, params_b)))
              for t in alphas]
    return alphas, np.asarray(losses)


def linear_probe_r2(features: np.ndarray, targets: np.ndarray, train_fraction: float = 0.5,
                    l2: float = 1e-3) -> float:
    """Held-out R² of a ridge-regression probe from ``features (N, F)`` to ``targets (N, K)``, averaged over the K
    target dimensions (1 = linearly decodable; ≈ 0 or below = not). Features are standardized on the train split."""
    features, targets = np.asarray(features, np.float64), np.asarray(targets, np.float64)
    n_train = int(len(features) * train_fraction)
    mu, sd = features[:n_train].mean(0), features[:n_train].std(0) + 1e-8
    f = np.concatenate([(features - mu) / sd, np.ones((len(features), 1))], axis=1)
    a, b = f[:n_train], f[n_train:]
    coef = np.linalg.solve(a.T @ a + l2 * n_train * np.eye(a.shape[1]), a.T @ targets[:n_train])
    resid = ((b @ coef - targets[n_train:]) ** 2).sum(0)
    total = ((targets[n_train:] - targets[:n_train].mean(0)) ** 2).sum(0)
    return float(np.mean(1.0 - resid / np.maximum(total, 1e-12)))


def crossing_point(xs, closer_to_a, closer_to_b) -> float | None:
    """The x where ``closer_to_a − closer_to_b`` first changes sign from ≥ 0 to < 0, interpolated linearly in
    log2 x between grid points (M* of the task-diversity transition: distance to ridge drops below the
    distance to dMMSE). The first grid point when the difference is already negative there (M* ≤ that point);
    ``None`` when it never turns negative on the grid."""
    xs = np.asarray(xs, np.float64)
    diff = np.asarray(closer_to_a, np.float64) - np.asarray(closer_to_b, np.float64)
    for i in range(len(xs) - 1):
        if diff[i] >= 0 > diff[i + 1]:
            lo, hi = np.log2(xs[i]), np.log2(xs[i + 1])
            t = diff[i] / (diff[i] - diff[i + 1])
            return float(2 ** (lo + t * (hi - lo)))
    if len(diff) and diff[0] < 0:
        return float(xs[0])
    return None
