"""Proximal policy optimization with the whole loop inside one ``jit``.

``make_ppo(cfg, env, model_factory)`` returns a :class:`PPO` whose ``init(key, env_params)`` and
``update(state, env_params)`` are pure; ``train(key, env_params)`` runs every update in one ``scan``, and
``jax.jit(jax.vmap(ppo.train))(keys, params)`` trains many seeds (and distribution settings) in one program.
The shell streams progress with :func:`mesaopt.optimizers.chunks.make_chunk_runner` instead.

Recurrent models (those with ``initial_hidden()`` and ``step(hidden, obs)``) are detected automatically and
trained by :mod:`mesaopt.optimizers.ppo_recurrent` (a hidden state per environment, minibatches over envs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from mesaopt.envs.wrappers import BufferedAutoReset
from mesaopt.optimizers.skeleton import model_skeleton


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
    """Adam step size (linearly annealed to 0 when ``anneal_lr``)."""
    anneal_lr: bool = True
    """Linearly anneal the learning rate to zero over training."""
    gamma: float = 0.97
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE λ."""
    clip_eps: float = 0.2
    """PPO ratio clip (also the value clip)."""
    ent_coef: float = 0.01
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value-loss weight."""
    max_grad_norm: float = 0.5
    """Global gradient-norm clip."""
    n_spares: int = 2
    """Pre-drawn levels per environment between rollouts (see ``BufferedAutoReset``)."""

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first impossible setting."""
        positive = ("n_envs", "n_steps", "n_epochs", "n_minibatches", "n_spares")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"ppo.{name} must be >= 1, got {getattr(self, name)}")
        if (self.n_envs * self.n_steps) % self.n_minibatches:
            raise ValueError(
                f"ppo.n_envs * ppo.n_steps ({self.n_envs * self.n_steps}) must be divisible by "
                f"ppo.n_minibatches ({self.n_minibatches})"
            )
        if not 0 < self.gamma <= 1 or not 0 <= self.gae_lambda <= 1:
            raise ValueError("ppo.gamma must be in (0, 1] and ppo.gae_lambda in [0, 1]")

    @property
    def steps_per_update(self) -> int:
        return self.n_envs * self.n_steps


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


@dataclass(frozen=True)
class PPO:
    """A configured PPO learner (closed over by ``jit``, not passed through it); see module docstring."""

    cfg: PPOConfig
    env: BufferedAutoReset
    static_model: eqx.Module
    """The model with its arrays removed (``eqx.combine`` with params rebuilds it)."""
    model_factory: Callable
    optimizer: optax.GradientTransformation
    n_updates: int

    def model(self, params) -> eqx.Module:
        return eqx.combine(params, self.static_model)

    @property
    def recurrent(self) -> bool:
        """True when the model is recurrent (has ``initial_hidden``)."""
        return hasattr(self.static_model, "initial_hidden")

    def init(self, key, env_params) -> RunnerState:
        k_model, _, k_run = jax.random.split(key, 3)  # the middle key is unused since levels come from refreshes
        params = eqx.filter(self.model_factory(k_model), eqx.is_array)
        obs, env_state = jax.tree_util.tree_map(
            lambda leaf: jnp.broadcast_to(leaf, (self.cfg.n_envs, *leaf.shape)), self.env.unstarted(env_params)
        )
        zeros = jnp.zeros(self.cfg.n_envs)
        hidden = None
        if self.recurrent:
            from mesaopt.optimizers.ppo_recurrent import initial_hiddens

            hidden = initial_hiddens(self.model(params), self.cfg.n_envs)
        return RunnerState(
            params=params,
            opt_state=self.optimizer.init(params),
            env_state=env_state,
            obs=obs,
            episodes=EpisodeTracker(returns=zeros, lengths=zeros),
            key=k_run,
            hidden=hidden,
        )

    def update(self, state: RunnerState, env_params) -> tuple[RunnerState, UpdateMetrics]:
        if self.recurrent:
            from mesaopt.optimizers.ppo_recurrent import recurrent_update

            return recurrent_update(self, state, env_params)
        from mesaopt.optimizers.ppo_steps import collect_rollout, learn_from_rollout

        state, rollout, last_value = collect_rollout(self, state, env_params)
        state, losses = learn_from_rollout(self, state, rollout, last_value)
        return state, summarize_update(rollout, losses)

    def train(self, key, env_params) -> TrainResult:
        state = self.init(key, env_params)
        state, metrics = jax.lax.scan(lambda s, _: self.update(s, env_params), state, None, length=self.n_updates)
        return TrainResult(params=state.params, metrics=metrics)


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


def make_optimizer(cfg: PPOConfig, n_updates: int) -> optax.GradientTransformation:
    """Adam with gradient clipping and (optionally) a linearly annealed step size."""
    total = max(1, n_updates * cfg.n_epochs * cfg.n_minibatches)
    lr = optax.linear_schedule(cfg.learning_rate, 0.0, total) if cfg.anneal_lr else cfg.learning_rate
    return optax.chain(optax.clip_by_global_norm(cfg.max_grad_norm), optax.adam(lr, eps=1e-5))


def make_ppo(cfg: PPOConfig, env, model_factory: Callable, total_steps: int) -> PPO:
    """Configure PPO for ``env`` (a level-based environment) and ``model_factory(key) -> model``.

    ``total_steps`` environment steps per seed are rounded up to whole updates.
    """
    cfg.validate()
    if total_steps < 1:
        raise ValueError(f"total_steps must be >= 1, got {total_steps}")
    n_updates = -(-total_steps // cfg.steps_per_update)
    static_model = model_skeleton(model_factory)
    if hasattr(static_model, "initial_hidden") and cfg.n_envs % cfg.n_minibatches:
        raise ValueError(
            f"a recurrent model's minibatches are groups of whole environments: ppo.n_envs ({cfg.n_envs}) must "
            f"be divisible by ppo.n_minibatches ({cfg.n_minibatches})"
        )
    return PPO(
        cfg=cfg,
        env=BufferedAutoReset(env, cfg.n_spares),
        static_model=static_model,
        model_factory=model_factory,
        optimizer=make_optimizer(cfg, n_updates),
        n_updates=n_updates,
    )
