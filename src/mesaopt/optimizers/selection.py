"""Selection as a base optimizer: pick candidates by a score, with a pressure knob.

Two forms, both applied to a pool of candidates along the last axis:

- **best-of-n** (:func:`best_of_prefixes`): the top-1 of the first n candidates by the score, for several n at
  once. Its pressure is ``log2 n`` bits (the most optimization power best-of-n can exert). Taking prefixes of one
  pool (common random numbers) makes the curves over n smooth without changing each point's distribution.
- **the KL-regularized optimum** (:func:`boltzmann_tilt`): the distribution ``pi ∝ exp(beta * score)`` over the
  pool, what reinforcement learning with a KL penalty of weight ``1 / beta`` towards the pool converges to (the RL
  analogue of best-of-n). Its pressure is ``KL(pi || uniform)`` in bits.
- **top fraction** (:func:`top_fraction_mask`): keep the best share q of a pool (``-log2 q`` bits), hiring by a
  metric.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float


def best_of_prefixes(score: Float[Array, "... n"], measures: tuple, sizes: tuple[int, ...]) -> list:
    """For each n in ``sizes`` (static, each at most the pool), every array of ``measures`` (shaped like ``score``)
    at the highest-scoring of the first n candidates: a list aligned with ``measures``, each ``[len(sizes), ...]``."""
    out = [[] for _ in measures]
    for n in sizes:
        best = jnp.argmax(score[..., :n], axis=-1)[..., None]
        for i, m in enumerate(measures):
            out[i].append(jnp.take_along_axis(m[..., :n], best, axis=-1)[..., 0])
    return [jnp.stack(o) for o in out]


def boltzmann_tilt(score: Float[Array, "... n"], measures: tuple, beta) -> tuple[list, Float[Array, "..."]]:
    """Expectations of each of ``measures`` under ``pi ∝ exp(beta * score)`` over the pool (last axis), and
    ``KL(pi || uniform)`` in bits (0 at beta = 0, at most ``log2 n``)."""
    logits = beta * score
    log_pi = logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)
    pi = jnp.exp(log_pi)
    n = score.shape[-1]
    kl_bits = jnp.sum(pi * (log_pi + math.log(n)), axis=-1) / math.log(2.0)
    return [jnp.sum(pi * m, axis=-1) for m in measures], kl_bits


def top_fraction_mask(score: Float[Array, "... n"], fraction: float) -> Bool[Array, "... n"]:
    """The best ``max(1, round(fraction * n))`` candidates of each pool by ``score`` (ties: the lower index)."""
    n = score.shape[-1]
    keep = max(1, round(fraction * n))
    order = jnp.argsort(-score, axis=-1, stable=True)
    ranks = jnp.argsort(order, axis=-1)
    return ranks < keep
