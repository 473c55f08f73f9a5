import numpy as np
import pytest

from mesaopt.envs import Maze, make_params


def _only(size, cell):
    mask = np.zeros((size, size), bool)
    mask[cell] = True
    return mask


def test_start_must_differ_from_single_goal_cell():
    with pytest.raises(ValueError, match="other than the only goal cell"):
        make_params(5, goal_mask=_only(5, (0, 0)), start_mask=_only(5, (0, 0)))


def test_pool_layout_must_leave_goal_and_start_open():
    pool = np.ones((1, 5, 5), bool)
    pool[0, 2, 2] = False
    with pytest.raises(ValueError, match="layout_pool\\[0\\]|other than the only goal cell"):
        make_params(5, layout_pool=pool)


def test_open_room_default_params_accept_non_room_cells():
    env = Maze(size=5, generator="open")
    params = env.default_params(goal_mask=_only(5, (1, 1)))
    assert bool(params.goal_mask[1, 1])
