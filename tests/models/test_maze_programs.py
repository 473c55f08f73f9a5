"""The maze language: parsing, description bits, and execution on a hand-drawn maze whose outcomes were worked out
by hand (a serpentine with two dead ends), plus a property on random mazes."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.models.maze_programs import MazeSet, Program, encode_programs, parse_program, run_programs
from mesaopt.tasks.maze_paths import sample_corner_mazes

SERPENTINE = ["11111",
              "00001",
              "11111",
              "10000",
              "11111"]
"""Start (4, 0), goal (0, 4): the path is N N E E E E N N; row 4 and the west of row 0 are dead ends."""


def serpentine() -> MazeSet:
    open_cells = jnp.array([[c == "1" for c in row] for row in SERPENTINE])[None]
    return MazeSet(open_cells, jnp.array([[4, 0]]), jnp.array([[0, 4]]))


def run(texts, cap=17):
    programs = [parse_program(t) for t in texts]
    out = run_programs(encode_programs(programs), serpentine(), cap)
    return np.asarray(out.solved)[:, 0], np.asarray(out.steps)[:, 0], np.asarray(out.final)[:, 0]


def test_programs_parse_and_print_back():
    for text in ("route(NNEE)", "route()", "follow_wall(left)", "search_to(goal)", "search_to(sw)"):
        assert parse_program(text).source() == text
    assert parse_program(" search_to( ne ) ") == Program("search_to", "ne")


@pytest.mark.parametrize("text", ["search_to(food)", "route(NXE)", "jump(3)", "follow_wall()", "route(NE"])
def test_a_program_that_does_not_parse_is_one_error_naming_the_forms(text):
    with pytest.raises(MesaoptError, match=r"does not parse; the forms are route\(<letters of NESW>\), "
                                           r"follow_wall\(left\|right\), search_to\(goal\|ne\|nw\|se\|sw\)"):
        parse_program(text)


def test_description_bits_follow_the_prefix_code():
    head = math.log2(3)
    assert Program("route", "").bits == pytest.approx(head + 1)
    assert Program("route", "NE").bits == pytest.approx(head + 3 + 4)
    assert Program("route", "NNEEEENN").bits == pytest.approx(head + 7 + 16)
    assert Program("follow_wall", "left").bits == pytest.approx(head + 1)
    assert Program("search_to", "goal").bits == pytest.approx(head + math.log2(5))
    assert Program("route", "N").program_class == "lookup" and Program("search_to", "ne").target == "ne"
    assert Program("follow_wall", "right").program_class == "algorithm"
    assert Program("follow_wall", "left").target == "none"


def test_execution_on_the_hand_drawn_maze_matches_the_hand_count():
    texts = ["route(NNEEEENN)", "route(NNNEEEENN)", "route(EEEE)", "search_to(goal)", "search_to(nw)",
             "search_to(se)", "follow_wall(left)", "follow_wall(right)"]
    solved, steps, final = run(texts)
    assert solved.tolist() == [True, True, False, True, True, False, True, True]
    # routes: instructions executed (a blocked move is wasted); searches: moves + cells expanded (13, 17, 8)
    assert steps.tolist() == [8, 9, 4, 8 + 13, 8 + 17, 4 + 8, 8, 16]
    assert final[2].tolist() == [4, 4] and final[5].tolist() == [4, 4]


def test_the_move_cap_stops_a_long_tour():
    solved, steps, _ = run(["follow_wall(right)", "follow_wall(left)"], cap=10)
    assert solved.tolist() == [False, True] and steps.tolist() == [10, 8]


def test_a_search_for_the_goal_solves_every_random_maze_within_its_open_cells():
    mazes = MazeSet(*sample_corner_mazes(jax.random.key(3), 7, 40, shifted=True))
    out = run_programs(encode_programs([Program("search_to", "goal"), Program("search_to", "ne")]), mazes, 31)
    solved = np.asarray(out.solved)
    assert solved[0].all() and solved[1].mean() < 0.5  # the corner is not the goal in the shifted mazes
