"""Experiment ``evolved-reward``: evolution installs a proxy objective (sweetness) in a bounded learner when the true
value (nutrition) comes too late to teach it; the proxy fails under a junk-food shift."""

from __future__ import annotations

import dataclasses

from mesaopt.envs.foraging import ForagingTask
from mesaopt.experiments.evolved_reward.config import KNOBS, EvolvedRewardConfig
from mesaopt.experiments.evolved_reward.evidence import inspect_evolved_reward
from mesaopt.experiments.evolved_reward.report import summary_table, write_evolved_reward_html
from mesaopt.experiments.evolved_reward.run import run_evolved_reward
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = EvolvedRewardConfig(
    levels=(0, 1), task=ForagingTask(n_types=3, lifetime=10),
    evolution=dataclasses.replace(EvolvedRewardConfig().evolution, population_size=4, generations=4),
    lifetimes_per_evaluation=2, eval_lifetimes=8, n_seeds=2, n_chunks=2)
"""Two runs per level, 4 generations of 4 genomes, 10-meal lives: seconds."""

EXPERIMENT = Experiment(
    name="evolved-reward",
    summary="evolution as base optimizer: the reward it installs in a bounded learner (a sweet tooth) and the shift",
    config=EvolvedRewardConfig(),
    run=run_evolved_reward,
    write_report=write_evolved_reward_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    inspect=inspect_evolved_reward,
)

__all__ = ["EXPERIMENT", "KNOBS", "SMOKE_CONFIG", "EvolvedRewardConfig", "run_evolved_reward"]
