"""PPO's settings, carries and records, below both :mod:`~mesaopt.optimizers.ppo` (the learner) and the update
steps (:mod:`~mesaopt.optimizers.ppo_steps`, :mod:`~mesaopt.optimizers.ppo_recurrent`), so that the learner
imports its steps and the steps import only this module: no import circle.

The steps take the learner as :class:`PPOLike` (what they use of :class:`~mesaopt.optimizers.ppo.PPO`), a
Protocol defined here rather than the class itself.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import equinox as eqx
import jax
import jax.numpy as jnp
import optax


@dataclass(frozen=True)
class PPOConfig:
    """PPO hyperparameters (defaults tuned for the 7×7 maze on CPU)."""

    n_envs: int = 64
    """Parallel environments per seed."""
    n_steps: int = 32
    """Rollout length per environment per update; one update consumes ``n_envs * n_steps`` steps."""
    n_epochs: int = 4
    """Passes over each rollout batch."""
    n_minibatches: int = 4
    """Minibatches per epoch (for recurrent models: groups of whole environments, so it must divide ``n_envs``)."""
    learning_rate: float = 5e-4
    """Adam step size (linearly annealed to 0 when ``anneal_lr``); finite, > 0."""
    anneal_lr: bool = True
    """Linearly anneal the learning rate to zero over training."""
    gamma: float = 0.97
    """Discount factor, in (0, 1]."""
    gae_lambda: float = 0.95
    """GAE λ, in [0, 1]."""
    clip_eps: float = 0.2
    """PPO ratio clip (also the value clip); finite, ≥ 0."""
    ent_coef: float = 0.01
    """Entropy bonus weight; finite, ≥ 0."""
    vf_coef: float = 0.5
    """Value-loss weight; finite, ≥ 0."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip; finite, > 0."""
    n_spares: int = 2
    """Pre-drawn levels per environment between rollouts (see ``BufferedAutoReset``)."""
    bootstrap_truncation: bool = False
    """After an episode ends by its time limit, bootstrap the advantage from the value of the observation it
    reached (one more forward pass per step). Off: a truncation counts as a termination (value 0), the common
    approximation, which leaves states that look alike with targets of 0 or not at random when most episodes
    hit the limit. Feed-forward models only."""

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first impossible setting (NaN and ±inf included)."""
        for name in ("n_envs", "n_steps", "n_epochs", "n_minibatches", "n_spares"):
            if getattr(self, name) < 1:
                raise ValueError(f"ppo.{name} must be >= 1, got {getattr(self, name)}")
        if (self.n_envs * self.n_steps) % self.n_minibatches:
            raise ValueError(
                f"ppo.n_envs * ppo.n_steps ({self.n_envs * self.n_steps}) must be divisible by "
                f"ppo.n_minibatches ({self.n_minibatches})"
            )
        for name in ("learning_rate", "max_grad_norm"):
            check_number(f"ppo.{name}", getattr(self, name), low=0.0, low_inclusive=False)
        for name in ("clip_eps", "ent_coef", "vf_coef"):
            check_number(f"ppo.{name}", getattr(self, name), low=0.0)
        check_number("ppo.gamma", self.gamma, low=0.0, low_inclusive=False, high=1.0)
        check_number("ppo.gae_lambda", self.gae_lambda, low=0.0, high=1.0)

    @property
    def steps_per_update(self) -> int:
        return self.n_envs * self.n_steps


def check_number(name: str, value, *, low: float, low_inclusive: bool = True, high: float | None = None) -> None:
    """Raise ``ValueError`` unless ``value`` is a finite real number ≥ ``low`` (> when not ``low_inclusive``) and
    ≤ ``high``; the message names ``name`` and the allowed range (``nan < 1`` is False, so a plain comparison
    would let NaN through)."""
    bound = f"{'>=' if low_inclusive else '>'} {low:g}" if high is None else \
        f"in {'[' if low_inclusive else '('}{low:g}, {high:g}]"
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (value >= low if low_inclusive else value > low) and (high is None or value <= high)
    if not ok:
        raise ValueError(f"{name} must be a finite number {bound}, got {value!r}")


class EpisodeTracker(eqx.Module):
    """Running return and length of each environment's current episode."""

    returns: jax.Array
    lengths: jax.Array


class RunnerState(eqx.Module):
    """Everything carried from one PPO update to the next."""

    params: eqx.Module
    """The model's arrays (``eqx.partition(model, eqx.is_array)[0]``)."""
    opt_state: optax.OptState
    env_state: eqx.Module
    obs: jax.Array
    episodes: EpisodeTracker
    key: jax.Array
    hidden: object = None
    """Recurrent models: each environment's hidden state (leading axis ``n_envs``); ``None`` for feed-forward."""


class Transition(NamedTuple):
    obs: jax.Array
    action: jax.Array
    log_prob: jax.Array
    value: jax.Array
    reward: jax.Array
    done: jax.Array
    trunc: jax.Array
    success: jax.Array
    ep_return: jax.Array
    ep_length: jax.Array
    truncation_value: jax.Array | None = None
    """With ``bootstrap_truncation``: the value of the observation a time-limit truncation reached (0 where the
    step did not end by truncation alone); else ``None``."""


class UpdateMetrics(NamedTuple):
    """Per-update training metrics (means over the update's rollout and minibatches)."""

    episode_return: jax.Array
    """Mean return of episodes that ended during the rollout (NaN if none ended)."""
    episode_length: jax.Array
    """Mean length of those episodes."""
    success_rate: jax.Array
    """Fraction of those episodes that reached the goal (terminated, not truncated)."""
    episodes_finished: jax.Array
    policy_loss: jax.Array
    value_loss: jax.Array
    entropy: jax.Array
    approx_kl: jax.Array


class TrainResult(eqx.Module):
    params: eqx.Module
    metrics: UpdateMetrics


class PPOLike(Protocol):
    """What the update steps use of a configured learner (:class:`mesaopt.optimizers.ppo.PPO` is one)."""

    cfg: PPOConfig
    env: Any
    """A ``BufferedAutoReset`` environment (``step``, ``refresh_batch``, ``start``)."""
    optimizer: optax.GradientTransformation

    def model(self, params) -> eqx.Module:
        """The model with ``params`` filled in."""


def summarize_update(rollout: Transition, losses: dict[str, jax.Array]) -> UpdateMetrics:
    """Episode statistics from a rollout and mean losses from the learning phase."""
    n_done = jnp.sum(rollout.done)
    denom = jnp.where(n_done > 0, n_done, jnp.nan)
    return UpdateMetrics(
        episode_return=jnp.sum(rollout.ep_return * rollout.done) / denom,
        episode_length=jnp.sum(rollout.ep_length * rollout.done) / denom,
        success_rate=jnp.sum(rollout.success * rollout.done) / denom,
        episodes_finished=n_done,
        policy_loss=losses["policy_loss"],
        value_loss=losses["value_loss"],
        entropy=losses["entropy"],
        approx_kl=losses["approx_kl"],
    )
