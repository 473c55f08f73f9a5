"""Mazes as ASCII text, for tests and docs: ``#`` wall, ``.`` open, ``A`` agent, ``G`` goal, one row per line.

Pure NumPy (no JAX), so it can be used anywhere; wrap the arrays with ``jnp.asarray`` to build a
:class:`mesaopt.envs.maze.Level`. Row 0 is the first line (the top of the maze), as in the environment.
"""

from __future__ import annotations

import textwrap

import numpy as np

from mesaopt.errors import MesaoptError

WALL, OPEN, AGENT, GOAL = "#", ".", "A", "G"
ALLOWED_CHARS = (WALL, OPEN, AGENT, GOAL)
_ALLOWED_TEXT = "allowed characters: '#' wall, '.' open, 'A' agent, 'G' goal (one of each A and G)"


def _bad_level(problem: str) -> MesaoptError:
    """One-line error naming the problem and the allowed characters."""
    return MesaoptError(f"bad maze ASCII: {problem}; {_ALLOWED_TEXT}")


def _as_cell(pos: np.ndarray, name: str, size: int) -> tuple[int, int]:
    """A validated (row, col) inside a ``size`` × ``size`` grid."""
    pos = np.asarray(pos)
    if pos.shape != (2,) or not np.issubdtype(pos.dtype, np.integer):
        raise MesaoptError(f"{name} must be an integer (row, col) pair, got {pos!r}")
    row, col = int(pos[0]), int(pos[1])
    if not (0 <= row < size and 0 <= col < size):
        raise MesaoptError(f"{name} {(row, col)} is outside the {size}x{size} maze")
    return row, col


def level_to_ascii(walls: np.ndarray, agent: np.ndarray, goal: np.ndarray) -> str:
    """Text for a level: one line per row, ending with a newline. Accepts NumPy or JAX arrays.

    Raises :class:`MesaoptError` if the walls are not a square grid, or the agent or goal is off the grid,
    on a wall, or on the same cell (such a level cannot be written without losing information).
    """
    walls = np.asarray(walls, dtype=bool)
    if walls.ndim != 2 or walls.shape[0] != walls.shape[1]:
        raise MesaoptError(f"walls must be a square 2-D grid, got shape {walls.shape}")
    size = walls.shape[0]
    agent_rc, goal_rc = _as_cell(agent, "agent", size), _as_cell(goal, "goal", size)
    if agent_rc == goal_rc:
        raise MesaoptError(f"agent and goal are on the same cell {agent_rc}; ASCII needs distinct cells")
    for name, cell in (("agent", agent_rc), ("goal", goal_rc)):
        if walls[cell]:
            raise MesaoptError(f"{name} {cell} is on a wall")
    chars = np.where(walls, WALL, OPEN).astype("<U1")
    chars[agent_rc], chars[goal_rc] = AGENT, GOAL
    return "".join("".join(row) + "\n" for row in chars)


def _split_rows(text: str) -> list[str]:
    """Rows of the text, tolerating common indentation, trailing spaces and surrounding blank lines."""
    if not isinstance(text, str):
        raise MesaoptError(f"maze ASCII must be a string, got {type(text).__name__}")
    lines = [line.rstrip() for line in textwrap.dedent(text).splitlines()]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _check_shape(rows: list[str]) -> None:
    """Rectangular, square, odd side >= 3 (the environment's allowed sizes)."""
    if not rows:
        raise _bad_level("the text has no rows")
    width = len(rows[0])
    for i, row in enumerate(rows):
        if len(row) != width:
            raise _bad_level(f"row {i} has {len(row)} characters but row 0 has {width} (rows must be equally long)")
    if len(rows) != width:
        raise _bad_level(f"the maze is {len(rows)} rows x {width} columns; it must be square")
    if width < 3 or width % 2 == 0:
        raise _bad_level(f"the side is {width}; it must be odd and >= 3")


def _check_chars(rows: list[str]) -> None:
    """Only allowed characters, exactly one agent and one goal."""
    for i, row in enumerate(rows):
        for j, char in enumerate(row):
            if char not in ALLOWED_CHARS:
                raise _bad_level(f"unknown character {char!r} at row {i}, column {j}")
    for char, name in ((AGENT, "agent"), (GOAL, "goal")):
        count = sum(row.count(char) for row in rows)
        if count != 1:
            raise _bad_level(f"found {count} {name} cells ({char!r}); there must be exactly one")


def level_from_ascii(text: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a level: returns ``(walls bool[n, n], agent int32[2], goal int32[2])`` with (row, col) positions.

    Raises :class:`MesaoptError` (one line naming the problem and the allowed characters) unless the text is a
    square grid with an odd side >= 3 of ``# . A G`` with exactly one ``A`` and one ``G``.
    """
    rows = _split_rows(text)
    _check_shape(rows)
    _check_chars(rows)
    chars = np.array([list(row) for row in rows])
    walls = chars == WALL
    agent = np.argwhere(chars == AGENT)[0].astype(np.int32)
    goal = np.argwhere(chars == GOAL)[0].astype(np.int32)
    return walls, agent, goal
