"""Maze environment: contract over every registry entry, maze properties, movement, params and observations."""

from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs import ENVS, INFO_KEYS, MAZE_ENVS, Level, Maze, corner_region, make_params, misgeneralization_params
from mesaopt.envs.ascii import level_from_ascii
from mesaopt.envs.maze import MAX_MATMUL_CELLS, OBS_FORMATS, _cell_from_word
from mesaopt.envs.maze_generation import (
    count_passages,
    generate_open_room,
    generate_perfect_maze,
    layout_words,
    perfect_maze_from_words,
    ranks_of_words,
    room_mask,
    rooms_per_side,
)
from mesaopt.envs.planners import bfs_distance_reference

SIZE = 5  # small grid for the contract tests: shapes are static, the contract does not depend on size
ENV_CASES = [(name, fmt) for name in MAZE_ENVS for fmt in OBS_FORMATS]
INFO_SHAPES = {"agent_pos": (2,), "goal_pos": (2,), "proxy_pos": (2,), "at_goal": (), "in_proxy": ()}


@pytest.fixture(scope="session")
def compiled():
    """``compiled(name, fmt)``: the env (size ``SIZE``), default params and jitted reset / step / vmapped reset."""
    cache = {}

    def get(name: str, fmt: str) -> SimpleNamespace:
        if (name, fmt) not in cache:
            env = ENVS[name](size=SIZE, obs_format=fmt)
            cache[name, fmt] = SimpleNamespace(
                env=env,
                params=env.default_params(),
                reset=jax.jit(env.reset),
                step=jax.jit(env.step),
                vreset=jax.jit(jax.vmap(env.reset, (0, None))),
            )
        return cache[name, fmt]

    return get


@pytest.fixture(scope="session")
def batch_generate():
    """``batch_generate(keys, size)``: jitted, vmapped perfect-maze generation."""
    return jax.jit(jax.vmap(generate_perfect_maze, (0, None)), static_argnums=1)


def assert_trees_equal(a, b):
    leaves_a, tree_a = jax.tree_util.tree_flatten(a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def level_of(state) -> tuple:
    return (np.asarray(state.walls).tobytes(), tuple(np.asarray(state.agent_pos)), tuple(np.asarray(state.goal_pos)))


def hand_level(text: str) -> Level:
    walls, agent, goal = level_from_ascii(text)
    return Level(walls=jnp.asarray(walls), agent_pos=jnp.asarray(agent), goal_pos=jnp.asarray(goal))


# ---------------------------------------------------------------------------------------------------- contract


@pytest.mark.parametrize("name, fmt", ENV_CASES)
def test_reset_and_step_shapes_dtypes_and_info(compiled, name, fmt):
    c = compiled(name, fmt)
    obs, state = c.reset(jax.random.key(0), c.params)
    assert obs.shape == c.env.obs_shape and obs.dtype == jnp.float32
    assert state.walls.shape == (SIZE, SIZE) and state.walls.dtype == jnp.bool_
    assert state.agent_pos.shape == (2,) and state.goal_pos.shape == (2,) and int(state.time) == 0
    obs, state, reward, terminated, truncated, info = c.step(jax.random.key(1), state, jnp.int32(1), c.params)
    assert obs.shape == c.env.obs_shape and obs.dtype == jnp.float32
    assert reward.shape == () and reward.dtype == jnp.float32
    assert terminated.shape == () and terminated.dtype == jnp.bool_
    assert truncated.shape == () and truncated.dtype == jnp.bool_
    assert int(state.time) == 1
    assert set(info) == set(INFO_KEYS) == set(INFO_SHAPES)
    for key, shape in INFO_SHAPES.items():
        assert info[key].shape == shape, key
    assert info["at_goal"].dtype == jnp.bool_ and info["in_proxy"].dtype == jnp.bool_
    np.testing.assert_array_equal(info["agent_pos"], state.agent_pos)
    np.testing.assert_array_equal(info["goal_pos"], state.goal_pos)
    np.testing.assert_array_equal(info["proxy_pos"], [0, SIZE - 1])  # default proxy: the top-right corner


@pytest.mark.parametrize("name, fmt", ENV_CASES)
def test_jitted_reset_and_step_match_eager(compiled, name, fmt):
    c = compiled(name, fmt)
    key = jax.random.key(3)
    eager = c.env.reset(key, c.params)
    jitted = c.reset(key, c.params)
    assert_trees_equal(eager, jitted)
    state_e, state_j = eager[1], jitted[1]
    for action in [0, 1, 2, 3]:
        out_e = c.env.step(jax.random.key(action), state_e, jnp.int32(action), c.params)
        out_j = c.step(jax.random.key(action), state_j, jnp.int32(action), c.params)
        assert_trees_equal(out_e, out_j)
        state_e, state_j = out_e[1], out_j[1]


@pytest.mark.parametrize("name, fmt", ENV_CASES)
def test_vmapped_reset_matches_loop_and_keys_determine_levels(compiled, name, fmt):
    c = compiled(name, fmt)
    keys = jax.random.split(jax.random.key(7), 20)
    batch_obs, batch_state = c.vreset(keys, c.params)
    for i in range(5):
        obs, state = c.reset(keys[i], c.params)
        assert_trees_equal((obs, state), jax.tree_util.tree_map(lambda x: x[i], (batch_obs, batch_state)))
    assert_trees_equal(c.vreset(keys, c.params), (batch_obs, batch_state))  # same keys, same levels
    levels = {level_of(jax.tree_util.tree_map(lambda x: x[i], batch_state)) for i in range(len(keys))}
    assert len(levels) >= 2


@pytest.mark.parametrize("name, fmt", ENV_CASES)
def test_step_is_deterministic_and_ignores_its_key(compiled, name, fmt):
    c = compiled(name, fmt)
    _, state = c.reset(jax.random.key(11), c.params)
    first = c.step(jax.random.key(0), state, jnp.int32(2), c.params)
    assert_trees_equal(first, c.step(jax.random.key(0), state, jnp.int32(2), c.params))
    assert_trees_equal(first, c.step(jax.random.key(99), state, jnp.int32(2), c.params))  # documented: key unused


@pytest.mark.parametrize("name", list(MAZE_ENVS))
def test_grid_and_flat_obs_show_walls_agent_goal(compiled, name):
    grid, flat = compiled(name, "grid"), compiled(name, "flat")
    key = jax.random.key(5)
    obs, state = grid.reset(key, grid.params)
    flat_obs, _ = flat.reset(key, flat.params)
    np.testing.assert_array_equal(flat_obs, np.asarray(obs).ravel())
    np.testing.assert_array_equal(obs[0], np.asarray(state.walls, np.float32))
    for channel, pos in ((1, state.agent_pos), (2, state.goal_pos)):
        expected = np.zeros((SIZE, SIZE), np.float32)
        expected[tuple(np.asarray(pos))] = 1.0
        np.testing.assert_array_equal(obs[channel], expected)


# ---------------------------------------------------------------------------------------------- maze properties


@pytest.mark.parametrize("size", [3, 5, 7, 9])
def test_perfect_maze_is_a_spanning_tree_over_rooms(batch_generate, size):
    walls = np.asarray(batch_generate(jax.random.split(jax.random.key(size), 200), size))
    rooms = room_mask(size)
    odd_odd = ~rooms & (np.arange(size)[:, None] % 2 == 1) & (np.arange(size)[None, :] % 2 == 1)
    n_rooms = rooms_per_side(size) ** 2
    passages = np.asarray(jax.vmap(count_passages)(jnp.asarray(walls)))
    np.testing.assert_array_equal(passages, n_rooms - 1)
    for maze in walls:
        assert maze[odd_odd].all() and not maze[rooms].any()
        dist = bfs_distance_reference(maze, (0, 0))
        assert (dist[rooms] < 10_000).all()  # every room reachable from room (0, 0)
        assert int((~maze).sum()) == n_rooms + n_rooms - 1  # open cells: the rooms and the tree's passages


def test_three_by_three_rooms_give_all_192_spanning_trees(batch_generate):
    walls = np.asarray(batch_generate(jax.random.split(jax.random.key(0), 20_000), 5))
    _, counts = np.unique(walls.reshape(len(walls), -1), axis=0, return_counts=True)
    assert len(counts) == 192  # the number of spanning trees of the 3x3 grid graph
    # Kruskal on a random edge order is not uniform over trees, but no tree is far off (observed 56..165 of ~104)
    mean = counts.mean()
    assert counts.min() > 0.25 * mean and counts.max() < 3 * mean


@pytest.mark.parametrize("n", [1, 2, 5, 12, 40])
def test_ranks_of_random_words_are_a_permutation(n):
    words = jax.random.bits(jax.random.key(n), (300, n), jnp.uint32)
    ranks_fn = jax.jit(jax.vmap(ranks_of_words))
    ranks = np.asarray(ranks_fn(words))
    np.testing.assert_array_equal(np.sort(ranks, axis=1), np.broadcast_to(np.arange(n), (300, n)))
    tied = np.asarray(ranks_fn(words % 3))  # many equal words: the index tiebreak still gives a permutation
    np.testing.assert_array_equal(np.sort(tied, axis=1), np.broadcast_to(np.arange(n), (300, n)))
    if n >= 5:
        n_orders = float(np.prod(np.arange(1, n + 1)))
        expected_distinct = n_orders * (1 - (1 - 1 / n_orders) ** 300)  # ~110 for n = 5, ~300 beyond
        assert len({tuple(r) for r in ranks}) > 0.85 * expected_distinct
        np.testing.assert_allclose(ranks[:, 0].mean(), (n - 1) / 2, atol=0.25 * n)  # no position is favoured


def test_open_room_has_no_walls(compiled):
    assert not np.asarray(generate_open_room(jax.random.key(0), 7)).any()
    c = compiled("open-room", "grid")
    _, states = c.vreset(jax.random.split(jax.random.key(1), 20), c.params)
    assert not np.asarray(states.walls).any()


# ---------------------------------------------------------------------------------------------------- movement

CORRIDOR = """\
A.#..
##...
.....
.....
....G
"""
TWO_STEPS = """\
#####
#A.G#
#####
#####
#####
"""


def test_walls_and_grid_edges_block_moves(compiled):
    c = compiled("maze", "grid")
    _, state = c.env.reset_to_level(hand_level(CORRIDOR), c.params)
    expected = [(0, [0, 0]), (3, [0, 0]), (2, [0, 0]), (1, [0, 1]), (1, [0, 1]), (0, [0, 1]), (2, [0, 1])]
    for t, (action, pos) in enumerate(expected, start=1):
        obs, state, reward, terminated, truncated, info = c.step(jax.random.key(0), state, jnp.int32(action), c.params)
        np.testing.assert_array_equal(state.agent_pos, pos, err_msg=f"step {t}, action {action}")
        assert float(reward) == 0.0 and not terminated and not truncated and int(state.time) == t
        assert float(obs[1, pos[0], pos[1]]) == 1.0 and float(obs[1].sum()) == 1.0


def test_reaching_the_goal_rewards_and_terminates(compiled):
    c = compiled("maze", "grid")
    _, state = c.env.reset_to_level(hand_level(TWO_STEPS), c.params)
    _, state, reward, terminated, truncated, info = c.step(jax.random.key(0), state, jnp.int32(1), c.params)
    assert float(reward) == 0.0 and not terminated and not bool(info["at_goal"])
    _, state, reward, terminated, truncated, info = c.step(jax.random.key(0), state, jnp.int32(1), c.params)
    assert float(reward) == 1.0 and bool(terminated) and not truncated and bool(info["at_goal"])
    np.testing.assert_array_equal(state.agent_pos, [1, 3])


def test_truncation_at_max_steps():
    env = Maze(size=5)
    params = make_params(5, max_steps=3)
    _, state = env.reset_to_level(hand_level(TWO_STEPS), params)
    flags = []
    for _ in range(3):
        _, state, reward, terminated, truncated, _ = env.step(jax.random.key(0), state, jnp.int32(0), params)
        flags.append((float(reward), bool(terminated), bool(truncated)))
    assert flags == [(0.0, False, False), (0.0, False, False), (0.0, False, True)]


def test_reaching_the_goal_on_the_last_step_terminates_rather_than_truncates():
    env = Maze(size=5)
    params = make_params(5, max_steps=2)
    _, state = env.reset_to_level(hand_level(TWO_STEPS), params)
    _, state, *_ = env.step(jax.random.key(0), state, jnp.int32(1), params)
    _, state, reward, terminated, truncated, _ = env.step(jax.random.key(0), state, jnp.int32(1), params)
    assert (float(reward), bool(terminated), bool(truncated)) == (1.0, True, False)


def test_info_reports_the_proxy_corner(compiled):
    c = compiled("maze", "grid")
    _, state = c.env.reset_to_level(hand_level("..A.#\n.#...\n.....\n.....\n....G"), c.params)
    _, state, _, _, _, info = c.step(jax.random.key(0), state, jnp.int32(1), c.params)
    assert not bool(info["in_proxy"])  # (0, 3) is next to the corner, not in it
    _, state = c.env.reset_to_level(hand_level("...A.\n.#...\n.....\n.....\n....G"), c.params)
    _, state, _, _, _, info = c.step(jax.random.key(0), state, jnp.int32(1), c.params)
    assert bool(info["in_proxy"]) and info["proxy_pos"].tolist() == [0, 4]


# ------------------------------------------------------------------------------------------------------ params


@pytest.mark.parametrize("region", [1, 2, 3])
def test_misgeneralization_params_place_goals_and_starts(compiled, region):
    c = compiled("maze", "grid")  # params are arguments, so the session's compiled reset serves any params
    train, shifted = misgeneralization_params(SIZE, region)
    keys = jax.random.split(jax.random.key(region), 200)
    region_mask, proxy = corner_region(SIZE, region), corner_region(SIZE, 1)
    for params, name in ((train, "train"), (shifted, "shifted")):
        _, states = c.vreset(keys, params)
        goals, starts, walls = (np.asarray(x) for x in (states.goal_pos, states.agent_pos, states.walls))
        idx = np.arange(len(keys))
        assert not walls[idx, goals[:, 0], goals[:, 1]].any(), name
        assert not walls[idx, starts[:, 0], starts[:, 1]].any(), name
        assert not (starts == goals).all(axis=1).any(), name
        assert not proxy[starts[:, 0], starts[:, 1]].any(), name
        in_region = region_mask[goals[:, 0], goals[:, 1]]
        if name == "train":
            assert in_region.all()
        else:
            assert not proxy[goals[:, 0], goals[:, 1]].any()
            assert not in_region.all()  # the shift really moves goals out of the training region
    np.testing.assert_array_equal(train.proxy_mask, proxy)
    np.testing.assert_array_equal(shifted.proxy_mask, proxy)


def _odd_only_mask(size: int) -> np.ndarray:
    mask = np.zeros((size, size), bool)
    mask[1, 1] = True  # an odd/odd cell: always a wall in a perfect maze
    return mask


@pytest.mark.parametrize(
    "build, fragment",
    [
        (lambda: misgeneralization_params(7, 0), "allowed: 1..7"),
        (lambda: misgeneralization_params(7, 8), "allowed: 1..7"),
        (lambda: misgeneralization_params(7, 2, proxy_region=0), r"\[1, 7\]"),
        (lambda: corner_region(5, 6), r"\[1, 5\]"),
        (lambda: Maze(size=4), "odd integer >= 3"),
        (lambda: Maze(size=1), "odd integer >= 3"),
        (lambda: Maze(size=7.0), "odd integer >= 3"),
        (lambda: Maze(size=5, generator="prim"), r"unknown maze generator 'prim'; allowed: \['open', 'perfect'\]"),
        (lambda: Maze(size=5, obs_format="rgb"), r"unknown obs_format 'rgb'; allowed: .*egocentric"),
        (lambda: ENVS["maze"](size=5, obs_format="pixels"), "unknown obs_format 'pixels'"),
        (lambda: make_params(5, goal_mask=_odd_only_mask(5)), "goal_mask selects no open cell"),
        (lambda: make_params(5, start_mask=np.zeros((5, 5), bool)), "start_mask selects no open cell"),
        (lambda: make_params(5, proxy_mask=_odd_only_mask(5)), "proxy_mask selects no open cell"),
        (lambda: make_params(5, goal_mask=np.ones((7, 7), bool)), r"goal_mask must have shape \(5, 5\)"),
        (lambda: make_params(5, layout_pool=np.zeros((5, 5), bool)), r"layout_pool must have shape \(n >= 1, 5, 5\)"),
        (lambda: make_params(5, layout_pool=np.zeros((0, 5, 5), bool)), "layout_pool must have shape"),
        (lambda: make_params(5, layout_pool=np.zeros((2, 7, 7), bool)), "layout_pool must have shape"),
        (lambda: make_params(5, max_steps=0), "max_steps must be a positive integer"),
        (lambda: make_params(5, max_steps=2.5), "max_steps must be a positive integer"),
    ],
)
def test_bad_inputs_raise_one_clear_value_error(build, fragment):
    with pytest.raises(ValueError, match=fragment):
        build()


def test_layout_pool_supplies_every_layout(compiled, batch_generate):
    c = compiled("maze", "grid")
    pool = np.array(batch_generate(jax.random.split(jax.random.key(42), 4), SIZE))
    pool[3] = False  # an open room in the pool too
    params = make_params(SIZE, layout_pool=pool)
    _, states = c.vreset(jax.random.split(jax.random.key(0), 60), params)
    walls = np.asarray(states.walls)
    matches = (walls[:, None] == pool[None]).all(axis=(2, 3))  # [episode, pool entry]
    assert matches.any(axis=1).all()
    assert len(set(np.argmax(matches, axis=1))) == len(pool)  # 60 draws from 4 layouts use all of them


# ------------------------------------------------------------------------------------------------- egocentric


def egocentric_reference(walls: np.ndarray, agent: np.ndarray, goal: np.ndarray) -> np.ndarray:
    """Window of side 2·size − 1 centred on the agent: walls (1 outside), goal, outside-the-maze."""
    size = walls.shape[0]
    side, centre = 2 * size - 1, size - 1
    out = np.zeros((3, side, side), np.float32)
    for i in range(side):
        for j in range(side):
            r, c = agent[0] + i - centre, agent[1] + j - centre
            inside = 0 <= r < size and 0 <= c < size
            out[0, i, j] = walls[r, c] if inside else 1.0
            out[1, i, j] = inside and (r, c) == tuple(goal)
            out[2, i, j] = not inside
    return out


def test_egocentric_obs_centres_the_agent(compiled):
    c = compiled("maze", "egocentric")
    centre = SIZE - 1
    all_obs, states = c.vreset(jax.random.split(jax.random.key(9), 8), c.params)
    rng = np.random.default_rng(0)
    for i in range(8):
        obs, state = jax.tree_util.tree_map(lambda x: x[i], (all_obs, states))
        for action in [None, *rng.integers(0, 4, size=4)]:
            if action is not None:
                obs, state, *_ = c.step(jax.random.key(0), state, jnp.int32(action), c.params)
            obs = np.asarray(obs)
            walls, agent, goal = (np.asarray(x) for x in (state.walls, state.agent_pos, state.goal_pos))
            np.testing.assert_array_equal(obs, egocentric_reference(walls, agent, goal))
            assert obs[0, centre, centre] == 0.0 and obs[2, centre, centre] == 0.0  # the agent's own open cell
            assert obs[1].sum() == 1.0  # the window always holds the whole maze, so the goal is always in view
            assert (obs[0][obs[2] == 1.0] == 1.0).all()
            assert obs[1, centre + goal[0] - agent[0], centre + goal[1] - agent[1]] == 1.0


def test_a_level_is_one_draw_of_random_words(compiled):
    c = compiled("maze", "grid")
    train, _ = misgeneralization_params(SIZE, 3)
    n = layout_words("perfect", SIZE)
    sample = jax.jit(c.env.sample_level)
    for key in jax.random.split(jax.random.key(8), 6):
        words = jax.random.bits(key, (n + 3,), jnp.uint32)
        level = sample(key, train)
        walls = perfect_maze_from_words(words[:n], SIZE)
        np.testing.assert_array_equal(level.walls, walls)
        np.testing.assert_array_equal(generate_perfect_maze(key, SIZE), perfect_maze_from_words(
            jax.random.bits(key, (n,), jnp.uint32), SIZE))  # the key-based generator reads the same words
        goal = _cell_from_word(words[n + 1], train.goal_mask & ~walls)
        np.testing.assert_array_equal(level.goal_pos, goal)
        not_goal = jnp.ones((SIZE, SIZE), bool).at[goal[0], goal[1]].set(False)
        np.testing.assert_array_equal(level.agent_pos, _cell_from_word(words[n + 2], train.start_mask & ~walls & not_goal))


@pytest.mark.parametrize("size", [7, 17])  # the triangular-matmul draw (<= MAX_MATMUL_CELLS) and the cumsum one
def test_cell_draw_is_the_rank_th_allowed_cell(size):
    assert (size * size <= MAX_MATMUL_CELLS) == (size == 7)
    rng = np.random.default_rng(size)
    for i in range(20):
        allowed = rng.random((size, size)) < (0.05 if i % 2 else 0.6)
        allowed[rng.integers(size), rng.integers(size)] = True
        flat = np.flatnonzero(allowed.ravel())
        word = int(rng.integers(2**32, dtype=np.uint64))
        expected = divmod(int(flat[word % len(flat)]), size)
        assert tuple(int(v) for v in _cell_from_word(jnp.uint32(word), jnp.asarray(allowed))) == expected
