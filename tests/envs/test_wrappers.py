"""Auto-reset wrappers: an ending step returns the next episode's first state and obs, and keeps its own reward."""

import copy

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs import AutoReset, BufferedAutoReset, Level, Maze, make_params
from mesaopt.envs.ascii import level_from_ascii

SIZE = 5
N_SPARES = 3
TWO_STEPS = """\
#####
#A.G#
#####
#####
#####
"""


def hand_level(text: str) -> Level:
    walls, agent, goal = level_from_ascii(text)
    return Level(walls=jnp.asarray(walls), agent_pos=jnp.asarray(agent), goal_pos=jnp.asarray(goal))


def same_level(state, level) -> bool:
    return (
        np.array_equal(state.walls, level.walls)
        and np.array_equal(state.agent_pos, level.agent_pos)
        and np.array_equal(state.goal_pos, level.goal_pos)
    )


@pytest.fixture(scope="session")
def env():
    return Maze(size=SIZE)


@pytest.fixture(scope="session")
def auto(env):
    wrapper = AutoReset(env)
    return wrapper, jax.jit(wrapper.reset), jax.jit(wrapper.step)


@pytest.fixture(scope="session")
def buffered(env):
    wrapper = BufferedAutoReset(env, n_spares=N_SPARES)
    return wrapper, jax.jit(wrapper.reset), jax.jit(wrapper.step), jax.jit(wrapper.refresh)


def test_wrappers_forward_env_attributes(env):
    for wrapper in (AutoReset(env), BufferedAutoReset(env, n_spares=N_SPARES)):
        assert wrapper.obs_shape == env.obs_shape and wrapper.num_actions == 4 and wrapper.size == SIZE


@pytest.mark.parametrize("wrapper_type", [AutoReset, BufferedAutoReset])
def test_wrappers_can_be_deep_copied(env, wrapper_type):
    assert copy.deepcopy(wrapper_type(env)).obs_shape == env.obs_shape


def test_auto_reset_on_termination_starts_a_new_episode(env, auto):
    wrapper, _, step = auto
    params = env.default_params()
    _, state = env.reset_to_level(hand_level(TWO_STEPS), params)
    obs, state, reward, terminated, truncated, info = step(jax.random.key(0), state, jnp.int32(1), params)
    assert int(state.time) == 1 and float(reward) == 0.0 and not terminated
    np.testing.assert_array_equal(state.agent_pos, [1, 2])
    np.testing.assert_array_equal(obs, env.observe(state))
    obs, state, reward, terminated, truncated, info = step(jax.random.key(1), state, jnp.int32(1), params)
    assert float(reward) == 1.0 and bool(terminated) and not truncated  # the ending step's own outcome
    assert bool(info["at_goal"]) and info["agent_pos"].tolist() == [1, 3]  # info of the ending step too
    assert int(state.time) == 0
    assert not np.array_equal(state.walls, hand_level(TWO_STEPS).walls)  # a freshly drawn maze
    np.testing.assert_array_equal(obs, env.observe(state))  # obs is the new episode's first obs


def test_auto_reset_on_truncation(env, auto):
    _, _, step = auto
    params = make_params(SIZE, max_steps=2)
    _, state = env.reset_to_level(hand_level(TWO_STEPS), params)
    _, state, _, _, truncated, _ = step(jax.random.key(0), state, jnp.int32(0), params)  # bump the wall
    assert not truncated and int(state.time) == 1
    obs, state, reward, terminated, truncated, _ = step(jax.random.key(1), state, jnp.int32(0), params)
    assert bool(truncated) and not terminated and float(reward) == 0.0
    assert int(state.time) == 0
    np.testing.assert_array_equal(obs, env.observe(state))


def test_buffered_reset_uses_spares_in_order_and_refresh_redraws_them(env, buffered):
    _, reset, step, refresh = buffered
    params = make_params(SIZE, max_steps=1)  # every step ends an episode
    obs, bstate = reset(jax.random.key(0), params)
    np.testing.assert_array_equal(obs, env.observe(bstate.env_state))
    spares = bstate.spares
    assert spares.walls.shape == (N_SPARES, SIZE, SIZE) and int(bstate.next_spare) == 0
    for i in range(N_SPARES + 1):  # one more than n_spares: the index wraps and replays spare 0
        obs, bstate, reward, terminated, truncated, _ = step(jax.random.key(i), bstate, jnp.int32(2), params)
        assert bool(terminated | truncated)
        spare = jax.tree_util.tree_map(lambda x: x[i % N_SPARES], spares)
        assert same_level(bstate.env_state, spare), f"episode {i + 1} should start spare {i % N_SPARES}"
        assert int(bstate.env_state.time) == 0 and int(bstate.next_spare) == i + 1
        np.testing.assert_array_equal(obs, env.observe(bstate.env_state))
    bstate = refresh(jax.random.key(100), bstate, params)
    assert int(bstate.next_spare) == 0
    for i in range(N_SPARES):
        old = jax.tree_util.tree_map(lambda x: x[i], spares)
        new = jax.tree_util.tree_map(lambda x: x[i], bstate.spares)
        assert not same_level(new, old)
    _, bstate, *_ = step(jax.random.key(9), bstate, jnp.int32(2), params)
    assert same_level(bstate.env_state, jax.tree_util.tree_map(lambda x: x[0], bstate.spares))


def test_buffered_refresh_batch_draws_what_each_refresh_would(env, buffered):
    wrapper, reset, _, refresh = buffered
    params = env.default_params()
    keys = jax.random.split(jax.random.key(3), 6)
    _, states = jax.vmap(reset, (0, None))(keys, params)
    states = eqx.tree_at(lambda s: s.next_spare, states, jnp.arange(6, dtype=jnp.int32))
    refresh_keys = jax.random.split(jax.random.key(4), 6)
    batched = jax.jit(wrapper.refresh_batch)(refresh_keys, states, params)
    one_by_one = jax.vmap(refresh, (0, 0, None))(refresh_keys, states, params)
    for got, want in zip(jax.tree_util.tree_leaves(batched), jax.tree_util.tree_leaves(one_by_one)):
        np.testing.assert_array_equal(got, want)
    assert batched.spares.walls.shape == (6, N_SPARES, SIZE, SIZE) and not np.any(batched.next_spare)
    assert len({np.asarray(w).tobytes() for w in batched.spares.walls.reshape(-1, SIZE, SIZE)}) > N_SPARES


def test_buffered_reset_starts_the_level_its_key_draws(env, buffered):
    _, reset, _, _ = buffered
    params = env.default_params()
    _, bstate = reset(jax.random.key(5), params)
    k_level, k_spares = jax.random.split(jax.random.key(5))
    assert same_level(bstate.env_state, env.sample_level(k_level, params))
    for i, key in enumerate(jax.random.split(k_spares, N_SPARES)):
        assert same_level(jax.tree_util.tree_map(lambda x: x[i], bstate.spares), env.sample_level(key, params))


def test_buffered_unstarted_env_begins_on_its_first_spare_after_a_refresh(env, buffered):
    wrapper, _, step, refresh = buffered
    params = env.default_params()
    obs, bstate = jax.jit(wrapper.unstarted)(params)
    assert not bool(bstate.started) and not np.any(obs) and not np.any(bstate.env_state.walls)
    assert bstate.spares.walls.shape == (N_SPARES, SIZE, SIZE)
    bstate = refresh(jax.random.key(7), bstate, params)
    assert not bool(bstate.started)  # a refresh draws spares; it does not start an episode
    start = jax.jit(wrapper.start)
    obs, bstate = start(obs, bstate, params)
    first = jax.tree_util.tree_map(lambda x: x[0], bstate.spares)
    assert bool(bstate.started) and int(bstate.next_spare) == 1 and int(bstate.env_state.time) == 0
    assert same_level(bstate.env_state, first) and len(np.unique(np.asarray(first.walls))) == 2
    np.testing.assert_array_equal(obs, env.observe(bstate.env_state))
    _, bstate, *_ = step(jax.random.key(0), bstate, jnp.int32(1), params)
    assert bool(bstate.started)
    again_obs, again = start(jnp.full_like(obs, 7.0), bstate, params)  # already started: nothing changes
    assert np.all(np.asarray(again_obs) == 7.0)
    for got, want in zip(jax.tree_util.tree_leaves(again), jax.tree_util.tree_leaves(bstate)):
        np.testing.assert_array_equal(got, want)


def test_buffered_termination_keeps_reward_and_continues_without_done(env, buffered):
    _, reset, step, _ = buffered
    params = env.default_params()
    _, bstate = reset(jax.random.key(1), params)
    _, level_state = env.reset_to_level(hand_level(TWO_STEPS), params)
    bstate = eqx.tree_at(lambda s: s.env_state, bstate, level_state)
    _, bstate, reward, terminated, _, _ = step(jax.random.key(0), bstate, jnp.int32(1), params)
    assert float(reward) == 0.0 and not terminated and int(bstate.next_spare) == 0  # no episode ended
    np.testing.assert_array_equal(bstate.env_state.agent_pos, [1, 2])
    obs, bstate, reward, terminated, truncated, info = step(jax.random.key(0), bstate, jnp.int32(1), params)
    assert float(reward) == 1.0 and bool(terminated) and not truncated and bool(info["at_goal"])
    assert same_level(bstate.env_state, jax.tree_util.tree_map(lambda x: x[0], bstate.spares))
    assert int(bstate.env_state.time) == 0 and int(bstate.next_spare) == 1
    np.testing.assert_array_equal(obs, env.observe(bstate.env_state))
