"""The one base-optimizer contract: a pure ``init(key, problem) -> state`` and ``step(state, problem) ->
(state, metrics)``, driven by :func:`mesaopt.optimizers.chunks.train_in_chunks`.

PPO (feed-forward and recurrent), supervised training and any future base optimizer (evolution strategies,
program search) satisfy :class:`BaseOptimizer`. ``problem`` is whatever varies per run and is batched over runs:
an environment's ``params`` for PPO, a task pool for supervised training, ``None`` when nothing varies. Seeds and
sweep points are a leading batch axis of ``keys`` and ``problem``; the driver vmaps, chunks and splits them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class BaseOptimizer(Protocol):
    """What the chunked driver needs of a base optimizer.

    ``n_steps`` may be a field or a property and ``finite_metrics`` a class attribute; ``isinstance(x,
    BaseOptimizer)`` checks that all four are present (not their signatures). Registered optimizers are built
    by ``mesaopt.optimizers.OPTIMIZERS[name].make(cfg, model_factory, objective, budget)``.
    """

    n_steps: int
    """Steps in a full run (PPO: updates; supervised: gradient steps; evolution: generations)."""
    finite_metrics: tuple[str, ...]
    """Metric names that must stay finite; the driver stops the run when one is not (others may be NaN,
    e.g. PPO's episode return when no episode ended)."""

    def init(self, key: Any, problem: Any) -> Any:
        """One run's initial state (pure)."""

    def step(self, state: Any, problem: Any) -> tuple[Any, Any]:
        """One step of one run: ``(state, metrics)`` with ``metrics`` a NamedTuple of scalars (pure)."""


@dataclass(frozen=True)
class FunctionalOptimizer:
    """A base optimizer from two plain functions (for tests, and for users who write their own)."""

    init_fn: Callable
    """``init_fn(key, problem) -> state``."""
    step_fn: Callable
    """``step_fn(state, problem) -> (state, metrics)``."""
    n_steps: int
    """Steps in a full run."""
    finite_metrics: tuple[str, ...] = ()
    """Metric names that must stay finite."""

    def init(self, key, problem):
        return self.init_fn(key, problem)

    def step(self, state, problem):
        return self.step_fn(state, problem)
