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

SMOKE_CONFIG = dataclasses.replace(PrincipalAgentConfig(), market=HiringMarket(cohort_size=32),
                                   selection_pressures=(0.0, 2.0), oversight_levels=(0.0, 1.0), n_seeds=3)
"""Three cohorts of 32, two pressures, two oversight levels: a second or two."""

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
