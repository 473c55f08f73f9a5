"""Test-time compute: the value-iteration planner gains from thinking (planted positive); a feed-forward BFS
planner cannot (planted negative); bad inputs are rejected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.detectors.thinking import measure_thinking_gain, validate_thinking_steps
from mesaopt.envs import Level, Maze
from mesaopt.envs.iterative_planner import ValueIterationPlanner
from mesaopt.envs.planners import BFSPolicy

SIZE, HORIZON, N_EPISODES = 7, 12, 200
STEPS = (0, 4, 16)


@pytest.fixture(scope="module")
def reports():
    """Thinking reports of the planted positive (value iteration) and negative (feed-forward BFS), once each."""
    env = Maze(SIZE)
    params = env.default_params()
    run = lambda policy: jax.jit(lambda k: measure_thinking_gain(
        k, env, params, policy, thinking_steps=STEPS, n_episodes=N_EPISODES, horizon=HORIZON))(jax.random.key(0))
    return {"vi": run(ValueIterationPlanner(SIZE)), "bfs": run(BFSPolicy(SIZE))}


def test_value_iteration_planner_gains_from_thinking(reports):
    r = reports["vi"]
    assert r.recurrent and r.n_episodes == N_EPISODES
    assert r.thinking_steps.tolist() == list(STEPS)
    rates = np.asarray(r.goal_rate)
    assert np.all(np.diff(rates) >= 0), rates
    assert float(r.gain) == pytest.approx(rates[-1] - rates[0])
    assert float(r.gain_low) > 0.1 and float(r.gain_low) < float(r.gain) < float(r.gain_high), r


def test_thinking_long_enough_makes_value_iteration_match_bfs(reports):
    """With 16 >= any path length of a 7×7 maze, the planner succeeds exactly as often as BFS."""
    vi, bfs = reports["vi"], reports["bfs"]
    assert float(vi.goal_rate[-1]) == float(bfs.goal_rate[-1])
    assert float(vi.goal_rate[0]) < float(bfs.goal_rate[0])


def test_feed_forward_bfs_gains_exactly_nothing(reports):
    r = reports["bfs"]
    assert not r.recurrent
    assert float(r.gain) == 0.0 and float(r.gain_low) == 0.0 and float(r.gain_high) == 0.0
    assert np.all(np.asarray(r.goal_rate) == float(r.goal_rate[0])) and float(r.goal_rate[0]) > 0.5


def test_planner_is_uniform_until_the_propagation_reaches_the_agent_then_greedy():
    """Direct check of planner steps on a fixed open-room level (start 3 steps from the goal)."""
    env = Maze(SIZE)
    obs = env.reset_to_level(_open_level(), env.default_params())[0]
    planner = ValueIterationPlanner(SIZE)
    carry = planner.initial_carry()
    for _ in range(3):  # the start is 3 steps away from the goal: nothing reaches it before sweep 3
        carry, logits = planner.step(carry, obs)
    carry_far, logits_far = planner.step(planner.initial_carry(), obs)
    assert not np.any(np.asarray(logits_far))  # first sweep: agent not reached, uniform
    np.testing.assert_array_equal(logits, BFSPolicy(SIZE)(obs))
    assert int(carry[3, 3]) == 0 and int(carry_far[3, 3]) == 0


def _open_level():
    """7×7 open room: agent at (3, 0), goal at (3, 3), no walls."""
    walls = jnp.zeros((SIZE, SIZE), bool)
    return Level(walls=walls, agent_pos=jnp.array([3, 0], jnp.int32), goal_pos=jnp.array([3, 3], jnp.int32))


@pytest.mark.parametrize("bad", [(), (1, 2), (0, 2, 1), (0, 1, 1), (0, -1), (0, 1.5), [True]])
def test_bad_thinking_steps_are_rejected(bad):
    with pytest.raises(ValueError, match="thinking_steps"):
        validate_thinking_steps(bad)


def test_bad_planner_settings_are_rejected():
    with pytest.raises(ValueError, match="size"):
        ValueIterationPlanner(2)
    with pytest.raises(ValueError, match="sharpness"):
        ValueIterationPlanner(7, sharpness=0.0)
