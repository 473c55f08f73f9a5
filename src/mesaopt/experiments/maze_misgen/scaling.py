"""The size rule of ``maze-misgen``: the defaults that grow with the maze side, in one place.

A setting left at its "by size" value (0, or no region sizes) takes the value below for the run's ``--size``;
a setting given explicitly is kept. At the flagship's side 5 the rule gives exactly the defaults the 5×5 results
were measured with (700,000 steps, 40-step episodes, region sizes 1, 3, 5, learning rate 2e-3). What the rule
reaches at each side, measured, is in ``docs/mazes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

REFERENCE_SIDE = 5
"""The side the flagship's defaults were tuned on; the rule scales from it."""
STEPS_AT_REFERENCE = 700_000
"""Environment steps per agent at the reference side."""
HORIZON_AT_REFERENCE = 40
"""Episode step limit at the reference side."""
LEARNING_RATE_AT_REFERENCE = 2e-3
"""PPO's Adam step size at the reference side."""


@dataclass(frozen=True)
class SizeDefaults:
    """The defaults the size rule gives one maze side."""

    total_steps: int
    """Environment steps per agent: in proportion to the number of cells (700,000 at side 5)."""
    max_steps: int
    """Episode step limit: in proportion to the number of cells (40 at side 5, 1.6 steps per cell)."""
    region_sizes: tuple[int, ...]
    """Training regions: the corner cell, half the maze and the whole maze, ``(1, (side + 1) // 2, side)``."""
    learning_rate: float
    """PPO's Adam step size: in inverse proportion to the egocentric window's cells, ``(2 side - 1)²`` (2e-3 at
    side 5). Adam moves every weight by about the step size, so a first-layer unit's input moves by about the step
    size times the window's active cells: this keeps that move the same at every side. At side 9, 2e-3 did not
    learn to find a goal anywhere in 2 M steps (0.28, a random walk's rate) where 5e-4 did (docs/mazes.md)."""


def cells_ratio(size: int) -> float:
    """How many times more cells a side-``size`` maze has than the reference side's."""
    return (size / REFERENCE_SIDE) ** 2


def window_cells(size: int) -> int:
    """Cells of the egocentric window that sees the whole side-``size`` maze from any cell."""
    return (2 * size - 1) ** 2


def size_defaults(size: int) -> SizeDefaults:
    """The rule's defaults for a ``size`` × ``size`` maze (``size`` odd and >= 3, checked by the config)."""
    ratio = cells_ratio(size)
    regions = tuple(sorted({1, (size + 1) // 2, size}))
    return SizeDefaults(
        total_steps=int(round(STEPS_AT_REFERENCE * ratio, -3)),
        max_steps=int(round(HORIZON_AT_REFERENCE * ratio)),
        region_sizes=regions,
        learning_rate=float(f"{LEARNING_RATE_AT_REFERENCE * window_cells(REFERENCE_SIDE) / window_cells(size):.2g}"),
    )
