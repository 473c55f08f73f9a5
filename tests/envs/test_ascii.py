"""ASCII levels: round trip on a hand-written level, and one clear error per kind of bad input."""

import numpy as np
import pytest

from mesaopt.envs.ascii import level_from_ascii, level_to_ascii
from mesaopt.errors import MesaoptError

LEVEL = """\
#####
#A..#
###.#
#G..#
#####
"""


def test_parse_hand_written_level():
    walls, agent, goal = level_from_ascii(LEVEL)
    assert walls.shape == (5, 5) and walls.dtype == bool
    assert agent.tolist() == [1, 1]
    assert goal.tolist() == [3, 1]
    assert walls[0].all() and walls[2, :3].all() and not walls[2, 3]
    assert int(walls.sum()) == 25 - 7  # seven open cells, A and G included


def test_round_trip_text_and_arrays():
    walls, agent, goal = level_from_ascii(LEVEL)
    assert level_to_ascii(walls, agent, goal) == LEVEL
    walls2, agent2, goal2 = level_from_ascii(level_to_ascii(walls, agent, goal))
    np.testing.assert_array_equal(walls2, walls)
    np.testing.assert_array_equal(agent2, agent)
    np.testing.assert_array_equal(goal2, goal)


def test_indented_text_with_blank_lines_parses():
    indented = "\n    #####\n    #A..#\n    ###.#\n    #G..#\n    #####\n\n"
    walls, agent, goal = level_from_ascii(indented)
    assert level_to_ascii(walls, agent, goal) == LEVEL


def test_accepts_jax_arrays():
    jnp = pytest.importorskip("jax.numpy")
    walls, agent, goal = level_from_ascii(LEVEL)
    assert level_to_ascii(jnp.asarray(walls), jnp.asarray(agent), jnp.asarray(goal)) == LEVEL


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("", "no rows"),
        ("#####\n#A..#\n###.\n#G..#\n#####", "row 2 has 4 characters"),
        ("#####\n#A.G#\n#####", "must be square"),
        ("####\n#AG#\n#..#\n####", "must be odd"),
        ("#####\n#A..#\n##x.#\n#G..#\n#####", "unknown character 'x' at row 2, column 2"),
        ("#####\n#A..#\n## .#\n#G..#\n#####", "unknown character ' '"),
        ("#####\n#...#\n###.#\n#G..#\n#####", "found 0 agent"),
        ("#####\n#A.A#\n###.#\n#G..#\n#####", "found 2 agent"),
        ("#####\n#A..#\n###.#\n#...#\n#####", "found 0 goal"),
        ("#####\n#A.G#\n###.#\n#G..#\n#####", "found 2 goal"),
    ],
)
def test_bad_ascii_raises_one_clear_line(text, fragment):
    with pytest.raises(MesaoptError) as info:
        level_from_ascii(text)
    message = str(info.value)
    assert fragment in message
    assert "allowed characters: '#' wall, '.' open, 'A' agent, 'G' goal" in message
    assert "\n" not in message


def test_non_string_raises():
    with pytest.raises(MesaoptError, match="must be a string"):
        level_from_ascii(b"#####")


@pytest.mark.parametrize(
    "agent, goal, fragment",
    [((1, 1), (1, 1), "same cell"), ((0, 0), (3, 1), "on a wall"), ((1, 1), (5, 1), "outside")],
)
def test_to_ascii_rejects_unwritable_levels(agent, goal, fragment):
    walls, _, _ = level_from_ascii(LEVEL)
    with pytest.raises(MesaoptError, match=fragment):
        level_to_ascii(walls, np.array(agent), np.array(goal))
