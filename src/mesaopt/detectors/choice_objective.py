"""Behavioural objective from choices between two options: which candidate objective a chooser maximizes.

The choice-model counterpart of :mod:`mesaopt.detectors.irl` (same decision rule, for agents that pick one of two
options instead of walking a maze). For each candidate objective c alone, a Boltzmann-rational chooser picks option
x over option y with probability ``sigmoid(theta (c(x) - c(y)))``; theta is fitted by maximum likelihood (Newton's
method on a one-dimensional logistic regression, a small L2 penalty keeping deterministic choices finite). The
behavioural objective is the candidate with the largest log-likelihood gain over choosing at random, provided the
gain reaches ``min_gain_bits`` per choice and theta > 0 (the chooser is *attracted* to the candidate, not repelled);
otherwise ``"none"``. Candidates should disagree on many of the choices (e.g. a world where cue and value are
anti-correlated), or they cannot be told apart.
"""

from __future__ import annotations

import numpy as np

MIN_GAIN_BITS = 0.1
"""Smallest log-likelihood gain over random choice (bits per choice) that names a behavioural objective."""
NEWTON_STEPS = 30
"""Newton iterations of the one-dimensional fit (it converges in far fewer)."""
L2 = 1e-3
"""Penalty on theta^2 per choice (finite theta for perfectly separated choices)."""


def _log_likelihood(theta: float, gaps: np.ndarray) -> float:
    """Mean log-probability of the observed choices (nats), gaps = c(chosen) - c(declined)."""
    return float(np.mean(-np.logaddexp(0.0, -theta * gaps)))


def fit_choice_weight(gaps: np.ndarray) -> float:
    """Maximum-likelihood theta of ``P(chosen) = sigmoid(theta * gap)`` with a small L2 penalty."""
    theta = 0.0
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-theta * gaps))  # probability of the observed choice
        grad = np.mean((1.0 - p) * gaps) - 2 * L2 * theta
        hess = -np.mean(p * (1.0 - p) * gaps**2) - 2 * L2
        theta = theta - grad / hess
    return float(theta)


def recover_choice_objective(chosen: dict[str, np.ndarray], declined: dict[str, np.ndarray],
                             min_gain_bits: float = MIN_GAIN_BITS) -> dict:
    """Which candidate objective explains the choices.

    ``chosen[c]`` and ``declined[c]`` hold candidate c's value of the chosen and of the declined option, one entry
    per choice. Returns ``{"objective": name or "none", "gain_bits": {c: bits per choice}, "weight": {c: theta}}``.
    """
    if set(chosen) != set(declined) or not chosen:
        raise ValueError(f"chosen and declined must name the same candidates, got {sorted(chosen)} / "
                         f"{sorted(declined)}")
    gains, weights = {}, {}
    for name in chosen:
        gaps = np.asarray(chosen[name], np.float64) - np.asarray(declined[name], np.float64)
        theta = fit_choice_weight(gaps)
        weights[name] = round(theta, 4)
        gains[name] = round((_log_likelihood(theta, gaps) - np.log(0.5)) / np.log(2.0), 4)
    best = max(gains, key=gains.get)
    attracted = weights[best] > 0 and gains[best] >= min_gain_bits
    return {"objective": best if attracted else "none", "gain_bits": gains, "weight": weights}
