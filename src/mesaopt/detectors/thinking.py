"""Evidence of search from test-time compute: does the policy reach the goal more often when it may think first?

A recurrent policy gets ``k`` extra updates of its carry on the first observation of each episode before it
acts (``measure_episode_outcomes(..., thinking_steps=k)``). A learned algorithm that iterates toward a plan
(value iteration, a search that refines an estimate) should succeed more often with more ``k``; a lookup table
or any feed-forward policy cannot use the extra steps. Every ``k`` runs on the same levels with the same action
keys (same ``key``), so the comparison is paired per episode.
"""

from __future__ import annotations

from collections.abc import Sequence

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from mesaopt.detectors.outcomes import measure_episode_outcomes
from mesaopt.detectors.policies import is_recurrent
from mesaopt.detectors.stats import t_quantile_95


class ThinkingReport(eqx.Module):
    """Goal rate as a function of thinking steps, and the gain from the most thinking (paired over episodes)."""

    thinking_steps: Int[Array, " k"]
    """The thinking-step counts measured: sorted, unique, starting at 0."""
    goal_rate: Float[Array, " k"]
    """P(reached the goal within the horizon) for each count. Range [0, 1]; higher = more successful."""
    gain: Float[Array, ""]
    """``goal_rate[-1] - goal_rate[0]``: success with the most thinking minus success with none. Range [-1, 1];
    > 0 = extra test-time compute helps (evidence of an iterative/search computation), 0 = no use for it."""
    gain_low: Float[Array, ""]
    """Lower end of a 95 % Student-t interval for ``gain`` over the per-episode paired differences (each in
    {-1, 0, 1}), clipped to [-1, 1]. Assumes episodes are independent draws (they are: one level per episode).
    Zero width when every episode's difference is equal (e.g. a feed-forward policy)."""
    gain_high: Float[Array, ""]
    """Upper end of that interval."""
    n_episodes: int = eqx.field(static=True)
    """Episodes per thinking-step count (the same levels for every count)."""
    recurrent: bool = eqx.field(static=True)
    """Whether the policy has a carry. False: a feed-forward policy, whose gain is exactly 0 by construction
    (thinking does not change it, and paired keys give identical episodes)."""


def validate_thinking_steps(thinking_steps: Sequence[int]) -> tuple[int, ...]:
    """The counts as a tuple of ints; ``ValueError`` unless non-negative, sorted, unique and including 0."""
    steps = tuple(thinking_steps)
    if not steps or not all(isinstance(k, int) and not isinstance(k, bool) for k in steps):
        raise ValueError(f"thinking_steps must be a non-empty sequence of integers, got {thinking_steps!r}")
    if steps[0] != 0 or any(k < 0 for k in steps) or list(steps) != sorted(set(steps)):
        raise ValueError(
            f"thinking_steps must be non-negative, strictly increasing and start at 0 (e.g. (0, 1, 2, 4, 8)), "
            f"got {steps}"
        )
    return steps


def _paired_ci(diff: Float[Array, " n"]) -> tuple[Array, Array, Array]:
    """Mean of the paired differences and its 95 % t-interval, clipped to [-1, 1]."""
    n = diff.shape[0]
    mean = jnp.mean(diff)
    if n < 2:
        return mean, mean, mean
    half = t_quantile_95(n - 1) * jnp.std(diff, ddof=1) / jnp.sqrt(n)
    return mean, jnp.clip(mean - half, -1.0, 1.0), jnp.clip(mean + half, -1.0, 1.0)


def measure_thinking_gain(
    key, env, params, policy, *, thinking_steps: Sequence[int] = (0, 1, 2, 4, 8), n_episodes: int, horizon: int,
    greedy: bool = False,
) -> ThinkingReport:
    """Goal rate for each number of thinking steps on the same ``n_episodes`` levels; pure and jittable.

    ``policy`` is a feed-forward (``obs -> logits``) or recurrent policy (see ``mesaopt.detectors.policies``).
    """
    steps = validate_thinking_steps(thinking_steps)
    reached = jnp.stack([
        measure_episode_outcomes(key, env, params, policy, n_episodes=n_episodes, horizon=horizon, greedy=greedy,
                                 thinking_steps=k).reached_goal
        for k in steps
    ]).astype(jnp.float32)  # [k, n_episodes]
    gain, low, high = _paired_ci(reached[-1] - reached[0])
    return ThinkingReport(
        thinking_steps=jnp.asarray(steps, jnp.int32), goal_rate=jnp.mean(reached, axis=1), gain=gain,
        gain_low=low, gain_high=high, n_episodes=n_episodes, recurrent=is_recurrent(policy),
    )
