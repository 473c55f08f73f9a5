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


def test_the_chain_product_explains_a_chain_of_copies_and_not_a_level_that_reads_the_top():
    rng = np.random.default_rng(2)
    top = rng.normal(size=(4, 4000))
    anti = -top + 0.5 * rng.normal(size=top.shape)  # a level anti-aligned with the top
    copy = anti + 0.8 * rng.normal(size=top.shape)  # a noisy copy of it
    out = objective_correlations({"value": top, "anti": anti, "copy": copy})
    with_top, product = out["with_top"], out["chain_product"]
    assert np.allclose(product["value"], 1.0) and np.allclose(product["anti"], with_top["anti"])
    assert np.allclose(with_top["copy"], product["copy"], atol=0.05)  # planted positive: a Markov chain
    assert np.all(with_top["anti"] < with_top["copy"]) and np.all(with_top["copy"] < 0)  # less anti-aligned below
    reads_top = top + 0.3 * rng.normal(size=top.shape)  # planted negative: the third level sees the top itself
    out = objective_correlations({"value": top, "anti": anti, "reads top": reads_top})
    assert np.all(out["with_top"]["reads top"] > out["chain_product"]["reads top"] + 0.15)  # 0.95 against 0.75
