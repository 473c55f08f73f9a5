"""RLO's toy model of optimization power: exact optima against hand-computed ones (including the boundary where
the budget binds), the run-time share's direction in N, and the curve fit on a planted curve and a flat one."""

import math

import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.theory.search_tradeoff import CostFamily, fit_share_curve, optimal_runtime_bits, runtime_share_curve


def test_linear_cost_is_bang_bang_around_n_equals_c():
    f = CostFamily("linear", c=4.0)
    low, tie, high = (optimal_runtime_bits(n, 8.0, f) for n in (2.0, 4.0, 8.0))
    assert low.runtime_bits == 0.0 and low.objective == pytest.approx(4.0) and low.runtime_share == 0.0
    assert tie.runtime_bits == 0.0 and tie.objective == pytest.approx(2.0)  # indifferent: no searcher is built
    assert high.runtime_bits == pytest.approx(2.0) and high.base_bits_per_instance == pytest.approx(0.0)
    assert high.runtime_share == 1.0


def test_convex_power_cost_has_an_interior_optimum_until_the_budget_binds():
    f = CostFamily("power", c=1.0, a=2.0)  # x* = N / 2 while N / 2 <= sqrt(P)
    interior = optimal_runtime_bits(4.0, 16.0, f)
    assert interior.runtime_bits == pytest.approx(2.0) and interior.objective == pytest.approx(5.0)
    assert interior.runtime_share == pytest.approx(0.4)
    bound = optimal_runtime_bits(10.0, 16.0, f)
    assert bound.runtime_bits == pytest.approx(4.0) and bound.base_bits_per_instance == pytest.approx(0.0)


def test_concave_costs_pick_an_endpoint():
    log = optimal_runtime_bits(1.0, math.log(5.0), CostFamily("log", c=1.0))
    assert log.runtime_bits == pytest.approx(4.0) and log.objective == pytest.approx(4.0)
    root = optimal_runtime_bits(1.0, 4.0, CostFamily("power", c=1.0, a=0.5))
    assert root.runtime_bits == pytest.approx(16.0)
    tiny = optimal_runtime_bits(1.0, 0.5, CostFamily("power", c=2.0, a=0.5))  # g(0) = 0.5 > g(1/16) = 1/16
    assert tiny.runtime_bits == 0.0


def test_more_instances_move_optimization_to_run_time():
    share = runtime_share_curve([1, 2, 4, 8, 16, 32, 64], 16.0, CostFamily("power", c=8.0, a=2.0))
    assert np.all(np.diff(share) >= -1e-12) and share[0] < 0.2 and share[-1] == pytest.approx(1.0)


def test_the_fit_recovers_a_planted_curve_and_not_a_flat_one():
    n = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256], float)
    planted = runtime_share_curve(n, 16.0, CostFamily("power", c=8.0, a=2.0))
    fit = fit_share_curve(n, planted, family="power")
    assert fit.r2 > 0.99 and fit.n_half == float(n[np.flatnonzero(planted >= 0.5)[0]])
    noisy_flat = 0.5 + 0.05 * np.sin(np.arange(n.size))
    assert fit_share_curve(n, noisy_flat, family="power").r2 < 0.5


@pytest.mark.parametrize("call, needle", [
    (lambda: optimal_runtime_bits(0.5, 1.0, CostFamily("linear")), "N must be a finite number >= 1"),
    (lambda: optimal_runtime_bits(2.0, -1.0, CostFamily("linear")), "budget P must be"),
    (lambda: optimal_runtime_bits(2.0, 1.0, CostFamily("cubic")), "cost family must be one of linear, power, log"),
    (lambda: optimal_runtime_bits(2.0, 1.0, CostFamily("power", a=0.0)), "cost family a must be"),
])
def test_bad_model_inputs_name_the_allowed_values(call, needle):
    with pytest.raises(MesaoptError, match=needle):
        call()
