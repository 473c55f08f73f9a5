"""Experiments ``maze-misgen`` and ``maze-misgen-13``: goal misgeneralization in mazes as a dose-response over the
training region, on the flagship's 5×5 mazes and at the research scale of 13×13."""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.maze_misgen.config import MazeMisgenConfig, with_size_rule
from mesaopt.experiments.maze_misgen.evidence import inspect_maze_misgen
from mesaopt.experiments.maze_misgen.report import summary_table, write_maze_misgen_html
from mesaopt.experiments.maze_misgen.run import load_trained_agents, run_maze_misgen
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = MazeMisgenConfig(
    size=5, region_sizes=(1, 5), n_seeds=2, total_steps=2048, model="mlp", obs_format="egocentric", max_steps=40,
    eval_episodes=16, n_chunks=2, layout_pool_size=4,
    ppo=dataclasses.replace(MazeMisgenConfig().ppo, n_envs=16, n_steps=16, learning_rate=2e-3))
"""Two region sizes × two seeds, 2,048 env steps each, on a pool of 4 layouts (so that ``inspect`` also measures
layout generalization): seconds. Every setting the size rule could fill is given, so the config a stored run loads
back is this one."""

RESEARCH_SCALE_CONFIG = MazeMisgenConfig(
    size=13, train_size=7, region_sizes=(1, 5, 9, 13), model="vprop", obs_format="grid", total_steps=650_000,
    eval_episodes=200, ppo=dataclasses.replace(MazeMisgenConfig().ppo, learning_rate=2e-3))
"""13×13 mazes (7 × 7 rooms), four training regions × 5 seeds, by a learned planner (``--model vprop``) trained on
7×7 mazes (each region its share of the side: 1, 3, 5, 7) and evaluated on 13×13 ones with the size rule's horizon
(270 steps). Trained at 13, neither the MLP nor the planner learned to find goals across the maze in 15 minutes
(docs/mazes.md). 13 min 4 s in all on 2 CPU cores (2026-12-07); every agent was at 1.00 success in training from
about 260,000 steps on, so the budget has room to spare (left as it was, not tuned)."""

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
    settle=with_size_rule,
)

RESEARCH_SCALE_EXPERIMENT = dataclasses.replace(
    EXPERIMENT,
    name="maze-misgen-13",
    summary="maze-misgen at research scale: 13x13 mazes, regions 1/5/9/13 x 5 seeds (15 min on 2 cores)",
    config=RESEARCH_SCALE_CONFIG,
)
"""The research-scale version. Its smoke config is ``maze-misgen``'s (a 5×5 program the compile cache already
holds): the suite checks the size-13 program's construction in ``tests/experiments/test_maze_scaling.py``."""
