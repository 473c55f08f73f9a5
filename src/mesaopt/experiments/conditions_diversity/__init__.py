"""Experiment ``conditions-diversity``: RLO §2's task-diversity condition. Recurrent thinkers trained on N distinct
mazes (1 to a fresh maze per example): where do novel-maze accuracy, extrapolation and the thinking gain turn up
(N*), and how does RLO's toy model of optimization power fit the curve?"""

from __future__ import annotations

from mesaopt.experiments.conditions_diversity.config import ConditionsDiversityConfig
from mesaopt.experiments.conditions_diversity.report import summary_table, write_conditions_diversity_html
from mesaopt.experiments.conditions_diversity.run import run_conditions_diversity
from mesaopt.experiments.record import Experiment
from mesaopt.experiments.shared.thinker_conditions import ThinkerSetup

SMOKE_CONFIG = ConditionsDiversityConfig(
    pool_sizes=(1,), n_seeds=2,
    setup=ThinkerSetup(side=5, extrapolation_side=7, width=8, train_iterations=4, gradient_window=2,
                       test_iterations=(2, 4, 8), steps=100, batch_size=16, eval_mazes=32, n_chunks=2))
"""Side-5 mazes, one maze and fresh mazes x 2 seeds, 100 steps: seconds, and the pool of one maze is already
memorized."""

EXPERIMENT = Experiment(
    name="conditions-diversity",
    summary="RLO conditions: task diversity (N distinct training mazes) vs learned search, with N* and the toy model",
    config=ConditionsDiversityConfig(),
    run=run_conditions_diversity,
    write_report=write_conditions_diversity_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "SMOKE_CONFIG", "ConditionsDiversityConfig", "run_conditions_diversity"]
