"""BFS: JAX ``distance_map`` against the plain-Python reference, and the planted planners' rollouts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs import Level, Maze
from mesaopt.envs.ascii import level_from_ascii
from mesaopt.envs.bfs import UNREACHABLE, distance_map
from mesaopt.envs.maze_generation import generate_perfect_maze, room_mask
from mesaopt.envs.planners import BFSPolicy, UniformPolicy, bfs_distance_reference

PLANNER_SIZE = 7
HORIZON = PLANNER_SIZE * PLANNER_SIZE  # longer than any shortest path in the grid


@pytest.fixture(scope="session")
def batched_distance_map():
    return jax.jit(jax.vmap(distance_map))


def single_target(size: int, cell) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[tuple(cell)] = True
    return mask


@pytest.mark.parametrize("size", [5, 7])
def test_distance_map_matches_python_bfs_on_random_mazes(batched_distance_map, size):
    n = 50
    generate = jax.jit(jax.vmap(generate_perfect_maze, (0, None)), static_argnums=1)
    walls = np.asarray(generate(jax.random.split(jax.random.key(size), n), size))
    rng = np.random.default_rng(size)
    rooms = np.argwhere(room_mask(size))
    cells = [rooms[rng.integers(len(rooms))] for _ in range(n)]
    cells[:3] = [(0, size - 1), (size - 1, 0), (1, 1)]  # two corners and an odd/odd cell (always a wall)
    targets = np.stack([single_target(size, cell) for cell in cells])
    got = np.asarray(batched_distance_map(jnp.asarray(walls), jnp.asarray(targets)))
    for i in range(n):
        np.testing.assert_array_equal(got[i], bfs_distance_reference(walls[i], tuple(cells[i])), err_msg=f"maze {i}")
    assert (got[2] == UNREACHABLE).all()  # a wall target is reachable from nowhere
    assert (got[0][room_mask(size)] < UNREACHABLE).all() and got[0].max() == UNREACHABLE  # rooms yes, walls no


def test_distance_map_with_several_targets_and_a_cut_off_region(batched_distance_map):
    walls, _, _ = level_from_ascii(
        """\
        A....
        .###.
        .#.#.
        .###.
        ....G
        """
    )
    targets = single_target(5, (0, 0)) | single_target(5, (4, 4))
    got = np.asarray(batched_distance_map(jnp.asarray(walls)[None], jnp.asarray(targets)[None])[0])
    expected = np.minimum(bfs_distance_reference(walls, (0, 0)), bfs_distance_reference(walls, (4, 4)))
    np.testing.assert_array_equal(got, expected)
    assert got[2, 2] == UNREACHABLE and got[0, 4] == 4 and got[2, 0] == 2  # (2, 2) is walled in
    enclosed = np.asarray(batched_distance_map(jnp.asarray(walls)[None], jnp.asarray(single_target(5, (2, 2)))[None]))
    assert enclosed[0, 2, 2] == 0 and (np.delete(enclosed[0].ravel(), 12) == UNREACHABLE).all()


def _rollout_fn(policy: BFSPolicy, env: Maze):
    """Jitted greedy rollout over a batch of keys: agent positions at times 0..HORIZON (the env never stops)."""

    def one(key, params):
        obs, state = env.reset(key, params)

        def step(carry, _):
            obs, state = carry
            action = jnp.argmax(policy(obs))
            obs, state, *_ = env.step(key, state, action, params)
            return (obs, state), state.agent_pos

        _, path = jax.lax.scan(step, (obs, state), None, length=HORIZON)
        return state, jnp.concatenate([state.agent_pos[None], path])

    return jax.jit(jax.vmap(one, (0, None)))


def first_arrival(path: np.ndarray, cell) -> int:
    hits = np.flatnonzero((path == np.asarray(cell)).all(axis=1))
    assert len(hits), f"never reached {tuple(cell)}"
    return int(hits[0])


@pytest.mark.parametrize("obs_format", ["grid", "flat"])
def test_goal_planner_reaches_the_goal_in_the_bfs_distance(obs_format):
    env = Maze(size=PLANNER_SIZE, obs_format=obs_format)
    states, paths = _rollout_fn(BFSPolicy(PLANNER_SIZE, "goal"), env)(
        jax.random.split(jax.random.key(0), 20), env.default_params()
    )
    lengths = []
    for i in range(20):
        walls, start, goal = (np.asarray(x[i]) for x in (states.walls, states.agent_pos, states.goal_pos))
        distance = int(bfs_distance_reference(walls, tuple(goal))[tuple(start)])
        assert 0 < distance < UNREACHABLE
        assert first_arrival(np.asarray(paths[i]), goal) == distance, f"level {i}"
        lengths.append(distance)
    assert max(lengths) > 5  # the levels are not all trivial


def test_corner_planner_reaches_the_corner_in_the_bfs_distance():
    env = Maze(size=PLANNER_SIZE)
    corner = (0, PLANNER_SIZE - 1)
    states, paths = _rollout_fn(BFSPolicy(PLANNER_SIZE, "corner"), env)(
        jax.random.split(jax.random.key(1), 20), env.default_params()
    )
    for i in range(20):
        walls, start = np.asarray(states.walls[i]), tuple(np.asarray(states.agent_pos[i]))
        distance = int(bfs_distance_reference(walls, corner)[start])
        assert first_arrival(np.asarray(paths[i]), corner) == distance, f"level {i}"


def test_corner_and_goal_planners_disagree_when_goal_is_elsewhere():
    walls, agent, goal = level_from_ascii(
        """\
        A....
        .....
        .....
        .....
        G....
        """
    )
    env = Maze(size=5)
    level = Level(walls=jnp.asarray(walls), agent_pos=jnp.asarray(agent), goal_pos=jnp.asarray(goal))
    obs, _ = env.reset_to_level(level, env.default_params())
    assert int(jnp.argmax(jax.jit(BFSPolicy(5, "goal"))(obs))) == 2  # down, towards G
    assert int(jnp.argmax(jax.jit(BFSPolicy(5, "corner"))(obs))) == 1  # right, towards the top-right corner


def test_uniform_policy_gives_uniform_logits():
    logits = UniformPolicy()(jnp.ones((3, 5, 5)))
    assert logits.shape == (4,)
    np.testing.assert_allclose(jax.nn.softmax(logits), np.full(4, 0.25))


def test_unknown_planner_target_raises():
    with pytest.raises(ValueError, match=r"unknown planner target 'exit'; allowed: \['goal', 'corner'\]"):
        BFSPolicy(5, "exit")
