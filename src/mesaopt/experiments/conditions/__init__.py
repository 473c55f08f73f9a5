"""Experiment ``conditions``: RLO §2's conditions for mesa-optimization on one page. It runs (or reuses) each
``conditions-*`` factor and sets RLO's predicted direction beside the measured one, with intervals."""

from __future__ import annotations

from mesaopt.experiments.conditions.config import ConditionsConfig
from mesaopt.experiments.conditions.report import summary_table, write_conditions_html
from mesaopt.experiments.conditions.run import run_conditions
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = ConditionsConfig(scale="smoke")
"""Every factor's smoke config: seconds where those runs are stored already (the test session's shared smoke
runs), else about a minute."""

EXPERIMENT = Experiment(
    name="conditions",
    summary="RLO §2 on one page: runs or reuses the five conditions-* factors, predicted vs measured direction",
    config=ConditionsConfig(),
    run=run_conditions,
    write_report=write_conditions_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "SMOKE_CONFIG", "ConditionsConfig", "run_conditions"]
