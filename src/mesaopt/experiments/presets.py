"""Named experiment presets: a default config plus the function that runs it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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
}
"""Presets by name."""
