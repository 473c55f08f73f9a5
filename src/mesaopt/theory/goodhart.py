"""Regressional Goodhart down a chain of proxies, in closed form (Gaussian errors).

The true value of a candidate is ``V ~ N(0, sigma_V^2)``. Level 1 sees the proxy ``P_1 = V + e_1``, level k the
proxy of the level above, ``P_k = P_{k-1} + e_k``, with independent ``e_i ~ N(0, sigma_i^2)``. Whoever selects
at depth k picks, out of n candidates, the one with the highest ``P_k``. Because ``(V, P_k)`` is bivariate normal,
``E[V | P_k] = Cov(V, P_k) / Var(P_k) * P_k`` and the top of n has

    E[P_k of the chosen] = sqrt(sigma_V^2 + sum_i sigma_i^2) * m_n
    E[V of the chosen]   = sigma_V^2 / sqrt(sigma_V^2 + sum_i sigma_i^2) * m_n

with ``m_n`` the expected maximum of n standard normals: the same pressure buys less true value at every level
further down the chain. The RL analogue, the KL-regularized optimum ``pi(x) ∝ p(x) exp(beta P_k(x) / sd(P_k))``
(what a policy trained to maximize a standardized proxy with a KL penalty of weight 1 / beta converges to), tilts
the Gaussian by a mean shift of beta standard deviations: ``E_pi[P_k] = beta sd(P_k)``, ``E_pi[V] = beta
sigma_V^2 / sd(P_k)``, at ``KL(pi || p) = beta^2 / 2`` nats.
"""

from __future__ import annotations

import functools
import math

import numpy as np

_GRID = np.linspace(-12.0, 12.0, 48_001)
"""Integration grid for ``m_n`` (the integrand is negligible outside +-12 for n up to 2^40)."""


@functools.cache
def _grid_pdf_and_log_cdf() -> tuple[np.ndarray, np.ndarray]:
    """phi and log Phi on the integration grid (computed once: erf is a Python call per point)."""
    pdf = np.exp(-0.5 * _GRID**2) / math.sqrt(2.0 * math.pi)
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(_GRID / math.sqrt(2.0)))
    return pdf, np.log(np.maximum(cdf, 1e-300))


@functools.cache
def expected_max_of_normals(n: int) -> float:
    """``m_n = E[max of n independent N(0, 1)]`` (0 for n = 1), by the trapezoid rule on
    ``int x n phi(x) Phi(x)^(n-1) dx`` (error below 1e-6)."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    pdf, log_cdf = _grid_pdf_and_log_cdf()
    density = n * pdf * np.exp((n - 1) * log_cdf)
    return float(np.trapezoid(_GRID * density, _GRID))


def chain_sd(value_sd: float, error_sds) -> float:
    """``sd(P_k) = sqrt(sigma_V^2 + sum sigma_i^2)`` for the errors of levels 1..k."""
    return math.sqrt(value_sd**2 + float(np.sum(np.square(error_sds))))


def best_of_n_true_value(value_sd: float, error_sds, n: int) -> float:
    """Expected true value of the top-1 of ``n`` candidates by the depth-k proxy (``error_sds``: levels 1..k)."""
    return value_sd**2 / chain_sd(value_sd, error_sds) * expected_max_of_normals(n)


def best_of_n_proxy_value(value_sd: float, error_sds, n: int) -> float:
    """Expected depth-k proxy value of the top-1 of ``n`` candidates by that proxy."""
    return chain_sd(value_sd, error_sds) * expected_max_of_normals(n)


def proxy_rank_correlation(value_sd: float, error_sds) -> float:
    """Spearman's rho between V and the depth-k proxy: ``(6 / pi) asin(rho / 2)`` of their Pearson correlation
    ``rho = sigma_V / sd(P_k)`` (bivariate normal)."""
    return 6.0 / math.pi * math.asin(value_sd / chain_sd(value_sd, error_sds) / 2.0)


def tilted_true_value(value_sd: float, error_sds, beta: float) -> float:
    """Expected true value under the KL-regularized optimum ``p exp(beta P_k / sd(P_k))`` (Gaussian chain)."""
    return beta * value_sd**2 / chain_sd(value_sd, error_sds)


def tilted_kl_bits(beta: float) -> float:
    """``KL(pi || p)`` of that optimum in bits: ``beta^2 / (2 ln 2)``."""
    return beta**2 / (2.0 * math.log(2.0))
