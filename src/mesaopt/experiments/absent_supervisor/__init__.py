"""Experiment ``absent-supervisor``: does PPO learn to behave differently when it is not watched?"""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.absent_supervisor.config import AbsentSupervisorConfig
from mesaopt.experiments.absent_supervisor.evidence import inspect_absent_supervisor
from mesaopt.experiments.absent_supervisor.report import summary_table, write_absent_supervisor_html
from mesaopt.experiments.absent_supervisor.run import load_trained_agents, run_absent_supervisor
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = AbsentSupervisorConfig(
    n_seeds=2, total_steps=2048, eval_episodes=16, n_chunks=2,
    ppo=dataclasses.replace(AbsentSupervisorConfig().ppo, n_envs=16, n_steps=16))
"""Two seeds, 2,048 env steps each: seconds."""

EXPERIMENT = Experiment(
    name="absent-supervisor",
    summary="deception signal: PPO agents' reward and true performance with the supervisor present vs absent",
    config=AbsentSupervisorConfig(),
    run=run_absent_supervisor,
    write_report=write_absent_supervisor_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    inspect=inspect_absent_supervisor,
    load=load_trained_agents,
)
