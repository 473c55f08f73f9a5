"""Rank correlations of nested objectives: planted agreeing, independent and reversed objectives."""

import numpy as np
import pytest

from mesaopt.detectors.objective_correlation import objective_correlations, rank_correlation, ranks


def test_ranks_average_ties():
    assert ranks(np.array([10.0, 30.0, 20.0, 30.0])).tolist() == [0.0, 2.5, 1.0, 2.5]
    assert ranks(np.array([[3.0, 1.0], [1.0, 1.0]])).tolist() == [[1.0, 0.0], [0.5, 0.5]]


def test_monotone_objectives_agree_and_reversed_ones_disagree():
    rng = np.random.default_rng(0)
    top = rng.normal(size=500)
    assert float(rank_correlation(top, np.exp(3 * top))) == pytest.approx(1.0)  # any monotone transform
    assert float(rank_correlation(top, -top**3)) == pytest.approx(-1.0)
    assert abs(float(rank_correlation(top, rng.normal(size=500)))) < 0.15  # planted negative: independent
    assert float(rank_correlation(top, np.zeros(500))) == 0.0  # a constant objective ranks nothing


def test_a_noisy_chain_loses_agreement_level_by_level():
    rng = np.random.default_rng(1)
    top = rng.normal(size=(4, 2000))  # 4 seeds
    first = top + rng.normal(size=top.shape)
    second = first + rng.normal(size=top.shape)
    out = objective_correlations({"value": top, "proxy": first, "proxy of proxy": second})
    with_top = out["with_top"]
    assert with_top["value"].shape == (4,) and np.allclose(with_top["value"], 1.0)
    assert np.all(with_top["proxy"] > with_top["proxy of proxy"] + 0.1)
    # Gaussian: Spearman = (6 / pi) asin(rho / 2), rho = 1 / sqrt(3) for the second level
    assert np.allclose(with_top["proxy of proxy"], 6 / np.pi * np.arcsin(3**-0.5 / 2), atol=0.04)
    assert set(out["pairs"]) == {"value→proxy", "proxy→proxy of proxy"}
    with pytest.raises(ValueError, match="at least two levels"):
        objective_correlations({"value": top})
