"""The Gymnasium adapter: passes Gymnasium's env checker, seeds reproducibly, and keeps the maze's semantics."""

import numpy as np
import pytest

gymnasium = pytest.importorskip("gymnasium")

from gymnasium.utils.env_checker import check_env  # noqa: E402

from mesaopt.envs import Maze  # noqa: E402
from mesaopt.envs.gymnasium_adapter import MazeGymEnv  # noqa: E402

SIZE = 5
RIGHT, LEFT = 1, 3
TWO_STEPS = """\
#####
#A.G#
#####
#####
#####
"""


@pytest.fixture(scope="module")
def maze():
    return Maze(size=SIZE)


def test_passes_gymnasium_env_checker(maze):
    check_env(MazeGymEnv(maze), skip_render_check=True)


def test_spaces_match_the_maze():
    env = MazeGymEnv(Maze(size=SIZE, obs_format="flat"))
    assert env.observation_space.shape == (3 * SIZE * SIZE,)
    assert env.observation_space.dtype == np.float32
    assert env.action_space.n == 4
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert all(isinstance(v, np.ndarray) for v in info.values())


def test_seeded_reset_is_reproducible(maze):
    env_a, env_b = MazeGymEnv(maze), MazeGymEnv(maze)
    obs_a, info_a = env_a.reset(seed=123)
    obs_b, info_b = env_b.reset(seed=123)
    np.testing.assert_array_equal(obs_a, obs_b)
    np.testing.assert_array_equal(info_a["goal_pos"], info_b["goal_pos"])
    np.testing.assert_array_equal(env_a.reset(seed=123)[0], obs_a)
    others = [env_a.reset(seed=s)[0] for s in range(5)]
    assert any(not np.array_equal(o, obs_a) for o in others)


def test_hand_made_level_reaches_goal(maze):
    env = MazeGymEnv(maze)
    obs, info = env.reset(options={"level": TWO_STEPS})
    np.testing.assert_array_equal(info["agent_pos"], [1, 1])
    np.testing.assert_array_equal(info["goal_pos"], [1, 3])
    _, reward, terminated, truncated, _ = env.step(RIGHT)
    assert (reward, terminated, truncated) == (0.0, False, False)
    obs, reward, terminated, truncated, info = env.step(np.int64(RIGHT))
    assert isinstance(reward, float) and isinstance(terminated, bool) and isinstance(truncated, bool)
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert bool(info["at_goal"])
    assert obs[1, 1, 3] == 1.0  # agent channel on the goal cell


def test_truncates_after_max_steps(maze):
    max_steps = 3
    env = MazeGymEnv(maze, maze.default_params(max_steps=max_steps))
    env.reset(options={"level": TWO_STEPS})
    results = [env.step(LEFT)[1:4] for _ in range(max_steps)]  # bumping the wall, never reaching the goal
    assert results[:-1] == [(0.0, False, False)] * (max_steps - 1)
    assert results[-1] == (0.0, False, True)


def test_rgb_array_render(maze):
    cell_px = 4
    env = MazeGymEnv(maze, render_mode="rgb_array", cell_px=cell_px)
    env.reset(options={"level": TWO_STEPS})
    frame = env.render()
    assert frame.shape == (SIZE * cell_px, SIZE * cell_px, 3) and frame.dtype == np.uint8
    wall, agent, goal = frame[0, 0], frame[1 * cell_px, 1 * cell_px], frame[1 * cell_px, 3 * cell_px]
    assert wall.sum() < 200  # dark
    assert agent[2] > agent[0] and agent[2] > agent[1]  # blue
    assert goal[0] > 200 and goal[1] > 150 and goal[2] < 100  # yellow
    assert MazeGymEnv(maze).render() is None  # no render_mode


def test_bad_inputs(maze):
    env = MazeGymEnv(maze)
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(0)
    with pytest.raises(ValueError, match="5x5"):
        env.reset(options={"level": "###\n#AG\n###\n"})
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(options={"goal": 1})
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(4)
    with pytest.raises(ValueError, match="render_mode"):
        MazeGymEnv(maze, render_mode="human")
