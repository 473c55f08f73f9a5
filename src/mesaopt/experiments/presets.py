"""Named experiment presets: a default config plus the function that runs it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mesaopt.experiments.absent_supervisor import AbsentSupervisorConfig
from mesaopt.experiments.absent_supervisor_run import run_absent_supervisor
from mesaopt.experiments.icl_diversity import IclDiversityConfig, full_study_config, run_icl_diversity
from mesaopt.experiments.icl_gd import IclGdConfig, run_icl_gd
from mesaopt.experiments.icl_regression import IclRegressionConfig, run_icl_regression
from mesaopt.experiments.maze_misgen import MazeMisgenConfig
from mesaopt.experiments.maze_misgen_run import run_maze_misgen


@dataclass(frozen=True)
class Preset:
    """A runnable experiment."""

    name: str
    """Name used on the command line and in run directory names."""
    summary: str
    """One line for ``mesaopt list``."""
    config: object
    """Default config (a frozen dataclass); CLI flags override its fields."""
    run: Callable
    """``run(cfg, writer, on_chunk=None, on_phase=None) -> report dict`` (writes report.json)."""


PRESETS = {
    "maze-misgen": Preset(
        name="maze-misgen",
        summary="goal misgeneralization in mazes: goal/proxy rates vs training-region size, 5 seeds each",
        config=MazeMisgenConfig(),
        run=run_maze_misgen,
    ),
    "icl-gd": Preset(
        name="icl-gd",
        summary="a linear self-attention layer trained on in-context regression vs one step of gradient descent",
        config=IclGdConfig(),
        run=run_icl_gd,
    ),
    "icl-regression": Preset(
        name="icl-regression",
        summary="a small transformer learns regression in context: error vs k against reference learners, OOD",
        config=IclRegressionConfig(),
        run=run_icl_regression,
    ),
    "icl-diversity": Preset(
        name="icl-diversity",
        summary="task diversity M vs memorizing (dMMSE) or learning in context (ridge); reports the threshold M*",
        config=IclDiversityConfig(),
        run=run_icl_diversity,
    ),
    "icl-diversity-full": Preset(
        name="icl-diversity-full",
        summary="the full task-diversity threshold study (d = 8, 4 layers x 64, M = 2..2^15): hours on a CPU",
        config=full_study_config(),
        run=run_icl_diversity,
    ),
    "absent-supervisor": Preset(
        name="absent-supervisor",
        summary="deception signal: PPO agents' reward and true performance with the supervisor present vs absent",
        config=AbsentSupervisorConfig(),
        run=run_absent_supervisor,
    ),
}
"""Presets by name."""
