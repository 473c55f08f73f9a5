"""Experiment ``maze-search-misgen``: recurrent maze solvers trained where goal marker and proxy block coincide;
on the shift, which do they search for?"""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.maze_search_misgen.config import MazeSearchMisgenConfig
from mesaopt.experiments.maze_search_misgen.evidence import inspect_maze_search_misgen
from mesaopt.experiments.maze_search_misgen.report import summary_table, write_maze_search_misgen_html
from mesaopt.experiments.maze_search_misgen.run import load_trained_thinkers, run_maze_search_misgen
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = MazeSearchMisgenConfig(
    goal_regions=(1, 2), train_sides=(5, 7), train_iterations=4, gradient_window=2, width=4,
    train=dataclasses.replace(MazeSearchMisgenConfig().train, steps=4, batch_size=4, warmup_steps=1),
    n_seeds=2, eval_mazes=8, test_iterations=(4, 8), evidence_side=9, probe_mazes=4, n_chunks=2)
"""Two 4-wide networks per condition, 4 steps on sides 5 and 7: seconds."""

EXPERIMENT = Experiment(
    name="maze-search-misgen",
    summary="learned search with a proxy: maze solvers trained with goal marker and top-right block together",
    config=MazeSearchMisgenConfig(),
    run=run_maze_search_misgen,
    write_report=write_maze_search_misgen_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    inspect=inspect_maze_search_misgen,
    load=load_trained_thinkers,
)
