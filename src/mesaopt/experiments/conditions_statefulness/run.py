"""Run ``conditions-statefulness``: one level per training iteration count of the weight-tied thinker, plus the
untied controls, each measured for learned search."""

from __future__ import annotations

import dataclasses
import time

import equinox as eqx
import jax

from mesaopt.experiments.conditions_statefulness.config import ConditionsStatefulnessConfig
from mesaopt.experiments.shared.thinker_conditions import (LevelSpec, make_feedforward_trainer, make_pool_trainer,
                                                           run_levels, summarize_measures)


def parameter_count(trainer) -> int:
    """Trainable numbers in one network of ``trainer`` (from the shapes alone: nothing is initialized)."""
    shapes = jax.eval_shape(lambda: eqx.filter(trainer.model_factory(jax.random.key(0)), eqx.is_array))
    return int(sum(x.size for x in jax.tree_util.tree_leaves(shapes)))


def equal_parameter_width(cfg: ConditionsStatefulnessConfig) -> int:
    """The widest untied control of ``untied_depth`` blocks (width >= 2) with no more parameters than the recurrent
    thinker."""
    target = parameter_count(make_pool_trainer(cfg.setup))
    widths = [w for w in range(2, cfg.setup.width + 1)
              if parameter_count(make_feedforward_trainer(cfg.setup, cfg.untied_depth, w)) <= target]
    return max(widths) if widths else 2


def statefulness_levels(cfg: ConditionsStatefulnessConfig) -> list[LevelSpec]:
    """Recurrent T levels, then the untied controls (equal depth; about equal parameters)."""
    levels = [LevelSpec(f"recurrent T {t}", make_pool_trainer(cfg.setup, train_iterations=t), t)
              for t in cfg.iterations]
    if cfg.untied_depth:
        d, narrow = cfg.untied_depth, equal_parameter_width(cfg)
        levels.append(LevelSpec(f"untied depth {d}", make_feedforward_trainer(cfg.setup, d), d))
        levels.append(LevelSpec(f"untied depth {d}, width {narrow}", make_feedforward_trainer(cfg.setup, d, narrow), d))
    return levels


def run_conditions_statefulness(cfg: ConditionsStatefulnessConfig, ctx) -> dict:
    """Train and measure every level; the headline."""
    started = time.perf_counter()
    cfg = cfg.resolved()
    cfg.validate()
    levels = statefulness_levels(cfg)
    arm = run_levels(cfg.setup, levels, cfg.n_seeds, ctx, jax.random.key(cfg.seed))
    wall = time.perf_counter() - started
    head = {"factor": "statefulness", "levels": [lv.label for lv in levels],
            "train_iterations": [lv.train_iterations for lv in levels],
            "weight_tied": [lv.label.startswith("recurrent") for lv in levels],
            "parameters": [parameter_count(lv.trainer) for lv in levels],
            **summarize_measures(arm["per_seed"]), "n_seeds": cfg.n_seeds, "wall_seconds": round(wall, 2)}
    return {"preset": "conditions-statefulness", "headline": head, **arm,
            "timings": {"wall_seconds": round(wall, 2)}, "config": dataclasses.asdict(cfg)}

