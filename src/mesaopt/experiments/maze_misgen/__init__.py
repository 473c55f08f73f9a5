"""Experiment ``maze-misgen``: goal misgeneralization in mazes as a dose-response over the training region."""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.maze_misgen.config import MazeMisgenConfig
from mesaopt.experiments.maze_misgen.evidence import inspect_maze_misgen
from mesaopt.experiments.maze_misgen.report import summary_table, write_maze_misgen_html
from mesaopt.experiments.maze_misgen.run import load_trained_agents, run_maze_misgen
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = MazeMisgenConfig(
    size=5, region_sizes=(1, 5), n_seeds=2, total_steps=2048, eval_episodes=16, n_chunks=2, layout_pool_size=4,
    ppo=dataclasses.replace(MazeMisgenConfig().ppo, n_envs=16, n_steps=16))
"""Two region sizes × two seeds, 2,048 env steps each, on a pool of 4 layouts (so that ``inspect`` also measures
layout generalization): seconds."""

EXPERIMENT = Experiment(
    name="maze-misgen",
    summary="goal misgeneralization in mazes: goal/proxy rates vs training-region size, 5 seeds each",
    config=MazeMisgenConfig(),
    run=run_maze_misgen,
    write_report=write_maze_misgen_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    inspect=inspect_maze_misgen,
    load=load_trained_agents,
)
