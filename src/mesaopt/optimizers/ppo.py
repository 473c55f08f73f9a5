"""Proximal policy optimization with the whole loop inside one ``jit``.

``make_ppo(cfg, env, model_factory, total_steps)`` returns a :class:`PPO`, a
:class:`~mesaopt.optimizers.contract.BaseOptimizer` whose ``init(key, env_params)`` and ``step(state, env_params)``
(one update) are pure; ``train(key, env_params)`` runs all ``n_steps`` updates in one ``scan``, and
``jax.jit(jax.vmap(ppo.train))(keys, params)`` trains many seeds (and distribution settings) in one program.
The shell streams progress with :func:`mesaopt.optimizers.chunks.train_in_chunks` instead.

Recurrent models (those with ``initial_hidden()`` and ``step(hidden, obs)``) are detected automatically and
trained by :mod:`mesaopt.optimizers.ppo_recurrent` (a hidden state per environment, minibatches over envs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from mesaopt.envs.wrappers import BufferedAutoReset
from mesaopt.optimizers.ppo_recurrent import initial_hiddens, recurrent_update
from mesaopt.optimizers.ppo_steps import collect_rollout, learn_from_rollout
from mesaopt.optimizers.ppo_types import (
    EpisodeTracker,
    PPOConfig,
    RunnerState,
    TrainResult,
    Transition,
    UpdateMetrics,
    summarize_update,
)
from mesaopt.optimizers.skeleton import model_skeleton

__all__ = ["PPO", "EpisodeTracker", "PPOConfig", "RunnerState", "TrainResult", "Transition", "UpdateMetrics",
           "make_optimizer", "make_ppo", "summarize_update"]


@dataclass(frozen=True)
class PPO:
    """A configured PPO learner (closed over by ``jit``, not passed through it); see module docstring."""

    cfg: PPOConfig
    env: BufferedAutoReset
    static_model: eqx.Module
    """The model with its arrays removed (``eqx.combine`` with params rebuilds it)."""
    model_factory: Callable
    optimizer: optax.GradientTransformation
    n_steps: int
    """Updates in a full run (each collects ``cfg.n_steps`` steps in each of ``cfg.n_envs`` environments)."""
    finite_metrics: ClassVar[tuple[str, ...]] = ("policy_loss", "value_loss", "entropy", "approx_kl")
    """Metrics that must stay finite (``episode_return`` is NaN when no episode ended, which is fine)."""

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
        hidden = initial_hiddens(self.model(params), self.cfg.n_envs) if self.recurrent else None
        return RunnerState(
            params=params,
            opt_state=self.optimizer.init(params),
            env_state=env_state,
            obs=obs,
            episodes=EpisodeTracker(returns=zeros, lengths=zeros),
            key=k_run,
            hidden=hidden,
        )

    def step(self, state: RunnerState, env_params) -> tuple[RunnerState, UpdateMetrics]:
        """One update: collect a rollout in every environment, then learn from it."""
        if self.recurrent:
            return recurrent_update(self, state, env_params)
        state, rollout, last_value = collect_rollout(self, state, env_params)
        state, losses = learn_from_rollout(self, state, rollout, last_value)
        return state, summarize_update(rollout, losses)

    def train(self, key, env_params) -> TrainResult:
        """All ``n_steps`` updates in one ``scan``: the final parameters and ``metrics[n_steps]``."""
        state = self.init(key, env_params)
        state, metrics = jax.lax.scan(lambda s, _: self.step(s, env_params), state, None, length=self.n_steps)
        return TrainResult(params=state.params, metrics=metrics)


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
    if hasattr(static_model, "initial_hidden") and cfg.bootstrap_truncation:
        raise ValueError("ppo.bootstrap_truncation is for feed-forward models; a recurrent model's value of the "
                         "last observation needs its hidden state: set it to False")
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
        n_steps=n_updates,
    )
