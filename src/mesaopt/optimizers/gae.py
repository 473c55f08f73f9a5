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
) -> tuple[Float[Array, "n_steps n_envs"], Float[Array, "n_steps n_envs"]]:
    """Advantages and value targets.

    ``dones[t]`` is 1 when step t ended the episode (terminated or truncated): nothing after it is credited.
    ``truncs[t]`` is 1 when it ended by time limit. For truncation the value of the lost next state is
    unknown (auto-reset replaced it); we treat the truncation like a termination (bootstrap 0), the common
    approximation in batched JAX PPO, which for this sparse goal reward only under-values long episodes.
    """
    del truncs  # see docstring; kept in the signature so a bootstrap variant is a local change
    next_values = jnp.concatenate([values[1:], last_value[None]], axis=0)

    def backward(carry, xs):
        reward, value, next_value, done = xs
        delta = reward + gamma * next_value * (1.0 - done) - value
        carry = delta + gamma * lam * (1.0 - done) * carry
        return carry, carry

    _, advantages = jax.lax.scan(
        backward, jnp.zeros_like(last_value), (rewards, values, next_values, dones), reverse=True
    )
    return advantages, advantages + values
