"""The two policy shapes detectors accept, and adapters between them.

- A *feed-forward policy* is any callable ``obs -> logits`` (a planner from ``mesaopt.envs.planners``, or a
  trained actor-critic's logits).
- A *recurrent policy* has ``initial_carry() -> carry`` and ``step(carry, obs) -> (carry, logits)``; the carry
  is any pytree of arrays with fixed shapes (a GRU hidden state, a planner's value map).

Detectors call :func:`as_recurrent` once and then only use ``initial_carry`` / ``step``, so a feed-forward
policy runs through exactly the same code with an empty carry (and gives bit-identical numbers).
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array


def is_recurrent(policy) -> bool:
    """True for objects with ``initial_carry`` and ``step`` (the recurrent policy shape)."""
    return hasattr(policy, "initial_carry") and hasattr(policy, "step")


class FeedForwardAsRecurrent(eqx.Module):
    """A feed-forward policy seen as a recurrent one whose carry is an empty array."""

    policy: Callable

    def initial_carry(self) -> Array:
        return jnp.zeros((0,), jnp.float32)

    def step(self, carry: Array, obs: Array) -> tuple[Array, Array]:
        return carry, self.policy(obs)


def as_recurrent(policy):
    """``policy`` if it is recurrent, else a wrapper with an empty carry. Raises ``TypeError`` otherwise."""
    if is_recurrent(policy):
        return policy
    if not callable(policy):
        raise TypeError(
            f"a policy must be a callable obs -> logits or have initial_carry()/step(carry, obs); got {type(policy)}"
        )
    return FeedForwardAsRecurrent(policy)


class ActorCriticPolicy(eqx.Module):
    """The policy half of a feed-forward actor-critic model: ``obs -> logits``."""

    model: eqx.Module

    def __call__(self, obs: Array) -> Array:
        return self.model(obs)[0]


class RecurrentActorCriticPolicy(eqx.Module):
    """The policy half of a recurrent actor-critic (``initial_hidden()``, ``step(hidden, obs)``)."""

    model: eqx.Module

    def initial_carry(self):
        return self.model.initial_hidden()

    def step(self, carry, obs: Array):
        carry, (logits, _) = self.model.step(carry, obs)
        return carry, logits


def policy_from_model(model: eqx.Module):
    """The acting policy of an actor-critic model, recurrent if the model is (has ``initial_hidden``)."""
    if hasattr(model, "initial_hidden"):
        return RecurrentActorCriticPolicy(model)
    return ActorCriticPolicy(model)
