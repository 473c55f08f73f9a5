"""How well the objectives of nested optimizers agree: rank correlations over a common set of outcomes.

In a chain of optimizers (evolution → a learner → a planner; shareholders → a principal → an agent; a true value
→ proxy → proxy of the proxy) every level optimizes its own objective. Scored on the same outcomes (states,
candidates, food kinds), two objectives agree to the extent that they *rank* the outcomes alike — which is what an
optimizer uses. The detector reports Spearman's rank correlation of every level with the top (true) objective and
of every adjacent pair; measured on the training and on a shifted distribution it shows how alignment decays down
a chain and under the shift.
"""

from __future__ import annotations

import numpy as np


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 along the last axis, ties sharing their average rank (vectorized over leading axes)."""
    values = np.asarray(values, np.float64)
    n = values.shape[-1]
    order = np.argsort(values, axis=-1, kind="stable")
    sorted_values = np.take_along_axis(values, order, axis=-1)
    position = np.broadcast_to(np.arange(n), values.shape)
    changes = np.diff(sorted_values, axis=-1) != 0
    edge = np.ones(values.shape[:-1] + (1,), bool)
    starts_run = np.concatenate([edge, changes], axis=-1)
    ends_run = np.concatenate([changes, edge], axis=-1)
    # a run of equal values spans [first, last]: carry each run's first position forward, its last backward
    first = np.maximum.accumulate(np.where(starts_run, position, 0), axis=-1)
    last = np.flip(np.minimum.accumulate(np.flip(np.where(ends_run, position, n - 1), -1), axis=-1), -1)
    out = np.empty_like(values)
    np.put_along_axis(out, order, (first + last) / 2.0, axis=-1)
    return out


def rank_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Spearman's rho of ``a`` and ``b`` along the last axis (leading axes: e.g. seeds); 0 where either is
    constant (an objective that ranks nothing has no agreement to measure)."""
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(axis=-1, keepdims=True), rb - rb.mean(axis=-1, keepdims=True)
    denom = np.sqrt((ra**2).sum(axis=-1) * (rb**2).sum(axis=-1))
    return np.where(denom > 0, (ra * rb).sum(axis=-1) / np.where(denom > 0, denom, 1.0), 0.0)


def objective_correlations(objectives: dict[str, np.ndarray]) -> dict:
    """``objectives``: level name → its objective's value of every outcome (``[..., outcomes]``), top level first.
    Returns ``{"with_top": {level: rho}, "pairs": {"upper→lower": rho}}`` (rho arrays over the leading axes)."""
    if len(objectives) < 2:
        raise ValueError(f"need at least two levels to correlate, got {list(objectives)}")
    names = list(objectives)
    top = objectives[names[0]]
    return {"with_top": {n: rank_correlation(top, objectives[n]) for n in names},
            "pairs": {f"{a}→{b}": rank_correlation(objectives[a], objectives[b]) for a, b in zip(names, names[1:])}}
