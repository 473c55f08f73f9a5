"""Experiment ``optimal-reward``: the reward that makes a bounded learner fittest is not the fitness (Singh, Lewis &
Barto 2009's hungry-thirsty agent)."""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.optimal_reward.config import KNOBS, OptimalRewardConfig
from mesaopt.experiments.optimal_reward.report import summary_table, write_optimal_reward_html
from mesaopt.experiments.optimal_reward.run import run_optimal_reward
from mesaopt.experiments.record import Experiment
from mesaopt.models.q_learner import QLearner

SMOKE_CONFIG = OptimalRewardConfig(
    levels=(20, 40), learner=QLearner(lifetime=40),
    evolution=dataclasses.replace(OptimalRewardConfig().evolution, population_size=4, generations=3),
    lifetimes_per_evaluation=2, eval_lifetimes=8, n_seeds=2, n_chunks=1)
"""Two searches per level, 3 generations of 4 rewards, 40-step lives: seconds."""

EXPERIMENT = Experiment(
    name="optimal-reward",
    summary="evolution as base optimizer: the reward that makes a bounded Q-learner fittest is not the fitness",
    config=OptimalRewardConfig(),
    run=run_optimal_reward,
    write_report=write_optimal_reward_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "KNOBS", "SMOKE_CONFIG", "OptimalRewardConfig", "run_optimal_reward"]
