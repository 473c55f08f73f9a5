"""Experiment ``conditions-statefulness``: RLO §2's statefulness / algorithmic-range condition. Weight-tied
recurrent thinkers trained with 1 to 32 iterations, and untied controls at equal depth and at about equal
parameters: which of them learns to search (extrapolation, thinking gain)?"""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.conditions_diversity import SMOKE_CONFIG as DIVERSITY_SMOKE
from mesaopt.experiments.conditions_statefulness.config import ConditionsStatefulnessConfig
from mesaopt.experiments.conditions_statefulness.report import summary_table, write_conditions_statefulness_html
from mesaopt.experiments.conditions_statefulness.run import run_conditions_statefulness
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = ConditionsStatefulnessConfig(
    iterations=(4,), untied_depth=0, n_seeds=2,
    setup=dataclasses.replace(DIVERSITY_SMOKE.setup, steps=20, n_chunks=1))
"""One recurrent level, 20 steps, in ``conditions-diversity``'s smoke setup (its evaluation programs are compiled
once for both): the run goes end to end in seconds (learning is not asserted; the untied controls' pieces have
their own tests, and each level kind costs a compilation)."""

EXPERIMENT = Experiment(
    name="conditions-statefulness",
    summary="RLO conditions: training iterations 1-32 of a weight-tied thinker vs untied controls",
    config=ConditionsStatefulnessConfig(),
    run=run_conditions_statefulness,
    write_report=write_conditions_statefulness_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "SMOKE_CONFIG", "ConditionsStatefulnessConfig", "run_conditions_statefulness"]
