"""A bounded lifetime learner whose reward is a weighted sum of what it can sense: the organism of the evolved-reward
experiment.

The learner keeps a value per kind of food (tabular, myopic: it credits each reward to the meal it has just eaten)
and eats the offered kind it values more (ties at random), exploring at random with probability ``exploration``.
Its reward at step t is ``w_sweetness * s(meal_t) + w_nutrition * n(meal_{t-D})``: sweetness is tasted at once,
nutrition is felt ``D`` steps later (digestion), so for ``D >= 1`` the myopic learner credits it to the wrong meal.
The weights are the genome evolution searches; the learner never sees fitness (the nutrition it eats) except
through them. ``D`` may be traced, so lifetimes with different delays run in one program. Optionally the learner
has eligibility traces (``credit``): each reward also moves the values of its last few meals, a better credit
assignment that can bridge the delay.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from mesaopt.envs.foraging import World
from mesaopt.errors import MesaoptError

SIGNALS = ("sweetness", "nutrition")
"""What the learner senses, in genome order: ``weights[i]`` multiplies ``SIGNALS[i]``."""

FITNESS_AS_REWARD = jnp.array([0.0, 1.0])
"""The weights of a learner rewarded by fitness itself (nutrition, as the body senses it)."""


@dataclass(frozen=True)
class ValueLearner:
    """Settings of the lifetime learner (fixed; evolution sets only its reward weights)."""

    learning_rate: float = 0.1
    """Step size of the value update ``v <- v + a (r - v)`` (0 < a <= 1)."""
    exploration: float = 0.1
    """Chance of eating a random one of the two offered kinds (0 <= e <= 1)."""
    max_delay: int = 8
    """Longest nutrition delay a lifetime may use (the size of the learner's memory of recent meals)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the allowed values."""
        if not 0.0 < self.learning_rate <= 1.0:
            raise MesaoptError(f"learning_rate must be in (0, 1], got {self.learning_rate!r}")
        if not 0.0 <= self.exploration <= 1.0:
            raise MesaoptError(f"exploration must be in [0, 1], got {self.exploration!r}")
        if self.max_delay < 0:
            raise MesaoptError(f"max_delay must be >= 0, got {self.max_delay}")


class Life(NamedTuple):
    """What happened in one lifetime."""

    nutrition: Float[Array, ""]
    """Fitness: the nutrition of every meal, summed."""
    eaten: Int[Array, " steps"]
    """The kind eaten at each step."""
    declined: Int[Array, " steps"]
    """The kind offered and not eaten at each step."""
    values: Float[Array, " types"]
    """The learned value of every kind at the end of the lifetime."""
    reward: Float[Array, ""]
    """The learner's own objective: the reward it received, summed over the lifetime."""


class _Carry(NamedTuple):
    values: jax.Array
    recent: jax.Array
    step: jax.Array


def _choose(values, offer, explore, coin, tie):
    """Index (0 or 1) into ``offer``: the higher-valued kind, a coin flip on ties or when exploring."""
    a, b = values[offer[0]], values[offer[1]]
    greedy = jnp.where(a == b, tie, (b > a).astype(jnp.int32))
    return jnp.where(explore, coin, greedy)


def _credit_past_meals(values, recent, step, reward, credit, window: int, learner: ValueLearner, memory: int):
    """Eligibility traces: the meal k = 1 .. ``window`` steps back also moves towards ``reward``, with weight
    ``credit ** k`` (``window`` is static; ``credit`` may be traced)."""
    for k in range(1, window + 1):
        kind = recent[(step - k) % memory]
        weight = jnp.where(step >= k, credit**k, 0.0)
        values = values.at[kind].add(learner.learning_rate * weight * (reward - values[kind]))
    return values


def live(weights: Float[Array, " 2"], world: World, key, delay, learner: ValueLearner, credit=0.0,
         credit_window: int = 0) -> Life:
    """One lifetime of the learner with reward weights ``weights`` in ``world``, nutrition felt ``delay`` steps
    after each meal (``0 <= delay <= learner.max_delay``; may be traced). With ``credit_window`` > 0 the learner
    also credits each reward to its last ``credit_window`` meals before this one, with weight ``credit ** k`` for
    the meal k steps back (``credit`` may be traced; 0 = the myopic learner, 1 = every meal in the window alike)."""
    steps = world.offers.shape[0]
    # one random word per step: 16 bits decide exploring, one bit the random pick, one bit ties
    words = jax.random.bits(key, (steps,), jnp.uint32)
    explore = (words >> 16).astype(jnp.float32) < learner.exploration * 65536.0
    coins = (words & 1).astype(jnp.int32)
    ties = ((words >> 1) & 1).astype(jnp.int32)
    memory = learner.max_delay + 1

    def step(carry: _Carry, inputs):
        offer, e, coin, tie = inputs
        pick = _choose(carry.values, offer, e, coin, tie)
        meal, other = offer[pick], offer[1 - pick]
        recent = carry.recent.at[carry.step % memory].set(meal)
        felt_meal = recent[(carry.step - delay) % memory]
        felt = jnp.where(carry.step >= delay, world.nutrition[felt_meal], 0.0)
        reward = weights[0] * world.sweetness[meal] + weights[1] * felt
        values = carry.values.at[meal].add(learner.learning_rate * (reward - carry.values[meal]))
        values = _credit_past_meals(values, recent, carry.step, reward, credit, credit_window, learner, memory)
        return _Carry(values, recent, carry.step + 1), (meal, other, reward)

    start = _Carry(jnp.zeros(world.sweetness.shape), jnp.zeros(memory, jnp.int32), jnp.asarray(0))
    end, (eaten, declined, rewards) = jax.lax.scan(step, start, (world.offers, explore, coins, ties))
    return Life(jnp.sum(world.nutrition[eaten]), eaten, declined, end.values, jnp.sum(rewards))
