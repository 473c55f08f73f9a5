"""Program search as a base optimizer: the cheapest program of the maze language that solves every training maze.

Cost of a program = description bits + ``lam`` × run-time steps summed over the K training mazes
(:mod:`mesaopt.models.maze_programs`); only programs that solve all K are eligible, and ties are broken uniformly at
random (a base optimizer that cannot tell two programs apart picks either). The candidates are enumerated in two
parts:

- every general program (``follow_wall`` with either hand, ``search_to`` every feature) and any programs the user
  adds, run in one compiled call;
- the routes: all move strings, by length, for the shortest one that solves every training maze at once (blocked
  moves are wasted, the episode ends on the goal). Strings that leave the agent in the same cell of every maze are
  interchangeable, so the enumeration is a breadth-first search over those joint positions, pruned by
  ``length + max_k distance_k(goal) > bound`` (the bound: the move cap, or a valid route made by appending each
  maze's remaining path in turn); it is exact unless it reaches ``route_state_budget`` joint positions, when the
  appended route stands in and the result says so. The shortest route has the fewest bits among routes (bits grow
  with length); at ``lam > 0`` a longer route with fewer steps could in principle be cheaper: not searched.

:class:`ProgramSearch` puts this behind the base-optimizer contract (``init`` enumerates the candidates, each
``step`` scores a chunk of them). It runs on the host, not under ``vmap``: programs are discrete and the route
search's frontier has a data-dependent size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import numpy as np

from mesaopt.errors import MesaoptError
from mesaopt.models.maze_programs import FEATURES, HANDS, MOVES, STEPS, MazeSet, Program, run_program_list


@dataclass(frozen=True)
class ProgramSearchConfig:
    """Config of :class:`ProgramSearch`."""

    lam: float = 0.0
    """Price of one run-time step in bits (>= 0): cost = bits + lam × steps summed over the training mazes."""
    move_cap: int = 49
    """Instructions a program may execute per maze (>= 1); 49 = the open cells of a side-9 perfect maze."""
    route_state_budget: int = 1_000_000
    """Joint positions the route enumeration may visit before it stops and uses its fallback route (>= 1)."""
    chunk: int = 256
    """Candidates scored per ``step``."""
    extra_programs: tuple[str, ...] = ()
    """Programs (source text) added to the candidates."""


class RouteResult(NamedTuple):
    """What the route enumeration found."""

    program: Program | None
    """The shortest route that solves every maze within the move cap (None: none exists, or none was found)."""
    status: str
    """``exact`` (shortest), ``none`` (no route within the cap: exact), ``budget`` (budget hit: ``program`` is the
    appended fallback if it fits the cap)."""
    states: int
    """Joint positions visited."""


def move_table(open_cells: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """``table[k, cell, move]``: the flat cell after a move in maze k (blocked: the same cell; the goal absorbs)."""
    n, h, w = open_cells.shape
    rows, cols = np.divmod(np.arange(h * w), w)
    table = np.empty((n, h * w, 4), np.int64)
    for d, (dr, dc) in enumerate(STEPS):
        r, c = rows + dr, cols + dc
        inside = (r >= 0) & (r < h) & (c >= 0) & (c < w)
        target = np.where(inside, np.clip(r, 0, h - 1) * w + np.clip(c, 0, w - 1), 0)
        free = inside[None] & open_cells.reshape(n, -1)[:, target]
        table[:, :, d] = np.where(free, target[None], np.arange(h * w)[None])
    goals = goal[:, 0] * w + goal[:, 1]
    table[np.arange(n), goals, :] = goals[:, None]
    return table


def distances_to_goal(table: np.ndarray, goal_cells: np.ndarray) -> np.ndarray:
    """``dist[k, cell]``: moves from each cell to maze k's goal (a large number where none leads)."""
    n, cells, _ = table.shape
    dist = np.full((n, cells), 10**6, np.int64)
    dist[np.arange(n), goal_cells] = 0
    for _ in range(cells):
        best = np.minimum(dist, dist[np.arange(n)[:, None, None], table].min(axis=-1) + 1)
        if np.array_equal(best, dist):
            break
        dist = best
    return dist


def appended_route(table: np.ndarray, dist: np.ndarray, starts: np.ndarray) -> list[int]:
    """A route that solves every maze: run what is written so far on maze k, then append its remaining path."""
    route: list[int] = []
    for k in range(table.shape[0]):
        cell = starts[k]
        for move in route:
            cell = table[k, cell, move]
        while dist[k, cell] > 0:
            move = int(np.argmin(dist[k, table[k, cell]]))
            route.append(move)
            cell = table[k, cell, move]
    return route


def _joint_codes(positions: np.ndarray, base: int) -> np.ndarray:
    return (positions * (base ** np.arange(positions.shape[1], dtype=np.int64))).sum(axis=1)


def _trace_back(layers: list, index: int) -> list[int]:
    moves = []
    for parents, directions in reversed(layers):
        moves.append(int(directions[index]))
        index = int(parents[index])
    return moves[::-1]


def shortest_route(mazes: MazeSet, move_cap: int, state_budget: int) -> RouteResult:
    """The shortest move string that solves every maze of ``mazes`` (see the module docstring)."""
    open_cells, start, goal = (np.asarray(x) for x in mazes)
    n, h, w = open_cells.shape
    if float(h * w) ** n >= 2.0**62:
        raise MesaoptError(f"route search over {n} mazes of {h}x{w} cells does not fit 64-bit joint codes; "
                           f"use fewer training mazes or smaller mazes")
    table = move_table(open_cells, goal)
    dist = distances_to_goal(table, goal[:, 0] * w + goal[:, 1])
    starts = start[:, 0] * w + start[:, 1]
    fallback = appended_route(table, dist, starts)
    bound = min(len(fallback), move_cap)
    frontier, seen, layers = starts[None], _joint_codes(starts[None], h * w), []
    if dist[np.arange(n), starts].max() == 0:
        return RouteResult(Program("route", ""), "exact", 1)
    for depth in range(1, bound + 1):
        children = np.stack([table[np.arange(n), frontier, d] for d in range(4)], 1).reshape(-1, n)
        parents, directions = np.repeat(np.arange(len(frontier)), 4), np.tile(np.arange(4), len(frontier))
        remaining = dist[np.arange(n), children].max(axis=1)
        keep = depth + remaining <= bound
        codes, first = np.unique(_joint_codes(children[keep], h * w), return_index=True)
        new = ~np.isin(codes, seen, assume_unique=True)
        picked = np.flatnonzero(keep)[first[new]]
        frontier, seen = children[picked], np.concatenate([seen, codes[new]])
        layers.append((parents[picked], directions[picked]))
        done = np.flatnonzero(remaining[picked] == 0)
        if done.size:
            route = "".join(MOVES[m] for m in _trace_back(layers, int(done[0])))
            return RouteResult(Program("route", route), "exact", int(seen.size))
        if seen.size > state_budget:
            ok = len(fallback) <= move_cap
            return RouteResult(Program("route", "".join(MOVES[m] for m in fallback)) if ok else None, "budget",
                               int(seen.size))
        if frontier.size == 0:
            break
    return RouteResult(None, "none", int(seen.size))


def general_programs(extra: tuple[str, ...] = ()) -> list[Program]:
    """Every ``follow_wall`` and ``search_to`` program, then the parsed ``extra`` programs."""
    from mesaopt.models.maze_programs import parse_program

    return ([Program("follow_wall", hand) for hand in HANDS] + [Program("search_to", f) for f in FEATURES]
            + [parse_program(text) for text in extra])


class SearchState(NamedTuple):
    """Where a program search stands."""

    key: jax.Array
    """For breaking ties."""
    candidates: tuple
    """Programs in enumeration order."""
    next_index: int
    """First candidate not yet scored."""
    best_index: int
    """Cheapest eligible candidate so far (-1: none)."""
    best_cost: float
    """Its cost (inf: none)."""
    ties: int
    """Candidates seen at ``best_cost`` (for uniform tie-breaking)."""
    route: RouteResult
    """The route enumeration's result."""


class SearchMetrics(NamedTuple):
    """One step's metrics."""

    best_cost: float
    """Cost of the cheapest eligible program so far."""
    scored: int
    """Candidates scored so far."""
    """Candidates scored so far."""


class Scores(NamedTuple):
    """Candidates scored on the training mazes."""

    bits: np.ndarray
    """Description length per candidate."""
    steps: np.ndarray
    """Run-time steps per candidate, summed over the training mazes."""
    eligible: np.ndarray
    """The candidate solves every training maze."""


def score_programs(programs: list[Program], mazes: MazeSet, move_cap: int) -> Scores:
    """Run every program on every training maze (one compiled call)."""
    run = run_program_list(programs, mazes, move_cap)
    return Scores(bits=np.array([p.bits for p in programs]), steps=np.asarray(run.steps).sum(axis=1),
                  eligible=np.asarray(run.solved).all(axis=1))


def select_program(scores: Scores, lam: float, key) -> int:
    """Index of the cheapest eligible candidate at step price ``lam`` (uniform among exact ties; -1: none)."""
    cost = np.where(scores.eligible, scores.bits + lam * scores.steps, np.inf)
    if not np.isfinite(cost).any():
        return -1
    cheapest = np.flatnonzero(np.isclose(cost, cost.min(), rtol=0.0, atol=1e-9))
    return int(cheapest[int(jax.random.randint(key, (), 0, cheapest.size))])


def switch_price(scores: Scores, classes: list[str]) -> float:
    """The smallest step price at which the cheapest eligible lookup costs less than every eligible algorithm
    (inf: never; 0: already at ``lam = 0``). Costs are lines in ``lam``: the answer is 0 or a crossing point."""
    look = [i for i, c in enumerate(classes) if c == "lookup" and scores.eligible[i]]
    algo = [i for i, c in enumerate(classes) if c == "algorithm" and scores.eligible[i]]
    if not look:
        return float("inf")
    if not algo:
        return 0.0

    def lookup_wins(lam: float) -> bool:
        cost = scores.bits + lam * scores.steps
        return min(cost[i] for i in look) < min(cost[j] for j in algo) - 1e-9

    crossings = sorted({(scores.bits[i] - scores.bits[j]) / (scores.steps[j] - scores.steps[i])
                        for i in look for j in algo if scores.steps[j] > scores.steps[i]})
    if lookup_wins(0.0):
        return 0.0
    for lam in crossings:
        if lam > 0 and lookup_wins(lam * (1 + 1e-9) + 1e-12):
            return float(lam)
    return float("inf")


class ProgramSearch:
    """Program search behind the base-optimizer contract: ``problem`` is the training :class:`MazeSet`."""

    finite_metrics: tuple[str, ...] = ()

    def __init__(self, cfg: ProgramSearchConfig):
        if not cfg.lam >= 0 or cfg.move_cap < 1 or cfg.route_state_budget < 1 or cfg.chunk < 1:
            raise MesaoptError("program search needs lam >= 0, move_cap >= 1, route_state_budget >= 1, chunk >= 1; "
                               f"got lam={cfg.lam}, move_cap={cfg.move_cap}, "
                               f"route_state_budget={cfg.route_state_budget}, chunk={cfg.chunk}")
        self.cfg = cfg
        self.general = general_programs(cfg.extra_programs)

    @property
    def n_steps(self) -> int:
        """Chunks of candidates (the general programs and at most one route)."""
        return -(-(len(self.general) + 1) // self.cfg.chunk)

    def init(self, key, problem: MazeSet) -> SearchState:
        """Enumerate the candidates: the general programs, then the shortest route (if one fits the cap)."""
        route = shortest_route(problem, self.cfg.move_cap, self.cfg.route_state_budget)
        candidates = tuple(self.general + ([route.program] if route.program is not None else []))
        return SearchState(key, candidates, 0, -1, float("inf"), 0, route)

    def step(self, state: SearchState, problem: MazeSet) -> tuple[SearchState, SearchMetrics]:
        """Score the next chunk; keep the cheapest eligible candidate (uniform among ties, reservoir-style)."""
        chunk = list(state.candidates[state.next_index:state.next_index + self.cfg.chunk])
        key, best_index, best_cost, ties = state.key, state.best_index, state.best_cost, state.ties
        if chunk:
            scores = score_programs(chunk, problem, self.cfg.move_cap)
            cost = np.where(scores.eligible, scores.bits + self.cfg.lam * scores.steps, np.inf)
            for offset, c in enumerate(cost):
                if not np.isfinite(c) or c > best_cost + 1e-9:
                    continue
                key, k_tie = jax.random.split(key)
                ties = 1 if c < best_cost - 1e-9 else ties + 1
                if ties == 1 or int(jax.random.randint(k_tie, (), 0, ties)) == 0:
                    best_index, best_cost = state.next_index + offset, float(c)
        next_index = state.next_index + len(chunk)
        new = state._replace(key=key, next_index=next_index, best_index=best_index, best_cost=best_cost, ties=ties)
        return new, SearchMetrics(best_cost=best_cost, scored=next_index)


def search_programs(cfg: ProgramSearchConfig, mazes: MazeSet, key) -> tuple[Program | None, SearchState]:
    """Run :class:`ProgramSearch` to the end: the selected program (None: no candidate solves every maze)."""
    search = ProgramSearch(cfg)
    state = search.init(key, mazes)
    for _ in range(search.n_steps):
        state, _ = search.step(state, mazes)
    return (state.candidates[state.best_index] if state.best_index >= 0 else None), state
