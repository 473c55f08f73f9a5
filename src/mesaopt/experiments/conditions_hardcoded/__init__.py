"""Experiment ``conditions-hardcoded``: RLO §2's hard-coded-optimization condition. A hybrid whose search is built
in (a fixed planner over a feed-forward network's reward map) against the fully learned recurrent thinker, on the
same mazes: where does the search live, and can the hybrid's objective be read off its map?"""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.conditions_diversity import SMOKE_CONFIG as DIVERSITY_SMOKE
from mesaopt.experiments.conditions_hardcoded.config import ConditionsHardcodedConfig
from mesaopt.experiments.conditions_hardcoded.report import summary_table, write_conditions_hardcoded_html
from mesaopt.experiments.conditions_hardcoded.run import run_conditions_hardcoded
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = ConditionsHardcodedConfig(
    encoder_depth=1, planner_rounds=8, proxy_arm=False, n_seeds=2,
    setup=dataclasses.replace(DIVERSITY_SMOKE.setup, steps=20, n_chunks=1))
"""Both models 20 steps in ``conditions-diversity``'s smoke setup (its evaluation programs are shared), no proxy
arm: end to end in seconds (learning is not asserted here; the planner has its own tests)."""

EXPERIMENT = Experiment(
    name="conditions-hardcoded",
    summary="RLO conditions: a built-in planner over a learned map vs the fully learned thinker",
    config=ConditionsHardcodedConfig(),
    run=run_conditions_hardcoded,
    write_report=write_conditions_hardcoded_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "SMOKE_CONFIG", "ConditionsHardcodedConfig", "run_conditions_hardcoded"]
