"""Base optimizers behind one contract (:class:`BaseOptimizer`: pure ``init`` and ``step``), driven by
:func:`~mesaopt.optimizers.chunks.train_in_chunks`; :data:`OPTIMIZERS` builds each from a config."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from mesaopt.optimizers.contract import BaseOptimizer, FunctionalOptimizer
from mesaopt.optimizers.evolution import Evolution, EvolutionConfig, make_evolution
from mesaopt.optimizers.ppo import PPO, PPOConfig, TrainResult, UpdateMetrics, make_ppo
from mesaopt.optimizers.supervised import Supervised, SupervisedConfig, make_supervised


@dataclass(frozen=True)
class OptimizerEntry:
    """One base optimizer of :data:`OPTIMIZERS`."""

    config_cls: type
    """Its frozen config dataclass (``config_cls()`` is the default config)."""
    make: Callable[..., BaseOptimizer]
    """``make(cfg, model_factory, objective, budget=None) -> BaseOptimizer``: ``objective`` is what is optimized
    (PPO: the environment; supervised: ``loss_fn(model, key, step, problem)``; evolution: ``fitness_fn(genome, key,
    problem)``, with ``model_factory`` drawing the starting genome) and ``budget`` how long (PPO: total environment
    steps per run, required; supervised: gradient steps, default ``cfg.steps``; evolution: generations, default
    ``cfg.generations``)."""
    summary: str
    """One line for ``mesaopt list``."""


def build_ppo(cfg: PPOConfig, model_factory: Callable, env, total_steps: int | None = None) -> PPO:
    """:func:`make_ppo` in the registry's argument order; ``total_steps`` (environment steps per run) is required."""
    if total_steps is None:
        raise ValueError("ppo needs a budget: total environment steps per run (an integer >= 1)")
    return make_ppo(cfg, env, model_factory, total_steps)


def build_supervised(cfg: SupervisedConfig, model_factory: Callable, loss_fn: Callable,
                     steps: int | None = None) -> Supervised:
    """:func:`make_supervised` in the registry's argument order; ``steps``, if given, replaces ``cfg.steps``."""
    if steps is not None:
        cfg = dataclasses.replace(cfg, steps=steps)
    return make_supervised(cfg, model_factory, loss_fn)


OPTIMIZERS: dict[str, OptimizerEntry] = {
    "ppo": OptimizerEntry(PPOConfig, build_ppo, "proximal policy optimization on a level-based environment "
                          "(feed-forward or recurrent models)"),
    "supervised": OptimizerEntry(SupervisedConfig, build_supervised, "AdamW on a loss that draws its own batches"),
    "evolution": OptimizerEntry(EvolutionConfig, make_evolution, "evolution strategies and a genetic algorithm "
                                "(evosax: CMA-ES, SNES, OpenAI-ES, simple GA) on a fitness of any genome pytree"),
}
"""Base optimizers by name."""

__all__ = ["BaseOptimizer", "Evolution", "EvolutionConfig", "FunctionalOptimizer", "OPTIMIZERS", "OptimizerEntry",
           "PPO", "PPOConfig", "Supervised", "SupervisedConfig", "TrainResult", "UpdateMetrics", "build_ppo",
           "build_supervised", "make_evolution", "make_ppo", "make_supervised"]
