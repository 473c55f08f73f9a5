"""Experiment ``nested``: evolution sets a learner's reward, the learner learns values, a depth-k planner searches
with them; every level's pressure swept, every level's objective ranked against fitness, before and after a shift."""

from __future__ import annotations

import dataclasses

from mesaopt.envs.foraging import ForagingTask
from mesaopt.experiments.nested.config import LEVELS, NestedConfig
from mesaopt.experiments.nested.report import summary_table, write_nested_html
from mesaopt.experiments.nested.run import run_nested
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = NestedConfig(
    task=ForagingTask(n_types=8, lifetime=40), trips=2, trip_steps=6, planner_depth=3,
    evolution=dataclasses.replace(NestedConfig().evolution, population_size=8, generations=6),
    generation_levels=(0, 6), lifetime_levels=(40,), depth_levels=(0, 3), eval_lifetimes=48, n_seeds=3)
"""Three runs, 6 generations of 8 genomes, 40-meal lives: about 10 s, enough for evolution to find the sweet
tooth (the learning test reads this run)."""

EXPERIMENT = Experiment(
    name="nested",
    summary="nested optimizers: evolution → lifetime learner → depth-k planner; objectives ranked against fitness",
    config=NestedConfig(),
    run=run_nested,
    write_report=write_nested_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "LEVELS", "SMOKE_CONFIG", "NestedConfig", "run_nested"]
