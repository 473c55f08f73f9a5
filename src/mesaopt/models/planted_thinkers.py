"""Thinking networks with hand-set weights: the planted searcher and the planted non-searcher of the search detectors.

:func:`dead_end_filler` is a :class:`~mesaopt.models.thinking.RecurrentThinker` whose weights run *dead-end
filling*, one round per iteration: an open cell that is neither start nor goal and has at most one open, unfilled
neighbour is filled; what stays open and unfilled at the fixed point is the start-goal path of a perfect maze. It
is a searcher by construction (an iterative algorithm whose answer improves with iterations until it converges,
whose iterations track the maze's longest dead-end chain, whose state is the algorithm's state, and whose target
moves with the goal marker), so every search detector must read it as one. With ``memorize=True`` it runs the
same filling on a copy of the maze's open cells taken at the first iteration rather than on the maze it is shown:
the same answers, but a change to the walls after the start goes unseen (the cut test's planted latch).

State channels (the rest stay 0): 0 = filled, 1 = open, 2 and 3 = the two ramps that make the fill indicator.
With ``u`` = open unfilled neighbours and ``blocked`` = 8 × (closed or start or goal or filled), the indicator is
``relu(2 - u - blocked) - relu(1 - u - blocked)``: 1 when ``u <= 1`` and nothing blocks the cell, else 0.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.models.thinking import RecurrentThinker

_OPEN, _START, _GOAL = 0, 1, 2
"""Image channels (:mod:`mesaopt.tasks.maze_paths`)."""
_FILLED, _OPEN_STATE, _RAMP2, _RAMP1 = 0, 1, 2, 3
"""State channels."""
_BLOCK = 8.0
"""Weight that keeps a blocked cell's ramps at 0 (larger than any count of neighbours)."""
_NEIGHBOURS = ((0, 1), (2, 1), (1, 0), (1, 2))
"""Kernel taps of the 4 neighbours of a 3×3 kernel's centre (1, 1)."""


def _recall_kernel(width: int, in_channels: int, memorize: bool) -> tuple[np.ndarray, np.ndarray]:
    """``(state ‖ image) -> hidden``: copies of filled and open, and the two ramps. Open cells are read from the
    image, or with ``memorize`` from the state's own copy (set by the projection)."""
    kernel, bias = np.zeros((3, 3, width + in_channels, width), np.float32), np.zeros(width, np.float32)
    image = width  # first image channel in the concatenated input
    open_cells = _OPEN_STATE if memorize else image + _OPEN
    kernel[1, 1, _FILLED, _FILLED] = 1.0
    kernel[1, 1, open_cells, _OPEN_STATE] = 1.0
    for ramp, offset in ((_RAMP2, 2.0), (_RAMP1, 1.0)):
        bias[ramp] = offset - _BLOCK  # a closed cell is blocked: the open tap below adds _BLOCK back
        kernel[1, 1, open_cells, ramp] = _BLOCK
        for channel in (image + _START, image + _GOAL, _FILLED):
            kernel[1, 1, channel, ramp] = -_BLOCK
        for row, col in _NEIGHBOURS:  # u = sum over neighbours of (open - filled)
            kernel[row, col, open_cells, ramp] = -1.0
            kernel[row, col, _FILLED, ramp] = 1.0
    return kernel, bias


def _mix_kernel(width: int) -> tuple[np.ndarray, np.ndarray]:
    """``hidden -> hidden``: the fill indicator into channel 0 (the residual keeps everything else)."""
    kernel = np.zeros((3, 3, width, width), np.float32)
    kernel[1, 1, _RAMP2, _FILLED], kernel[1, 1, _RAMP1, _FILLED] = 1.0, -1.0
    return kernel, np.zeros(width, np.float32)


def dead_end_filler(width: int = 8, in_channels: int = 3, memorize: bool = False) -> RecurrentThinker:
    """A :class:`RecurrentThinker` that runs dead-end filling (module docstring); logits favour "path" exactly on
    open, unfilled cells (with ``memorize``: on the cells that were open at the start)."""
    if width < 4:
        raise ValueError(f"the dead-end filler needs width >= 4, got {width}")
    model = RecurrentThinker(in_channels, width=width, key=jax.random.key(0))
    project = np.zeros((3, 3, in_channels, width), np.float32)
    project[1, 1, _OPEN, _OPEN_STATE] = 1.0
    head = np.zeros((3, 3, width, width // 2), np.float32)
    head[1, 1, _OPEN_STATE, 0], head[1, 1, _FILLED, 0] = 1.0, -1.0  # relu(open - filled): 1 on the path
    out = np.zeros((3, 3, width // 2, 2), np.float32)
    out[1, 1, 0, 1] = 2.0  # path logit 2 on the path, 0 elsewhere; the other logit is a constant 1
    weights = {"project": (project, np.zeros(width, np.float32)),
               "recall": _recall_kernel(width, in_channels, memorize), "mix": _mix_kernel(width),
               "head": (head, np.zeros(width // 2, np.float32)), "out": (out, np.array([1.0, 0.0], np.float32))}
    names = tuple(weights)
    return eqx.tree_at(lambda m: tuple(getattr(m, n) for n in names), model,
                       tuple(tuple(jnp.asarray(a) for a in weights[n]) for n in names))
