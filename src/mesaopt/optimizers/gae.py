"""Generalized advantage estimation as a reverse ``scan``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float


def generalized_advantages(
    rewards: Float[Array, "n_steps n_envs"],
    values: Float[Array, "n_steps n_envs"],
    dones: Float[Array, "n_steps n_envs"],
    truncs: Float[Array, "n_steps n_envs"],
    last_value: Float[Array, " n_envs"],
    gamma: float,
    lam: float,
    truncation_values: Float[Array, "n_steps n_envs"] | None = None,
) -> tuple[Float[Array, "n_steps n_envs"], Float[Array, "n_steps n_envs"]]:
    """Advantages and value targets.

    ``dones[t]`` is 1 when step t ended the episode (terminated or truncated): nothing after it is credited.
    ``truncs[t]`` is 1 when it ended by time limit. Without ``truncation_values`` a truncation is treated like a
    termination (bootstrap 0), the common approximation in batched JAX PPO (auto-reset replaced the next state).
    With them (``PPOConfig.bootstrap_truncation``), step t bootstraps from ``truncation_values[t]``: the value of
    the observation a truncation reached, 0 where step t did not end by truncation alone.
    """
    del truncs  # the truncations are in ``truncation_values`` (0 elsewhere)
    next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)
    bootstraps = next_values * (1.0 - dones)
    if truncation_values is not None:
        bootstraps = bootstraps + truncation_values

    def backward(carry, xs):
        reward, value, bootstrap, done = xs
        delta = reward + gamma * bootstrap - value
        carry = delta + gamma * lam * (1.0 - done) * carry
        return carry, carry

    _, advantages = jax.lax.scan(
        backward, jnp.zeros_like(last_value), (rewards, values, bootstraps, dones), reverse=True
    )
    return advantages, advantages + values
