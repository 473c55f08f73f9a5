"""Experiment ``maze-search``: recurrent maze solvers trained on small mazes; do they search, and which search?"""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.maze_search.config import MazeSearchConfig
from mesaopt.experiments.maze_search.report import summary_table, write_maze_search_html
from mesaopt.experiments.maze_search.run import load_trained_models, run_maze_search
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = MazeSearchConfig(
    train_sides=(5, 7), test_sides=(7, 9), test_iterations=(2, 4, 8), train_iterations=4, gradient_window=2, width=4,
    train=dataclasses.replace(MazeSearchConfig().train, steps=4, batch_size=4, warmup_steps=1),
    feedforward_steps=4, n_seeds=2, eval_mazes=8, probe_mazes=4, n_chunks=2)
"""Two 4-wide networks per class, 4 steps on sides 5 and 7: seconds."""

EXPERIMENT = Experiment(
    name="maze-search",
    summary="learned search: recurrent maze solvers trained small, tested large with more thinking; which search?",
    config=MazeSearchConfig(),
    run=run_maze_search,
    write_report=write_maze_search_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    load=load_trained_models,
)
