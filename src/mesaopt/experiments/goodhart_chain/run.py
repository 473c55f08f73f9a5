"""Run ``goodhart-chain``: simulate chains of proxies, select by best-of-n and by the KL-regularized optimum at
every depth and pressure, and set the Gaussian results beside the closed form (``theory.goodhart``)."""

from __future__ import annotations

import dataclasses
import math
import time

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.objective_correlation import objective_correlations
from mesaopt.detectors.stats import mean_ci
from mesaopt.experiments.goodhart_chain.config import FAMILIES, GoodhartChainConfig
from mesaopt.optimizers.selection import best_of_prefixes, boltzmann_tilt
from mesaopt.theory import goodhart


def draw_errors(key, family: str, shape: tuple, df: float) -> jax.Array:
    """Unit-variance errors: standard normal, or Student-t with ``df`` (a whole number) degrees of freedom,
    ``z / sqrt(chi2_df / df)`` with the chi-square a sum of ``df`` squared normals (``jax.random.t`` samples gammas
    by rejection, 13x slower on a CPU), scaled by ``sqrt((df - 2) / df)``."""
    k_z, k_chi = jax.random.split(key)
    z = jax.random.normal(k_z, shape)
    if family == "gaussian":
        return z
    chi2 = jnp.sum(jax.random.normal(k_chi, (int(df), *shape)) ** 2, axis=0)
    return z / jnp.sqrt(chi2 / df) * math.sqrt((df - 2.0) / df)


def block_fn(cfg: GoodhartChainConfig, family: str):
    """``block(key) -> (best-of-n true, proxy [depths, bits, trials]; tilt true, proxy, kl bits [depths, betas,
    trials])`` for ``trials_per_block`` fresh pools, jitted. Deeper chains extend the shallower ones' proxies (one
    draw per level), so depths share their randomness too."""
    depths, sizes = tuple(cfg.depths), tuple(2**b for b in cfg.bits)
    shape = (cfg.trials_per_block, cfg.pool_size)

    def block(key):
        k_value, k_errors = jax.random.split(key)
        value = cfg.value_sd * jax.random.normal(k_value, shape)
        errors = cfg.error_sd * draw_errors(k_errors, family, (max(depths), *shape), cfg.heavy_tail_df)
        proxies = value[None] + jnp.cumsum(errors, axis=0)
        best, tilt = [], []
        for d in depths:
            proxy = proxies[d - 1]
            best.append(best_of_prefixes(proxy, (value, proxy), sizes))
            sd = goodhart.chain_sd(cfg.value_sd, [cfg.error_sd] * d)
            per_beta = [boltzmann_tilt(proxy / sd, (value, proxy), beta) for beta in cfg.betas]
            tilt.append([jnp.stack([m[0][0] for m in per_beta]), jnp.stack([m[0][1] for m in per_beta]),
                         jnp.stack([m[1] for m in per_beta])])
        return (jnp.stack([b[0] for b in best]), jnp.stack([b[1] for b in best]),
                *(jnp.stack([t[i] for t in tilt]) for i in range(3)))

    return jax.jit(block)


def proxy_correlations(cfg: GoodhartChainConfig, family: str, key, n_candidates: int = 20_000) -> list[float]:
    """Per depth, Spearman's rho between the true value and the depth's proxy over ``n_candidates`` fresh
    candidates (``detectors.objective_correlation``: each level's objective against the top one)."""
    k_value, k_errors = jax.random.split(key)
    value = cfg.value_sd * jax.random.normal(k_value, (n_candidates,))
    errors = cfg.error_sd * draw_errors(k_errors, family, (max(cfg.depths), n_candidates), cfg.heavy_tail_df)
    proxies = np.asarray(value[None] + jnp.cumsum(errors, axis=0))
    levels = {"true value": np.asarray(value), **{f"depth {d}": proxies[d - 1] for d in cfg.depths}}
    with_top = objective_correlations(levels)["with_top"]
    return [round(float(with_top[f"depth {d}"]), 4) for d in cfg.depths]


def simulate_family(cfg: GoodhartChainConfig, family: str, key, on_block=None) -> list[np.ndarray]:
    """Every trial of one error family: the five arrays of :func:`block_fn`, trials on the last axis (exactly
    ``n_trials``)."""
    block = block_fn(cfg, family)
    n_blocks = -(-cfg.n_trials // cfg.trials_per_block)
    parts = []
    for i, k in enumerate(jax.random.split(key, n_blocks)):
        parts.append([np.asarray(x) for x in block(k)])
        if on_block is not None:
            on_block(i + 1, n_blocks)
    return [np.concatenate([p[j] for p in parts], axis=-1)[..., :cfg.n_trials] for j in range(5)]


def summarize(samples: np.ndarray, digits: int = 4) -> dict:
    """``{"mean", "ci"}`` over the last axis (95 % t-intervals), as nested lists."""
    mean, low, high = mean_ci(samples, axis=-1, clip=None)
    return {"mean": np.round(mean, digits).tolist(), "ci": np.stack([low, high], -1).round(digits).tolist()}


def closed_forms(cfg: GoodhartChainConfig) -> dict:
    """The Gaussian chain's expectations at every point (``[depth][bits]``, ``[depth][beta]``)."""
    def errs(d):
        return [cfg.error_sd] * d

    return {"true_value": [[round(goodhart.best_of_n_true_value(cfg.value_sd, errs(d), 2**b), 4) for b in cfg.bits]
                           for d in cfg.depths],
            "proxy_value": [[round(goodhart.best_of_n_proxy_value(cfg.value_sd, errs(d), 2**b), 4)
                             for b in cfg.bits] for d in cfg.depths],
            "tilt_true_value": [[round(goodhart.tilted_true_value(cfg.value_sd, errs(d), beta), 4)
                                 for beta in cfg.betas] for d in cfg.depths],
            "tilt_kl_bits": [round(goodhart.tilted_kl_bits(beta), 4) for beta in cfg.betas],
            "objective_correlation": [round(goodhart.proxy_rank_correlation(cfg.value_sd, errs(d)), 4)
                                      for d in cfg.depths]}


def family_results(arrays: list[np.ndarray]) -> dict:
    """Means and intervals of one family's simulation."""
    best_true, best_proxy, tilt_true, tilt_proxy, tilt_kl = arrays
    return {"true_value": summarize(best_true), "proxy_value": summarize(best_proxy),
            "tilt_true_value": summarize(tilt_true), "tilt_proxy_value": summarize(tilt_proxy),
            "tilt_kl_bits": summarize(tilt_kl)}


def familywise_z(n_points: int, level: float = 0.05) -> float:
    """The two-sided Bonferroni bound: |z| that a standard normal exceeds with probability ``level / n_points``
    (by bisection on ``erfc``)."""
    target, low, high = level / n_points, 0.0, 40.0
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if math.erfc(mid / math.sqrt(2.0)) > target else (low, mid)
    return (low + high) / 2


def agreement(results: dict, closed: dict) -> dict:
    """How the Gaussian simulation matches the closed form (best-of-n true value): the largest absolute error,
    the widest interval half-width, the share of intervals that contain the closed form, and the largest error in
    standard errors beside the bound that all points stay under 95 % of the time if the closed form is right
    (Bonferroni)."""
    sim = np.asarray(results["true_value"]["mean"])
    ci = np.asarray(results["true_value"]["ci"])
    exact = np.asarray(closed["true_value"])
    half = (ci[..., 1] - ci[..., 0]) / 2
    se = np.where(half > 0, half / 1.96, np.inf)  # n_trials is large: the t-quantile is 1.96
    inside = (ci[..., 0] <= exact) & (exact <= ci[..., 1])
    return {"closed_form_max_abs_error": round(float(np.max(np.abs(sim - exact))), 4),
            "closed_form_max_ci_half_width": round(float(np.max(half)), 4),
            "closed_form_points_within_ci": round(float(inside.mean()), 4),
            "closed_form_max_abs_z": round(float(np.max(np.abs(sim - exact) / se)), 3),
            "closed_form_familywise_z": round(familywise_z(sim.size), 3)}


def run_goodhart_chain(cfg: GoodhartChainConfig, ctx) -> dict:
    """Simulate each family, compare with the closed form, return the report."""
    started = time.perf_counter()
    cfg.validate()
    root = jax.random.key(cfg.seed)
    results, sim_seconds = {}, 0.0
    for family in cfg.families:
        ctx.phase(f"{family} errors: {cfg.n_trials:,} trials of {cfg.pool_size:,} candidates")
        t0 = time.perf_counter()
        key = jax.random.fold_in(root, FAMILIES.index(family))
        results[family] = family_results(simulate_family(cfg, family, key, on_block=_progress(ctx)))
        results[family]["objective_correlation"] = proxy_correlations(cfg, family, jax.random.fold_in(key, 1))
        sim_seconds += time.perf_counter() - t0
    closed = closed_forms(cfg)
    wall = time.perf_counter() - started
    return {"preset": "goodhart-chain", "headline": headline(cfg, results, closed, wall), "families": results,
            "closed_form": closed, "timings": {"wall_seconds": round(wall, 2), "simulation_seconds": round(
                sim_seconds, 2), "candidates_per_second": round(len(cfg.families) * cfg.n_trials * cfg.pool_size
                                                                / max(sim_seconds, 1e-9))},
            "config": dataclasses.asdict(cfg)}


def _progress(ctx):
    def on_block(done, total):
        if ctx.on_chunk is not None:
            ctx.on_chunk(done, total, {})
    return on_block


def peak_bits(cfg: GoodhartChainConfig, true_value: list) -> list:
    """Per depth, the pressure (bits) at which the mean true value of best-of-n is highest."""
    return [cfg.bits[int(np.argmax(row))] for row in true_value]


def headline(cfg: GoodhartChainConfig, results: dict, closed: dict, wall: float) -> dict:
    """The stable names (docs/nested.md): lists indexed ``[depth][bits]`` per family."""
    out = {"depths": list(cfg.depths), "bits": list(cfg.bits), "families": list(cfg.families),
           "true_value": {f: r["true_value"]["mean"] for f, r in results.items()},
           "true_value_ci": {f: r["true_value"]["ci"] for f, r in results.items()},
           "proxy_value": {f: r["proxy_value"]["mean"] for f, r in results.items()},
           "proxy_value_ci": {f: r["proxy_value"]["ci"] for f, r in results.items()},
           "closed_form_true_value": closed["true_value"], "closed_form_proxy_value": closed["proxy_value"],
           "peak_bits": {f: peak_bits(cfg, r["true_value"]["mean"]) for f, r in results.items()},
           "betas": list(cfg.betas),
           "tilt_true_value": {f: r["tilt_true_value"]["mean"] for f, r in results.items()},
           "tilt_true_value_ci": {f: r["tilt_true_value"]["ci"] for f, r in results.items()},
           "tilt_kl_bits": {f: r["tilt_kl_bits"]["mean"] for f, r in results.items()},
           "objective_correlation": {f: r["objective_correlation"] for f, r in results.items()},
           "closed_form_objective_correlation": closed["objective_correlation"]}
    if "gaussian" in results:
        out.update(agreement(results["gaussian"], closed))
    out["n_trials"], out["wall_seconds"] = cfg.n_trials, round(wall, 2)
    return out
