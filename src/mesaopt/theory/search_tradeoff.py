"""RLO's toy model of optimization power (§2.1): when does a base optimizer buy a run-time optimizer?

A base optimizer has ``P`` bits of optimization power to spend across ``N`` distinct task instances. It can select
the outputs directly (``P / N`` bits per instance), or spend ``f(x)`` of its bits on a learned algorithm that
itself optimizes ``x`` bits per instance at run time. It selects

    x* = argmax_x  (P - f(x)) / N + x     subject to  0 <= x,  f(x) <= P

so the more distinct instances there are, the cheaper run-time search is per instance and the more of the
optimization happens at run time. Exact optima for three stated cost families (``f(0) = 0``, increasing):

- ``linear``: ``f(x) = c x`` (bang-bang: all at run time once ``N > c``, none below);
- ``power``: ``f(x) = c x^a`` (``a > 1``: an interior optimum ``(N / (c a))^(1 / (a - 1))`` that grows with
  ``N``; ``a < 1``: bang-bang);
- ``log``: ``f(x) = c ln(1 + x)`` (concave: bang-bang).

The maximizer of a differentiable function on an interval is an endpoint or a stationary point, so
:func:`optimal_runtime_bits` evaluates those candidates exactly and keeps the best (the smallest ``x`` on a tie:
a base optimizer indifferent between them is not said to build a searcher). :func:`fit_share_curve` fits the
model's run-time share to a measured curve (the task-diversity experiment's), by grid search.

Assumptions, stated because a measured curve can depart from them: optimization power is additive in bits across
the base and the learned level; the base optimizer's bits are fully spent; all instances weigh the same; ``f``
depends on ``x`` only (not on the task).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mesaopt.errors import MesaoptError, is_finite_number

FAMILIES = ("linear", "power", "log")
"""Cost families of :class:`CostFamily`."""


@dataclass(frozen=True)
class CostFamily:
    """``f(x)``: the bits the base optimizer spends to build a learned algorithm that optimizes ``x`` bits."""

    name: str
    """``linear`` (``c x``), ``power`` (``c x^a``) or ``log`` (``c ln(1 + x)``)."""
    c: float = 1.0
    """Scale (> 0)."""
    a: float = 2.0
    """Exponent of ``power`` (> 0); unused otherwise."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the allowed values."""
        if self.name not in FAMILIES:
            raise MesaoptError(f"cost family must be one of {', '.join(FAMILIES)}, got {self.name!r}")
        for field in ("c", "a"):
            value = getattr(self, field)
            if not is_finite_number(value) or value <= 0:
                raise MesaoptError(f"cost family {field} must be a finite number > 0, got {value!r}")

    def cost(self, x):
        """``f(x)`` (elementwise on arrays)."""
        x = np.asarray(x, float)
        if self.name == "linear":
            return self.c * x
        if self.name == "power":
            return self.c * x**self.a
        return self.c * np.log1p(x)

    def max_bits(self, budget: float) -> float:
        """The largest ``x`` the budget allows: ``f(x) = P``."""
        if self.name == "linear":
            return budget / self.c
        if self.name == "power":
            return (budget / self.c) ** (1.0 / self.a)
        return math.expm1(budget / self.c)

    def stationary_points(self, n_instances: float) -> list[float]:
        """Solutions of ``f'(x) = N`` with ``x > 0`` (where the objective's slope is zero)."""
        if self.name == "power" and self.a != 1.0:
            return [(n_instances / (self.c * self.a)) ** (1.0 / (self.a - 1.0))]
        if self.name == "log" and self.c / n_instances > 1.0:
            return [self.c / n_instances - 1.0]
        return []


@dataclass(frozen=True)
class Optimum:
    """The base optimizer's choice at one ``(N, P)``."""

    runtime_bits: float
    """``x*``: bits the learned algorithm optimizes per instance at run time."""
    base_bits_per_instance: float
    """``(P - f(x*)) / N``: bits the base optimizer still selects per instance directly."""
    objective: float
    """Total optimization per instance, ``(P - f(x*)) / N + x*``."""

    @property
    def runtime_share(self) -> float:
        """Share of the per-instance optimization done at run time (0 when there is none)."""
        return self.runtime_bits / self.objective if self.objective > 0 else 0.0


def check_model_inputs(n_instances: float, budget: float) -> None:
    """One-line ``MesaoptError`` for ``N < 1`` or ``P < 0``."""
    if not is_finite_number(n_instances) or n_instances < 1:
        raise MesaoptError(f"the number of instances N must be a finite number >= 1, got {n_instances!r}")
    if not is_finite_number(budget) or budget < 0:
        raise MesaoptError(f"the base optimizer's budget P must be a finite number of bits >= 0, got {budget!r}")


def optimal_runtime_bits(n_instances: float, budget: float, family: CostFamily) -> Optimum:
    """``x*`` exactly: the best of the endpoints ``0``, ``f^-1(P)`` and the stationary points in between."""
    family.validate()
    check_model_inputs(n_instances, budget)
    top = family.max_bits(budget)
    candidates = sorted({0.0, top, *(x for x in family.stationary_points(n_instances) if 0.0 < x < top)})
    values = [(budget - float(family.cost(x))) / n_instances + x for x in candidates]
    best = max(range(len(candidates)), key=lambda i: (round(values[i], 12), -candidates[i]))
    x = candidates[best]
    return Optimum(runtime_bits=x, base_bits_per_instance=(budget - float(family.cost(x))) / n_instances,
                   objective=values[best])


def runtime_share_curve(n_values, budget: float, family: CostFamily) -> np.ndarray:
    """The run-time share of :func:`optimal_runtime_bits` at each ``N``."""
    return np.array([optimal_runtime_bits(float(n), budget, family).runtime_share for n in n_values])


@dataclass(frozen=True)
class ShareCurveFit:
    """The toy model fitted to a measured curve rising from 0 to 1 with ``N``."""

    family: str
    """The cost family fitted."""
    c: float
    """Fitted scale of ``f``."""
    a: float
    """Fitted exponent (``power``; 1 otherwise)."""
    budget: float
    """Fitted budget ``P`` (bits)."""
    predicted: list
    """The model's run-time share at each measured ``N``."""
    r2: float
    """1 - SSE / SS of the measured curve about its mean (1: exact; <= 0: no better than a constant)."""
    n_half: float
    """The smallest measured ``N`` at which the fitted share reaches one half (``inf`` if none does)."""
    at_grid_edge: bool
    """Some fitted parameter is the first or last value of its grid (widen the grid before reading it)."""


def fit_share_curve(n_values, measured, family: str = "power", budgets=(1.0, 4.0, 16.0, 64.0),
                    scales=None, exponents=(1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)) -> ShareCurveFit:
    """Fit the model's run-time share to ``measured`` (one value in [0, 1] per ``N``: e.g. a normalized
    novel-maze accuracy) by least squares over a grid of ``(c, a, P)``; ``scales`` defaults to 61 values
    log-spaced from ``min N / 4`` to ``(max N)^2``. The curve's shape pins down little more than where it rises and
    how steeply: read ``n_half`` and ``r2``, not ``c`` and ``P`` alone (``at_grid_edge`` flags a fit on the grid's
    boundary)."""
    n = np.asarray(n_values, float)
    y = np.asarray(measured, float)
    if n.ndim != 1 or n.shape != y.shape or n.size < 2 or not np.all(np.isfinite(y)) or np.any(n < 1):
        raise MesaoptError("fit_share_curve needs two or more N >= 1 and as many finite measured values")
    if scales is None:
        scales = np.geomspace(n.min() / 4.0, max(n.max() ** 2, n.min()), 61)
    best = None
    for c in scales:
        for a in (exponents if family == "power" else (1.0,)):
            for p in budgets:
                pred = runtime_share_curve(n, p, CostFamily(family, float(c), float(a)))
                sse = float(np.sum((pred - y) ** 2))
                if best is None or sse < best[0]:
                    best = (sse, float(c), float(a), float(p), pred)
    sse, c, a, p, pred = best
    grids = [(c, list(scales)), (p, list(budgets))] + ([(a, list(exponents))] if family == "power" else [])
    edge = any(len(grid) > 1 and value in (grid[0], grid[-1]) for value, grid in grids)
    total = float(np.sum((y - y.mean()) ** 2))
    reached = np.flatnonzero(pred >= 0.5)
    return ShareCurveFit(family=family, c=c, a=a, budget=p, predicted=[round(float(v), 4) for v in pred],
                         r2=round(1.0 - sse / total, 4) if total > 0 else float("nan"),
                         n_half=float(n[reached[0]]) if reached.size else math.inf, at_grid_edge=edge)
