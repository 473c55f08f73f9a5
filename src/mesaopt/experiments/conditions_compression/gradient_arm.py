"""The gradient-descent arm of ``conditions-compression``: recurrent thinkers trained with more or less
description-length pressure (AdamW weight decay) or under time pressure (the every-iteration loss), each on a fresh
maze per example, then the learned-search measurements."""

from __future__ import annotations

from mesaopt.experiments.shared.thinker_conditions import (LevelSpec, make_pool_trainer, run_levels,
                                                           summarize_measures)


def gradient_levels(cfg) -> list[LevelSpec]:
    """One level per weight decay (progressive loss), then the time level (every-iteration loss, no decay)."""
    iterations = cfg.setup.train_iterations
    levels = [LevelSpec(f"weight decay {wd:g}", make_pool_trainer(cfg.setup, weight_decay=wd), iterations)
              for wd in cfg.weight_decays]
    if cfg.time_pressure:
        levels.append(LevelSpec("time", make_pool_trainer(cfg.setup, loss="every_iteration", weight_decay=0.0),
                                iterations))
    return levels


def run_gradient_arm(cfg, ctx, key) -> dict:
    """Train and measure every level's networks (:func:`run_levels`)."""
    return run_levels(cfg.setup, gradient_levels(cfg), cfg.gd_seeds, ctx, key)


def gradient_headline(cfg, arm: dict) -> dict:
    """The factor's stable names, aligned with ``levels``."""
    return {"levels": cfg.gd_levels, "n_seeds": cfg.gd_seeds, **summarize_measures(arm["per_seed"])}
