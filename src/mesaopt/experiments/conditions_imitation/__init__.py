"""Experiment ``conditions-imitation``: RLO §2's modelling-other-optimizers condition. The same recurrent thinker
trained to imitate a BFS planner (an optimizer) or the left-hand wall follower (a non-optimizer): does imitating the
optimizer make a searcher (extrapolation, thinking gain, compute that tracks a search) when the other does not?"""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.conditions_diversity import SMOKE_CONFIG as DIVERSITY_SMOKE
from mesaopt.experiments.conditions_imitation.config import ConditionsImitationConfig
from mesaopt.experiments.conditions_imitation.report import summary_table, write_conditions_imitation_html
from mesaopt.experiments.conditions_imitation.run import run_conditions_imitation
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = ConditionsImitationConfig(
    targets=("wall_follower",), n_seeds=2, setup=dataclasses.replace(DIVERSITY_SMOKE.setup, steps=20, n_chunks=1))
"""The wall-follower level alone, 20 steps, in ``conditions-diversity``'s smoke setup (whose path level is the
same program): end to end in seconds (learning is not asserted; the wall follower has its own tests)."""

EXPERIMENT = Experiment(
    name="conditions-imitation",
    summary="RLO conditions: imitating a BFS planner vs a wall follower, same network",
    config=ConditionsImitationConfig(),
    run=run_conditions_imitation,
    write_report=write_conditions_imitation_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "SMOKE_CONFIG", "ConditionsImitationConfig", "run_conditions_imitation"]
