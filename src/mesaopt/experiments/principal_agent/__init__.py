"""Experiment ``principal-agent``: hiring executives. Candidates optimize hidden objectives and model the
evaluation; principals hire on a metric under some oversight; what they get after hiring, and what helps."""

from __future__ import annotations

import dataclasses

from mesaopt.envs.hiring import HiringMarket
from mesaopt.experiments.principal_agent.config import INTERVENTIONS, PrincipalAgentConfig
from mesaopt.experiments.principal_agent.evidence import inspect_principal_agent
from mesaopt.experiments.principal_agent.report import summary_table, write_principal_agent_html
from mesaopt.experiments.principal_agent.run import run_principal_agent
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = dataclasses.replace(PrincipalAgentConfig(), market=HiringMarket(cohort_size=256),
                                   selection_pressures=(0.0, 4.0), oversight_levels=(0.0, 1.0), n_seeds=8)
"""Eight cohorts of 256, two pressures, two oversight levels: seconds, enough to see weak oversight select deceivers
(the learning test reads this run)."""

EXPERIMENT = Experiment(
    name="principal-agent",
    summary="nested optimizers: hiring agents with hidden objectives on a metric; deception gap and interventions",
    config=PrincipalAgentConfig(),
    run=run_principal_agent,
    write_report=write_principal_agent_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    inspect=inspect_principal_agent,
)

__all__ = ["EXPERIMENT", "INTERVENTIONS", "SMOKE_CONFIG", "PrincipalAgentConfig", "run_principal_agent"]
