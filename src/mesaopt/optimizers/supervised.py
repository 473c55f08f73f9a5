"""Supervised base optimizer (optax) with the whole loop inside one ``jit``.

``make_supervised(cfg, model_factory, loss_fn)`` returns a :class:`Supervised`, a
:class:`~mesaopt.optimizers.contract.BaseOptimizer` whose ``init(key, task_params=None)`` and
``step(state, task_params)`` (one gradient step) are pure. ``loss_fn(model, batch_key, step, task_params) -> loss``
draws its own batch from ``batch_key`` (= ``fold_in(data_key, step)``, so batches are a pure function of (key,
step); the step also drives curricula) and returns a scalar. ``task_params`` is any pytree that varies per run (a task
pool, its size M), so ``jax.vmap`` over seeds × sweep points trains them all in one program.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import equinox as eqx
import jax
import jax.numpy as jnp
import optax

from mesaopt.errors import MesaoptError, is_finite_number
from mesaopt.optimizers.skeleton import model_skeleton


@dataclass(frozen=True)
class SupervisedConfig:
    """Optimizer settings of supervised training."""

    learning_rate: float = 1e-3
    """Peak AdamW step size; finite, > 0."""
    steps: int = 2000
    """Gradient steps per run."""
    batch_size: int = 256
    """Prompts per gradient step."""
    microbatches: int = 1
    """Split each step's batch into this many sequential micro-batches whose gradients are averaged: the same
    step with less memory at once (for batches that do not fit). ``loss_fn`` must draw ``microbatch_size``
    examples. On the 2-core CPU it did not speed up the icl-regression step (benchmarks/README.md)."""
    warmup_steps: int = 100
    """Linear warm-up from 0 to the peak step size."""
    cosine_decay: bool = True
    """Cosine-decay the step size to 10 % of the peak after warm-up (else constant)."""
    weight_decay: float = 0.0
    """AdamW decoupled weight decay; finite, ≥ 0."""
    grad_clip: float = 1.0
    """Global gradient-norm clip (0 = none); finite, ≥ 0."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` (a ``ValueError``) naming the first impossible value (NaN and ±inf included)."""
        for name in ("steps", "batch_size", "microbatches"):
            if getattr(self, name) < 1:
                raise MesaoptError(f"train.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.batch_size % self.microbatches:
            raise MesaoptError(f"train.batch_size ({self.batch_size}) must be divisible by train.microbatches "
                               f"({self.microbatches})")
        if not is_finite_number(self.learning_rate) or self.learning_rate <= 0:
            raise MesaoptError(f"train.learning_rate must be a finite number > 0, got {self.learning_rate!r}")
        for name in ("grad_clip", "weight_decay"):
            value = getattr(self, name)
            if not is_finite_number(value) or value < 0:
                raise MesaoptError(f"train.{name} must be a finite number ≥ 0, got {value!r}")
        if self.warmup_steps < 0:
            raise MesaoptError(f"train.warmup_steps must be ≥ 0, got {self.warmup_steps}")

    @property
    def microbatch_size(self) -> int:
        """Examples per micro-batch (what ``loss_fn`` draws per call)."""
        return self.batch_size // self.microbatches



class SupervisedState(NamedTuple):
    """Everything carried from one gradient step to the next."""

    params: eqx.Module
    opt_state: optax.OptState
    step: jax.Array
    data_key: jax.Array


class StepMetrics(NamedTuple):
    """Per-step training metrics."""

    loss: jax.Array
    """The training loss of this step's batch."""
    grad_norm: jax.Array
    """Global norm of the gradient before clipping."""


def make_schedule(cfg: SupervisedConfig) -> optax.Schedule:
    """Warm-up then cosine decay to 10 % (or constant)."""
    warmup = max(cfg.warmup_steps, 1)
    if cfg.cosine_decay:
        return optax.warmup_cosine_decay_schedule(0.0, cfg.learning_rate, warmup, max(cfg.steps, warmup + 1),
                                                  end_value=0.1 * cfg.learning_rate)
    return optax.join_schedules([optax.linear_schedule(0.0, cfg.learning_rate, warmup),
                                 optax.constant_schedule(cfg.learning_rate)], [warmup])


def make_optimizer(cfg: SupervisedConfig) -> optax.GradientTransformation:
    """AdamW on the schedule, after optional global-norm clipping."""
    adam = optax.adamw(make_schedule(cfg), weight_decay=cfg.weight_decay)
    return optax.chain(optax.clip_by_global_norm(cfg.grad_clip), adam) if cfg.grad_clip > 0 else adam


@dataclass(frozen=True)
class Supervised:
    """A configured supervised learner (closed over by ``jit``); see the module docstring."""

    cfg: SupervisedConfig
    static_model: eqx.Module
    model_factory: Callable
    loss_fn: Callable
    optimizer: optax.GradientTransformation
    finite_metrics: ClassVar[tuple[str, ...]] = ("loss", "grad_norm")
    """Metrics that must stay finite."""

    @property
    def n_steps(self) -> int:
        """Gradient steps in a full run (``cfg.steps``)."""
        return self.cfg.steps

    def model(self, params) -> eqx.Module:
        """The module with ``params`` filled in."""
        return eqx.combine(params, self.static_model)

    def init(self, key, task_params=None) -> SupervisedState:
        """One run's initial state; ``task_params`` is unused (the contract's ``problem``: batches are drawn by
        ``loss_fn`` at each step)."""
        del task_params
        k_model, k_data = jax.random.split(key)
        params = eqx.filter(self.model_factory(k_model), eqx.is_array)
        return SupervisedState(params, self.optimizer.init(params), jnp.zeros((), jnp.int32), k_data)

    def _loss_and_grads(self, state: SupervisedState, task_params):
        batch_key = jax.random.fold_in(state.data_key, state.step)

        def grad_of(key):
            return jax.value_and_grad(lambda p: self.loss_fn(self.model(p), key, state.step, task_params))(state.params)

        n = self.cfg.microbatches
        if n == 1:
            return grad_of(batch_key)

        def accumulate(total, i):
            return jax.tree_util.tree_map(jnp.add, total, grad_of(jax.random.fold_in(batch_key, i))), None

        zero = (jnp.zeros(()), jax.tree_util.tree_map(jnp.zeros_like, state.params))
        total, _ = jax.lax.scan(accumulate, zero, jnp.arange(n))
        return jax.tree_util.tree_map(lambda x: x / n, total)

    def step(self, state: SupervisedState, task_params) -> tuple[SupervisedState, StepMetrics]:
        """One gradient step on a batch drawn from ``fold_in(data_key, step)``."""
        value, grads = self._loss_and_grads(state, task_params)
        updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        metrics = StepMetrics(loss=value, grad_norm=optax.tree.norm(grads))
        return SupervisedState(params, opt_state, state.step + 1, state.data_key), metrics

    def train(self, key, task_params) -> tuple[eqx.Module, StepMetrics]:
        """Every step in one ``scan``: ``(params, metrics[steps])``."""
        state = self.init(key, task_params)
        state, metrics = jax.lax.scan(lambda s, _: self.step(s, task_params), state, None, length=self.n_steps)
        return state.params, metrics


def make_supervised(cfg: SupervisedConfig, model_factory: Callable, loss_fn: Callable) -> Supervised:
    """Configure supervised training of ``model_factory(key) -> module`` on ``loss_fn``."""
    cfg.validate()
    static_model = model_skeleton(model_factory)
    return Supervised(cfg, static_model, model_factory, loss_fn, make_optimizer(cfg))
