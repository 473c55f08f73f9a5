"""Program search: the route enumeration is exact (checked against brute force over every string on tiny mazes),
honest about its budget and its cap; selection prices run time, breaks ties at random and finds the switch price;
the contract class selects what the one-call selection does."""

import itertools

import jax
import numpy as np
import pytest

from mesaopt.models.maze_programs import MazeSet, Program, encode_programs, run_programs
from mesaopt.optimizers.contract import BaseOptimizer
from mesaopt.optimizers.program_search import (ProgramSearch, ProgramSearchConfig, Scores, move_table,
                                               score_programs, search_programs, select_program, shortest_route,
                                               switch_price)
from mesaopt.tasks.maze_paths import sample_corner_mazes


def mazes(seed, n, side=5):
    return MazeSet(*sample_corner_mazes(jax.random.key(seed), side, n))


def solves_all(route: str, maze_set: MazeSet, cap: int) -> bool:
    out = run_programs(encode_programs([Program("route", route)]), maze_set, cap)
    return bool(np.asarray(out.solved).all())


def shortest_by_brute_force(maze_set: MazeSet, longest: int) -> int | None:
    """Length of the shortest string over NESW (up to ``longest``) that solves every maze: every string of each
    length run at once through the move table (the goal absorbs: the episode has ended)."""
    open_cells, start, goal = (np.asarray(x) for x in maze_set)
    table, width = move_table(open_cells, goal), open_cells.shape[2]
    starts, goals = start[:, 0] * width + start[:, 1], goal[:, 0] * width + goal[:, 1]
    for length in range(longest + 1):
        strings = np.array(list(itertools.product(range(4), repeat=length)), int).reshape(4**length, length)
        cells = np.tile(starts, (len(strings), 1))
        for t in range(length):
            cells = table[np.arange(len(starts))[None], cells, strings[:, t:t + 1]]
        if (cells == goals[None]).all(axis=1).any():
            return length
    return None


@pytest.mark.parametrize("seed, n", [(0, 2), (1, 3)])
def test_the_route_enumeration_finds_the_shortest_string_that_brute_force_finds(seed, n):
    maze_set = mazes(seed, n)
    found = shortest_route(maze_set, move_cap=9, state_budget=100_000)
    brute = shortest_by_brute_force(maze_set, longest=9)
    if brute is None:
        assert found.program is None and found.status == "none"
    else:
        assert found.status == "exact" and len(found.program.arg) == brute
        assert solves_all(found.program.arg, maze_set, 9)


def test_one_maze_gets_its_shortest_path():
    maze_set = mazes(4, 1, side=7)
    found = shortest_route(maze_set, move_cap=31, state_budget=10_000)
    search = run_programs(encode_programs([Program("search_to", "goal")]), maze_set, 31)
    path_moves = int(np.asarray(search.steps)[0, 0]) - _expanded(maze_set)
    assert found.status == "exact" and len(found.program.arg) == path_moves


def _expanded(maze_set):
    from mesaopt.tasks.maze_paths import bfs_distances
    d = np.asarray(bfs_distances(maze_set.open_cells[0], maze_set.start[0]))
    return int((d < d[tuple(np.asarray(maze_set.goal[0]))]).sum()) + 1


def test_the_budget_and_the_cap_are_reported():
    maze_set = mazes(5, 4, side=7)
    budget = shortest_route(maze_set, move_cap=200, state_budget=1)
    assert budget.status == "budget" and solves_all(budget.program.arg, maze_set, 200)
    assert shortest_route(maze_set, move_cap=3, state_budget=100_000) == (None, "none", 1)


def test_selection_prices_run_time_and_breaks_ties_at_random():
    scores = Scores(bits=np.array([4.0, 4.0, 40.0, 2.0]), steps=np.array([100.0, 100.0, 10.0, 5.0]),
                    eligible=np.array([True, True, True, False]))
    picks = {select_program(scores, 0.0, jax.random.key(i)) for i in range(20)}
    assert picks == {0, 1}  # the cheaper-still program 3 does not solve every maze
    assert select_program(scores, 1.0, jax.random.key(0)) == 2
    assert switch_price(scores, ["algorithm", "algorithm", "lookup", "lookup"]) == pytest.approx(36 / 90)
    assert switch_price(scores, ["algorithm"] * 4) == float("inf")
    none = Scores(scores.bits, scores.steps, np.zeros(4, bool))
    assert select_program(none, 0.0, jax.random.key(0)) == -1


def test_the_contract_class_selects_what_one_call_selects():
    maze_set = mazes(6, 2, side=7)
    cfg = ProgramSearchConfig(lam=2.0, move_cap=31, chunk=3, extra_programs=("route(NNNN)",))
    search = ProgramSearch(cfg)
    assert isinstance(search, BaseOptimizer) and search.n_steps == 3
    program, state = search_programs(cfg, maze_set, jax.random.key(0))
    scores = score_programs(list(state.candidates), maze_set, 31)
    cost = np.where(scores.eligible, scores.bits + 2.0 * scores.steps, np.inf)
    assert program is not None and state.best_cost == pytest.approx(cost.min())
    assert program.bits + 2.0 * scores.steps[state.best_index] == pytest.approx(cost.min())
