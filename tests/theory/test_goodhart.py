"""The regressional-Goodhart closed forms against values computed by hand."""

import math

import pytest

from mesaopt.theory import goodhart


@pytest.mark.parametrize("n, expected", [(1, 0.0), (2, 1 / math.sqrt(math.pi)), (3, 1.5 / math.sqrt(math.pi)),
                                         (5, 1.16296)])
def test_the_expected_maximum_of_normals_matches_known_values(n, expected):
    # m_2 = 1/sqrt(pi), m_3 = 3/(2 sqrt(pi)); m_5 from tables of normal order statistics
    assert goodhart.expected_max_of_normals(n) == pytest.approx(expected, abs=2e-5)


def test_the_expected_maximum_grows_like_sqrt_2_ln_n_and_rejects_n_below_1():
    big = goodhart.expected_max_of_normals(2**20)
    assert 4.5 < big < math.sqrt(2 * math.log(2**20))
    with pytest.raises(ValueError, match="n must be >= 1"):
        goodhart.expected_max_of_normals(0)


def test_true_value_shrinks_with_depth_as_the_proxy_correlation_and_the_proxy_grows():
    m4 = goodhart.expected_max_of_normals(4)
    # sigma_V = 1, two levels of sd 1: sd(P_2) = sqrt(3)
    assert goodhart.best_of_n_true_value(1.0, [1.0, 1.0], 4) == pytest.approx(m4 / math.sqrt(3))
    assert goodhart.best_of_n_proxy_value(1.0, [1.0, 1.0], 4) == pytest.approx(m4 * math.sqrt(3))
    depths = [goodhart.best_of_n_true_value(2.0, [1.0] * k, 16) for k in range(1, 5)]
    assert depths == sorted(depths, reverse=True)
    assert goodhart.best_of_n_true_value(1.0, [], 8) == pytest.approx(goodhart.expected_max_of_normals(8))


def test_the_tilted_optimum_shifts_by_beta_standard_deviations():
    assert goodhart.tilted_true_value(1.0, [1.0], 2.0) == pytest.approx(2.0 / math.sqrt(2))
    assert goodhart.tilted_kl_bits(1.0) == pytest.approx(0.5 / math.log(2))
    assert goodhart.tilted_kl_bits(0.0) == 0.0


def test_the_rank_correlation_of_a_gaussian_proxy_is_six_over_pi_asin_half_rho():
    assert goodhart.proxy_rank_correlation(1.0, []) == pytest.approx(1.0)
    assert goodhart.proxy_rank_correlation(1.0, [1.0]) == pytest.approx(6 / math.pi * math.asin(0.5 / math.sqrt(2)))
