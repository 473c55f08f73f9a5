"""A grid point's headline from its tasks' headlines.

A point run as one task keeps that run's numbers and intervals (``<name>_ci``). A point split into seed
batches gets, per number, the seed-weighted mean of the batches and a 95 % Student-t interval over the batches'
values around it (the batches are independent draws of the same config; with equal batch sizes this is the
usual interval over batch means). Counts (``n_seeds`` …) add up; ``wall_seconds`` adds up too (compute spent).
"""

from __future__ import annotations

import math

import numpy as np

from mesaopt.detectors.stats import t_quantile_95

SUMMED = ("n_seeds", "wall_seconds")
"""Headline numbers that add up over a point's seed batches rather than average."""


def headline_numbers(headline: dict) -> list[str]:
    """Names of a headline's plain numbers (not bools, not ``_ci`` intervals), in the headline's order."""
    return [k for k, v in headline.items()
            if isinstance(v, int | float) and not isinstance(v, bool) and not k.endswith("_ci")]


def _interval(values: np.ndarray, centre: float) -> list[float]:
    half = t_quantile_95(len(values) - 1) * float(np.std(values, ddof=1)) / math.sqrt(len(values))
    return [centre - half, centre + half]


def point_headline(headlines: list[dict], seeds: list[int]) -> dict:
    """One headline for a point from its tasks' ``headlines`` (each run with ``seeds[i]`` seeds).

    Keeps only the numbers every task reports; see the module docstring for how they combine."""
    if not headlines:
        return {}
    if len(headlines) == 1:
        return dict(headlines[0])
    names = [k for k in headline_numbers(headlines[0]) if all(k in h for h in headlines[1:])]
    weights = np.asarray(seeds, dtype=np.float64)
    out: dict = {"n_batches": len(headlines)}
    for name in names:
        values = np.asarray([float(h[name]) for h in headlines])
        if name in SUMMED:
            out[name] = float(values.sum())
            continue
        if not np.all(np.isfinite(values)):
            out[name] = float("nan")
            continue
        centre = float(np.average(values, weights=weights))
        out[name] = centre
        out[f"{name}_ci"] = _interval(values, centre)
    return out
