"""A small maze-navigation language: the learned algorithms of program search, fully inspectable.

Three kinds of program, each with a description length in bits (a prefix code: the kind, then its argument):

- ``route(NNES...)`` — a fixed move string (a lookup: it holds the answer, not a way to find it); a blocked move
  is a wasted instruction. Bits: ``log2 3`` + Elias gamma of ``len + 1`` + 2 per move.
- ``follow_wall(left|right)`` — the hand-on-the-wall rule (a general algorithm holding no target: it walks until
  the episode ends). Bits: ``log2 3 + 1``.
- ``search_to(goal|ne|nw|se|sw)`` — breadth-first search from the start for a feature (the goal marker or a corner
  room), then walk the path found: a searcher whose objective is its argument. Bits: ``log2 3 + log2 5``.

Execution (:func:`run_programs`, jitted, vmapped over programs and mazes): the agent starts on the start cell
facing north; an episode ends when it stands on the goal (the environment's rule, not the program's) or after
``move_cap`` instructions. Run-time steps: instructions executed before the episode ended (a move, blocked or
not), plus, for ``search_to``, the cells the search expands (every cell nearer the start than the target, and the
target). Programs are integer-encoded (:class:`ProgramCodes`) so that thousands run in one compiled call.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int

from mesaopt.errors import MesaoptError
from mesaopt.tasks.maze_paths import UNREACHED, bfs_distances

KINDS = ("route", "follow_wall", "search_to")
"""Program kinds, in code order."""
HANDS = ("left", "right")
"""Arguments of ``follow_wall``."""
FEATURES = ("goal", "ne", "nw", "se", "sw")
"""Arguments of ``search_to``: the goal marker and the four corner rooms."""
MOVES = "NESW"
"""Move letters, clockwise: north, east, south, west."""
STEPS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]])
"""Row/column change of each move."""
CLASS_OF_KIND = {"route": "lookup", "follow_wall": "algorithm", "search_to": "algorithm"}
"""Whether a kind of program holds the answers (lookup) or a way to find them (algorithm)."""


def elias_gamma_bits(n: int) -> int:
    """Length of the Elias gamma code of ``n >= 1``: ``2 floor(log2 n) + 1``."""
    return 2 * (int(n).bit_length() - 1) + 1


@dataclass(frozen=True)
class Program:
    """One program of the language."""

    kind: str
    """One of :data:`KINDS`."""
    arg: str
    """A hand, a feature, or the move string of a route (letters of ``NESW``)."""

    @property
    def bits(self) -> float:
        """Description length (the prefix code of the module docstring)."""
        head = math.log2(len(KINDS))
        if self.kind == "route":
            return head + elias_gamma_bits(len(self.arg) + 1) + 2 * len(self.arg)
        return head + math.log2(len(HANDS) if self.kind == "follow_wall" else len(FEATURES))

    @property
    def program_class(self) -> str:
        """``lookup`` or ``algorithm``."""
        return CLASS_OF_KIND[self.kind]

    @property
    def target(self) -> str:
        """The feature a ``search_to`` program seeks; ``none`` for programs that hold no target."""
        return self.arg if self.kind == "search_to" else "none"

    def source(self) -> str:
        """The program as text (what :func:`parse_program` reads)."""
        return f"{self.kind}({self.arg})"


_SYNTAX = re.compile(r"^\s*(route|follow_wall|search_to)\s*\(\s*([A-Za-z]*)\s*\)\s*$")


def parse_program(text: str) -> Program:
    """A program from its text, or a one-line ``MesaoptError`` naming the forms the language has."""
    forms = f"route(<letters of {MOVES}>), follow_wall({'|'.join(HANDS)}), search_to({'|'.join(FEATURES)})"
    match = _SYNTAX.match(text) if isinstance(text, str) else None
    if match is None:
        raise MesaoptError(f"program {text!r} does not parse; the forms are {forms}")
    kind, arg = match.groups()
    allowed = {"follow_wall": HANDS, "search_to": FEATURES}.get(kind)
    if (allowed is not None and arg not in allowed) or (kind == "route" and set(arg) - set(MOVES)):
        raise MesaoptError(f"program {text!r} does not parse; the forms are {forms}")
    return Program(kind, arg)


class ProgramCodes(NamedTuple):
    """Programs as integer arrays (leading axis: programs)."""

    kind: Int[Array, " p"]
    """Index into :data:`KINDS`."""
    arg: Int[Array, " p"]
    """Index into :data:`HANDS` or :data:`FEATURES` (0 for routes)."""
    moves: Int[Array, "p m"]
    """Route moves (indices into :data:`MOVES`), padded with -1."""
    length: Int[Array, " p"]
    """Route length (0 for other kinds)."""


def encode_programs(programs: list[Program], width: int | None = None) -> ProgramCodes:
    """Integer codes of ``programs``; routes padded to ``width`` moves (default: the longest route, at least 1)."""
    lengths = [len(p.arg) if p.kind == "route" else 0 for p in programs]
    width = max([1, *lengths]) if width is None else width
    moves = np.full((len(programs), width), -1, np.int32)
    for i, p in enumerate(programs):
        if p.kind == "route":
            moves[i, :len(p.arg)] = [MOVES.index(m) for m in p.arg]
    args = [0 if p.kind == "route" else (HANDS if p.kind == "follow_wall" else FEATURES).index(p.arg)
            for p in programs]
    return ProgramCodes(kind=jnp.array([KINDS.index(p.kind) for p in programs], jnp.int32),
                        arg=jnp.array(args, jnp.int32), moves=jnp.asarray(moves), length=jnp.array(lengths, jnp.int32))


class MazeSet(NamedTuple):
    """Mazes for programs (leading axis: mazes)."""

    open_cells: Bool[Array, "n h w"]
    """True where the agent may stand."""
    start: Int[Array, "n 2"]
    """Start cell (row, column)."""
    goal: Int[Array, "n 2"]
    """Goal cell (row, column)."""


class Execution(NamedTuple):
    """What running programs on mazes did (axes: programs, mazes)."""

    solved: Bool[Array, "p n"]
    """The episode ended on the goal."""
    steps: Int[Array, "p n"]
    """Run-time steps: instructions executed, plus cells a search expanded."""
    final: Int[Array, "p n 2"]
    """Where the agent stood at the end."""


def feature_cells(side: int, goal: Int[Array, "2"]) -> Int[Array, "5 2"]:
    """Cells of :data:`FEATURES` in one maze: the goal, then the NE, NW, SE, SW corner rooms."""
    last = side - 1
    corners = jnp.array([[0, last], [0, 0], [last, last], [last, 0]], jnp.int32)
    return jnp.concatenate([goal[None].astype(jnp.int32), corners])


def _neighbour(open_cells, cell, direction):
    """The cell one move away, or ``cell`` itself where a wall or the edge blocks the move."""
    target = cell + jnp.asarray(STEPS, jnp.int32)[direction]
    h, w = open_cells.shape
    inside = (target[0] >= 0) & (target[0] < h) & (target[1] >= 0) & (target[1] < w)
    free = inside & open_cells[jnp.clip(target[0], 0, h - 1), jnp.clip(target[1], 0, w - 1)]
    return jnp.where(free, target, cell), free


def _wall_follower_move(open_cells, cell, heading, hand):
    """First open direction in the hand's order (left hand: left, ahead, right, back)."""
    turns = jnp.where(hand == 0, jnp.array([3, 0, 1, 2]), jnp.array([1, 0, 3, 2]))
    options = (heading + turns) % 4
    free = jax.vmap(lambda d: _neighbour(open_cells, cell, d)[1])(options)
    return options[jnp.argmax(free)]


def _search_move(to_target, cell):
    """The move down the distance-to-target map (-1 at the target or where none leads)."""
    h, w = to_target.shape
    here = to_target[cell[0], cell[1]]
    targets = cell[None] + jnp.asarray(STEPS, jnp.int32)
    inside = (targets[:, 0] >= 0) & (targets[:, 0] < h) & (targets[:, 1] >= 0) & (targets[:, 1] < w)
    dist = jnp.where(inside, to_target[jnp.clip(targets[:, 0], 0, h - 1), jnp.clip(targets[:, 1], 0, w - 1)],
                     UNREACHED)
    best = jnp.argmin(dist)
    return jnp.where((dist[best] < here) & (here < UNREACHED), best, -1)


def run_one(code: ProgramCodes, maze: MazeSet, move_cap: int):
    """One program on one maze (unbatched ``code`` and ``maze``): ``(solved, steps, final cell)``."""
    open_cells, start, goal = maze
    target = feature_cells(open_cells.shape[0], goal)[code.arg]
    to_target = bfs_distances(open_cells, target)
    from_start = bfs_distances(open_cells, start)
    expanded = jnp.sum(from_start < from_start[target[0], target[1]]) + 1

    def body(t, carry):
        cell, heading, executed = carry
        done = jnp.all(cell == goal)
        route_move = jnp.where(t < code.length, code.moves[jnp.minimum(t, code.moves.shape[0] - 1)], -1)
        wall_move = _wall_follower_move(open_cells, cell, heading, code.arg)
        move = jnp.select([code.kind == 0, code.kind == 1], [route_move, wall_move], _search_move(to_target, cell))
        act = ~done & (move >= 0)
        moved, _ = _neighbour(open_cells, cell, jnp.maximum(move, 0))
        return (jnp.where(act, moved, cell), jnp.where(act, jnp.maximum(move, 0), heading),
                executed + act.astype(jnp.int32))

    cell, _, executed = jax.lax.fori_loop(0, move_cap, body, (start.astype(jnp.int32), jnp.int32(0), jnp.int32(0)))
    steps = executed + jnp.where(code.kind == 2, expanded, 0)
    return jnp.all(cell == goal), steps, cell


def run_program_list(programs: list[Program], mazes: MazeSet, move_cap: int, pad_to: int = 16) -> Execution:
    """:func:`run_programs` on a list, padded with empty routes to a multiple of ``pad_to`` programs and routes to
    ``move_cap`` moves (fewer distinct shapes: fewer compilations); the padding is dropped from the result."""
    if any(p.kind == "route" and len(p.arg) > move_cap for p in programs):
        raise MesaoptError(f"a route longer than the move cap ({move_cap}) cannot run to its end")
    padded = list(programs) + [Program("route", "")] * (-len(programs) % pad_to)
    out = run_programs(encode_programs(padded, width=max(move_cap, 1)), mazes, move_cap)
    return Execution(*(x[:len(programs)] for x in out))


@functools.partial(jax.jit, static_argnames="move_cap")
def run_programs(codes: ProgramCodes, mazes: MazeSet, move_cap: int) -> Execution:
    """Every program on every maze (one compiled call)."""
    per_maze = jax.vmap(run_one, in_axes=(None, 0, None))
    solved, steps, final = jax.vmap(per_maze, in_axes=(0, None, None))(codes, mazes, move_cap)
    return Execution(solved=solved, steps=steps, final=final)
