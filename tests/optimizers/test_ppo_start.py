"""PPO's init draws no level; the first rollout's refresh supplies every environment's first level; with
``bootstrap_truncation`` a rollout values the observation each time limit reached."""

import dataclasses

import equinox as eqx
import jax
import numpy as np
import pytest

from mesaopt.envs import Maze
from mesaopt.models import GRUActorCritic, MLPActorCritic
from mesaopt.optimizers import PPOConfig, make_ppo
from mesaopt.optimizers.ppo_steps import collect_rollout, refresh_levels

SIZE, N_ENVS = 5, 6


def _ppo():
    env = Maze(SIZE)
    cfg = PPOConfig(n_envs=N_ENVS, n_steps=4, n_minibatches=2, n_epochs=1)
    return env, make_ppo(cfg, env, lambda k: MLPActorCritic(env.obs_shape, 4, width=8, key=k), 100)


def test_ppo_init_traces_no_level_generator():
    env, ppo = _ppo()
    params = env.default_params()
    init_jaxpr = str(jax.make_jaxpr(ppo.init)(jax.random.key(0), params))
    reset_jaxpr = str(jax.make_jaxpr(ppo.env.reset)(jax.random.key(0), params))
    assert "scan" in reset_jaxpr  # the Kruskal generator's loop: what a level draw looks like
    assert "scan" not in init_jaxpr


def test_first_refresh_starts_every_env_on_its_first_spare():
    env, ppo = _ppo()
    params = env.default_params()
    state = jax.jit(ppo.init)(jax.random.key(1), params)
    assert not np.any(state.env_state.started) and not np.any(state.obs)
    started = jax.jit(lambda s: refresh_levels(ppo, s, params))(state)
    bstate = started.env_state
    assert np.all(bstate.started) and np.all(bstate.next_spare == 1) and np.all(bstate.env_state.time == 0)
    np.testing.assert_array_equal(bstate.env_state.walls, bstate.spares.walls[:, 0])
    np.testing.assert_array_equal(bstate.env_state.agent_pos, bstate.spares.agent_pos[:, 0])
    np.testing.assert_array_equal(bstate.env_state.goal_pos, bstate.spares.goal_pos[:, 0])
    np.testing.assert_array_equal(started.obs, jax.vmap(env.observe)(bstate.env_state))
    assert len({np.asarray(w).tobytes() for w in bstate.env_state.walls}) > 1  # each env its own level
    _, rollout, _ = jax.jit(lambda s: collect_rollout(ppo, s, params))(state)
    np.testing.assert_array_equal(rollout.obs[0], started.obs)  # the first action sees the started level


def test_bootstrap_truncation_values_the_observation_a_time_limit_reached():
    env = Maze(SIZE)
    params = dataclasses.replace(env.default_params(), max_steps=3)  # episodes end by the time limit in a rollout
    cfg = PPOConfig(n_envs=N_ENVS, n_steps=8, n_minibatches=2, n_epochs=1, bootstrap_truncation=True)
    ppo = make_ppo(cfg, env, lambda k: MLPActorCritic(env.obs_shape, 4, width=8, key=k), 100)
    state = jax.jit(ppo.init)(jax.random.key(2), params)
    _, rollout, _ = jax.jit(lambda s: collect_rollout(ppo, s, params))(state)
    ends_by_time = np.asarray(rollout.trunc * (1 - rollout.success), bool)
    assert ends_by_time.sum() >= N_ENVS  # every environment hit the limit at least once
    values = np.asarray(rollout.truncation_value)
    assert np.all(values[~ends_by_time] == 0) and np.all(values[ends_by_time] != 0)
    # the value is the model's at the ended episode's last observation (not at the reset's first one)
    bstate = jax.jit(lambda s: refresh_levels(ppo, s, params))(state).env_state
    one = jax.tree_util.tree_map(lambda x: x[0], bstate)
    for action in range(4):
        out = ppo.env.step_with_final(jax.random.key(0), one, action, params)
        inner = env.step(jax.random.key(0), one.env_state, action, params)
        for a, b in zip(out[:6], ppo.env.step(jax.random.key(0), one, action, params)):
            assert eqx.tree_equal(a, b)  # step is step_with_final without its last output
        np.testing.assert_array_equal(out[6], inner[0])
    with pytest.raises(ValueError, match="bootstrap_truncation"):
        make_ppo(cfg, env, lambda k: GRUActorCritic(env.obs_shape, 4, key=k), 100)
