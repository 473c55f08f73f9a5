"""Confidence intervals across seeds."""

from __future__ import annotations

import numpy as np

# two-sided 95 % Student-t quantiles, df = 1..30 (beyond: normal 1.96)
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def t_quantile_95(df: int) -> float:
    """Two-sided 95 % quantile of Student's t with ``df`` degrees of freedom."""
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


def mean_ci(per_seed: np.ndarray, axis: int = 0, clip: tuple[float, float] | None = (0.0, 1.0)):
    """Mean over seeds and its 95 % t-interval ``(mean, low, high)``; a single seed gives a zero-width interval.

    Assumes seeds are independent draws; ``clip`` bounds the interval to the quantity's range (rates: [0, 1]).
    """
    x = np.asarray(per_seed, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    if n < 2:
        return mean, mean.copy(), mean.copy()
    half = t_quantile_95(n - 1) * x.std(axis=axis, ddof=1) / np.sqrt(n)
    low, high = mean - half, mean + half
    if clip is not None:
        low, high = np.clip(low, *clip), np.clip(high, *clip)
    return mean, low, high


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a binomial proportion ``successes / n`` (sensible at 0 and n, unlike the
    normal approximation); ``(0, 1)`` when ``n`` is 0."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))
