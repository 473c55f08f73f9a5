"""Experiment ``conditions-statefulness``: RLO §2's statefulness / algorithmic-range condition. Weight-tied
recurrent thinkers trained with 1 to 32 iterations, and untied controls at equal depth and at about equal
parameters: which of them learns to search (extrapolation, thinking gain)?"""

from __future__ import annotations

from mesaopt.experiments.conditions_statefulness.config import ConditionsStatefulnessConfig
from mesaopt.experiments.conditions_statefulness.report import summary_table, write_conditions_statefulness_html
from mesaopt.experiments.conditions_statefulness.run import run_conditions_statefulness
from mesaopt.experiments.record import Experiment
from mesaopt.experiments.shared.thinker_conditions import ThinkerSetup

SMOKE_CONFIG = ConditionsStatefulnessConfig(
    iterations=(2,), untied_depth=0, n_seeds=2,
    setup=ThinkerSetup(side=5, extrapolation_side=7, width=4, train_iterations=2, gradient_window=2,
                       test_iterations=(1, 2, 4, 8), steps=20, batch_size=8, eval_mazes=16, n_chunks=1))
"""One recurrent level at toy sizes: the run goes end to end in seconds (learning is not asserted from 20 steps; the
untied controls' pieces have their own tests, each level kind costs a compilation)."""

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
