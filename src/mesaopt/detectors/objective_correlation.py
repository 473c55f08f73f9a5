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
    Returns ``{"with_top": {level: rho}, "pairs": {"upper→lower": rho}, "chain_product": {level: rho}}`` (rho
    arrays over the leading axes). ``chain_product`` multiplies the adjacent pairs' correlations from the top down
    to each level: what ``with_top`` would be if every level's objective were a noisy copy of the one above and
    nothing else (a Markov chain; exact for Pearson's rho of a Gaussian chain, close for Spearman's). Where the
    two agree, a level's alignment with the top is set by the links above it, and since no link exceeds 1 in size,
    the size of the correlation can only shrink down the chain: below an anti-aligned level (rho < 0) the next one
    is *less* anti-aligned, not more."""
    if len(objectives) < 2:
        raise ValueError(f"need at least two levels to correlate, got {list(objectives)}")
    names = list(objectives)
    top = objectives[names[0]]
    pairs = {f"{a}→{b}": rank_correlation(objectives[a], objectives[b]) for a, b in zip(names, names[1:])}
    product = [np.ones(np.shape(top)[:-1])]
    for link in pairs.values():
        product.append(product[-1] * link)
    return {"with_top": {n: rank_correlation(top, objectives[n]) for n in names}, "pairs": pairs,
            "chain_product": dict(zip(names, product))}
