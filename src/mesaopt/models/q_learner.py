"""A lifetime of tabular Q-learning with a reward over the agent's internal state: the bounded learner of the
optimal-reward experiment (Singh, Lewis & Barto 2009; Sorg, Singh & Lewis 2010).

The learner sees its position and whether it is hungry and thirsty (one tabular state), acts epsilon-greedily on
its Q-values (ties at random) and updates them by one-step Q-learning. Its reward after each step is
``weights[2 * hungry + thirsty]`` of the state it lands in: four numbers that the designer (here, evolution)
chooses. Fitness is what the lifetime's meals add up to, which the learner never sees unless the weights say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from mesaopt.envs.hungry_thirsty import (N_ACTIONS, Body, HungryThirstyTask, Layout, sample_layout, start_body,
                                         state_index, step_body)
from mesaopt.errors import MesaoptError

INTERNAL_STATES = ("sated_quenched", "sated_thirsty", "hungry_quenched", "hungry_thirsty")
"""Names of the four reward weights, in order (index ``2 * hungry + thirsty``)."""

FITNESS_AS_REWARD = jnp.array([1.0, 1.0, 0.0, 0.0])
"""Reward 1 exactly when the agent has just eaten (sated), i.e. the fitness itself."""


@dataclass(frozen=True)
class QLearner:
    """The lifetime learner's fixed settings (evolution sets only its reward)."""

    lifetime: int = 5000
    """Steps per lifetime (>= 1)."""
    learning_rate: float = 0.2
    """Q-learning step size (0 < a <= 1)."""
    discount: float = 0.95
    """Discount of future reward (0 <= gamma < 1)."""
    exploration: float = 0.05
    """Chance of a uniformly random action (0 <= e <= 1)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the allowed values."""
        if self.lifetime < 1:
            raise MesaoptError(f"lifetime must be >= 1, got {self.lifetime}")
        if not 0.0 < self.learning_rate <= 1.0:
            raise MesaoptError(f"learning_rate must be in (0, 1], got {self.learning_rate!r}")
        if not 0.0 <= self.discount < 1.0:
            raise MesaoptError(f"discount must be in [0, 1), got {self.discount!r}")
        if not 0.0 <= self.exploration <= 1.0:
            raise MesaoptError(f"exploration must be in [0, 1], got {self.exploration!r}")


    def settings(self) -> "LearnerSettings":
        """These settings as (traceable) arrays."""
        return LearnerSettings(jnp.asarray(self.lifetime), jnp.asarray(self.learning_rate, jnp.float32),
                               jnp.asarray(self.exploration, jnp.float32))


class LearnerSettings(NamedTuple):
    """The settings a batch of lifetimes may vary (traced, so lifetimes with different ones run in one program)."""

    lifetime: jax.Array
    """Steps this learner lives (at most the scan's length; later steps neither learn nor eat)."""
    learning_rate: jax.Array
    """Q-learning step size."""
    exploration: jax.Array
    """Chance of a random action."""


class _Carry(NamedTuple):
    q: jax.Array
    body: Body


def _act(q_row, key, exploration):
    """Epsilon-greedy with random tie-breaking."""
    k_explore, k_random, k_tie = jax.random.split(key, 3)
    noise = jax.random.uniform(k_tie, q_row.shape) * 1e-6  # ties at random, never reorders distinct values
    greedy = jnp.argmax(jnp.where(q_row == q_row.max(), 1.0 + noise, 0.0))
    random_action = jax.random.randint(k_random, (), 0, N_ACTIONS)
    return jnp.where(jax.random.uniform(k_explore) < exploration, random_action, greedy)


def lifetime_meals(weights, key, task: HungryThirstyTask, learner: QLearner, settings: LearnerSettings | None = None,
                   steps: int | None = None, layout: Layout | None = None):
    """Meals eaten in one lifetime by a Q-learner rewarded by ``weights`` over its internal state. ``settings``
    (default: ``learner``'s) may be traced; ``steps`` (static, default ``learner.lifetime``) is the scan's length,
    which must cover every lifetime in ``settings``. A fresh layout unless one is given."""
    settings = learner.settings() if settings is None else settings
    steps = learner.lifetime if steps is None else steps
    k_layout, k_start, k_steps = jax.random.split(key, 3)
    layout = sample_layout(k_layout, task) if layout is None else layout

    def step(carry: _Carry, inputs):
        k, t = inputs
        k_act, k_env = jax.random.split(k)
        s = state_index(carry.body, task)
        action = _act(carry.q[s], k_act, settings.exploration)
        body, ate = step_body(carry.body, action, layout, task, k_env)
        reward = weights[2 * body.hungry.astype(jnp.int32) + body.thirsty.astype(jnp.int32)]
        target = reward + learner.discount * carry.q[state_index(body, task)].max()
        alive = t < settings.lifetime
        rate = jnp.where(alive, settings.learning_rate, 0.0)
        q = carry.q.at[s, action].add(rate * (target - carry.q[s, action]))
        return _Carry(q, body), jnp.where(alive, ate, 0.0)

    start = _Carry(jnp.zeros((task.n_states, N_ACTIONS)), start_body(k_start, task))
    _, meals = jax.lax.scan(step, start, (jax.random.split(k_steps, steps), jnp.arange(steps)))
    return jnp.sum(meals)
