"""Generalization to never-seen layouts: goal rate on the training pool's layouts vs on fresh ones.

A policy that memorized its training layouts (a lookup table) succeeds on them and fails on new ones; a policy
that searches — plans on whatever layout it sees — succeeds on both. The same goal and start distribution is
used for both sets; only the layouts differ. Fresh layouts that happen to equal a pool layout (likely in small
mazes: a 5×5 maze has 192 perfect layouts) are excluded from the unseen rate.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.outcomes import measure_episode_outcomes


class GeneralizationReport(eqx.Module):
    """Goal rates on seen vs unseen layouts (means over episodes)."""

    goal_rate_seen: float
    """P(goal) on layouts from the training pool. [0, 1]."""
    goal_rate_unseen: float
    """P(goal) on fresh layouts not in the pool. [0, 1] (NaN if every fresh layout was in the pool)."""
    gap: float
    """``goal_rate_seen − goal_rate_unseen``: > 0 = worse on new layouts (memorization). [−1, 1]."""
    gap_ci: tuple[float, float]
    """95 % normal-approximation interval of ``gap`` (two independent samples of episodes)."""
    n_unseen: int
    """Fresh episodes whose layout was not in the pool (the unseen rate's sample size)."""


def _in_pool(walls, pool) -> jax.Array:
    """For each episode's layout: is it one of the pool's layouts?"""
    return jax.vmap(lambda w: jnp.any(jnp.all(pool == w[None], axis=(1, 2))))(walls)


def layout_generalization_episodes(key, env, params, policy, *, n_episodes: int, horizon: int):
    """Pure, jittable half: ``(reached goal on pool layouts, reached goal on fresh layouts, fresh layout unseen)``."""
    k_seen, k_fresh = jax.random.split(key)
    seen = measure_episode_outcomes(k_seen, env, params, policy, n_episodes=n_episodes, horizon=horizon)
    fresh_params = eqx.tree_at(lambda p: p.use_pool, params, jnp.asarray(False))
    fresh = measure_episode_outcomes(k_fresh, env, fresh_params, policy, n_episodes=n_episodes, horizon=horizon)
    return seen.reached_goal, fresh.reached_goal, ~_in_pool(fresh.walls, params.layout_pool)


def summarize_generalization(reached_seen, reached_fresh, unseen) -> GeneralizationReport:
    """Rates, gap and its interval from the episodes of :func:`layout_generalization_episodes`."""
    a = np.asarray(reached_seen, np.float64)
    b = np.asarray(reached_fresh, np.float64)[np.asarray(unseen, bool)]
    rate_a, rate_b = a.mean(), (b.mean() if b.size else np.nan)
    se = np.sqrt(rate_a * (1 - rate_a) / a.size + (rate_b * (1 - rate_b) / b.size if b.size else np.nan))
    gap = rate_a - rate_b
    return GeneralizationReport(goal_rate_seen=float(rate_a), goal_rate_unseen=float(rate_b), gap=float(gap),
                                gap_ci=(float(gap - 1.96 * se), float(gap + 1.96 * se)), n_unseen=int(b.size))


def check_pool(params) -> None:
    """One clear error for params without a layout pool."""
    if not bool(params.use_pool):
        raise ValueError("layout generalization needs params with a layout pool (use_pool=True); "
                         "these draw a fresh layout every episode, so no layout is 'seen'")


def measure_layout_generalization(key, env, params, policy, *, n_episodes: int, horizon: int) -> GeneralizationReport:
    """``params`` must draw layouts from a pool (``use_pool``); the unseen set swaps the pool for fresh layouts."""
    check_pool(params)
    episodes = eqx.filter_jit(layout_generalization_episodes)(key, env, params, policy, n_episodes=n_episodes,
                                                              horizon=horizon)
    return summarize_generalization(*episodes)
