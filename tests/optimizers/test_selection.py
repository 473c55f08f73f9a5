"""Selection by best-of-n, by the KL-regularized tilt and by top fraction, on planted pools."""

import math

import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.optimizers.selection import best_of_prefixes, boltzmann_tilt, top_fraction_mask


def test_best_of_prefixes_reads_the_measures_at_each_prefix_argmax():
    score = jnp.array([[3.0, 1.0, 5.0, 2.0], [0.0, 4.0, 1.0, 9.0]])
    value = jnp.array([[10.0, 11.0, 12.0, 13.0], [20.0, 21.0, 22.0, 23.0]])
    chosen_value, chosen_score = best_of_prefixes(score, (value, score), (1, 2, 4))
    assert chosen_value.tolist() == [[10.0, 20.0], [10.0, 21.0], [12.0, 23.0]]
    assert chosen_score.tolist() == [[3.0, 0.0], [3.0, 4.0], [5.0, 9.0]]


def test_the_tilt_spans_the_pool_mean_to_its_argmax_and_its_kl_is_bounded():
    score = jnp.array([0.0, 1.0, 2.0, 3.0])
    value = jnp.array([1.0, 2.0, 3.0, 10.0])
    (mean0,), kl0 = boltzmann_tilt(score, (value,), 0.0)
    assert float(mean0) == pytest.approx(4.0) and float(kl0) == pytest.approx(0.0, abs=1e-6)
    (mean_hi,), kl_hi = boltzmann_tilt(score, (value,), 50.0)
    assert float(mean_hi) == pytest.approx(10.0, abs=1e-4) and float(kl_hi) == pytest.approx(2.0, abs=1e-4)
    (mean1,), kl1 = boltzmann_tilt(score, (value,), 1.0)
    weights = np.exp([0.0, 1.0, 2.0, 3.0]) / np.exp([0.0, 1.0, 2.0, 3.0]).sum()
    assert float(mean1) == pytest.approx(float(weights @ np.array([1.0, 2.0, 3.0, 10.0])), rel=1e-5)
    assert float(kl1) == pytest.approx(float(np.sum(weights * np.log(weights * 4)) / math.log(2)), rel=1e-4)


def test_top_fraction_keeps_the_best_share_and_breaks_ties_by_index():
    score = jnp.array([[0.5, 2.0, 2.0, -1.0, 3.0, 0.0, 1.0, 1.5]])
    assert np.flatnonzero(top_fraction_mask(score, 0.25)[0]).tolist() == [1, 4]
    assert np.flatnonzero(top_fraction_mask(score, 0.375)[0]).tolist() == [1, 2, 4]
    assert int(top_fraction_mask(score, 1e-6).sum()) == 1 and bool(top_fraction_mask(score, 1.0).all())
