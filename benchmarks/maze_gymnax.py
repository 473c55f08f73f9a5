"""gymnax-style adapters so rejax can train on the same tasks as mesaopt.

rejax 0.1.3 unpacks the pre-1.0 gymnax step, ``(obs, state, reward, done, info)``, while gymnax 1.0 returns
``(obs, state, reward, terminated, truncated, info)``; :class:`FiveTupleStep` bridges that for gymnax's own
environments. :class:`GymnaxMaze` is mesaopt's maze behind gymnax's contract, which resets eagerly: every
step draws the next episode's level for every environment (as gymnax, NAVIX and xland-minigrid all do), so the
rejax-on-maze rows pay the level draw on every step where mesaopt's own loop draws levels in bulk once per rollout.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces


@struct.dataclass
class GymnaxMazeParams(environment.EnvParams):
    maze: object = None
    max_steps_in_episode: int = 49


class GymnaxMaze(environment.Environment):
    """``mesaopt.envs.Maze`` (any size / generator) with gymnax's eager auto-reset and a 5-tuple ``step``."""

    def __init__(self, maze):
        self.maze = maze

    @property
    def default_params(self) -> GymnaxMazeParams:
        params = self.maze.default_params()
        return GymnaxMazeParams(maze=params, max_steps_in_episode=int(params.max_steps))

    def step(self, key, state, action, params=None):
        params = self.default_params if params is None else params
        k_step, k_reset = jax.random.split(key)
        obs, state, reward, terminated, truncated, info = self.maze.step(k_step, state, action, params.maze)
        done = terminated | truncated
        reset_obs, reset_state = self.maze.reset(k_reset, params.maze)
        state = jax.tree_util.tree_map(lambda a, b: jnp.where(done, a, b), reset_state, state)
        return jnp.where(done, reset_obs, obs), state, reward, done, info

    def reset(self, key, params=None):
        params = self.default_params if params is None else params
        return self.maze.reset(key, params.maze)

    @property
    def num_actions(self) -> int:
        return self.maze.num_actions

    def action_space(self, params=None):
        return spaces.Discrete(self.maze.num_actions)

    def observation_space(self, params=None):
        return spaces.Box(0.0, 1.0, self.maze.obs_shape, jnp.float32)


class FiveTupleStep:
    """Wraps a gymnax >= 1.0 environment so ``step`` returns ``(obs, state, reward, done, info)``."""

    def __init__(self, env):
        self.env = env

    def __getattr__(self, name):
        if name == "env":  # not set yet (copy / deepcopy build the object without __init__)
            raise AttributeError(name)
        return getattr(self.env, name)

    def step(self, key, state, action, params=None):
        obs, state, reward, terminated, truncated, info = self.env.step(key, state, action, params)
        return obs, state, reward, terminated | truncated, info

    def reset(self, key, params=None):
        return self.env.reset(key, params)
