"""A `Gymnasium <https://gymnasium.farama.org>`_ adapter for :class:`mesaopt.envs.maze.Maze`.

The JAX environments in :mod:`mesaopt.envs` are pure functions of ``(key, state, action, params)``, which is what
training wants. :class:`MazeGymEnv` wraps one ``Maze`` and one ``MazeParams`` as a stateful, single-episode
``gymnasium.Env`` with NumPy observations, for tools that speak the Gymnasium API (baselines, env checkers,
interactive inspection). It is an adapter, not a JAX env, so it is not in :data:`mesaopt.envs.ENVS`.

Needs the ``gym`` extra (``pip install 'mesaopt[gym]'``). Usage, without ``gymnasium.register``::

    from mesaopt.envs import Maze
    from mesaopt.envs.gymnasium_adapter import MazeGymEnv

    env = MazeGymEnv(Maze(size=7), render_mode="rgb_array")     # params default to env.default_params()
    obs, info = env.reset(seed=0)                               # obs: float32 (3, 7, 7), in observation_space
    obs, reward, terminated, truncated, info = env.step(1)      # 0 up, 1 right, 2 down, 3 left
    frame = env.render()                                        # uint8 (7 * 16, 7 * 16, 3)

    # a fixed, hand-made level (same side as the maze):
    obs, info = env.reset(options={"level": "#####\\n#A.G#\\n#####\\n#####\\n#####\\n"})

Construct it directly as above; nothing is registered. To use ``gymnasium.make`` instead, register it in your
own code::

    gymnasium.register("MesaoptMaze-v0", entry_point="mesaopt.envs.gymnasium_adapter:MazeGymEnv")

Semantics are the wrapped environment's: reward 1 and ``terminated`` on reaching the goal, ``truncated`` when
the step counter reaches ``params.max_steps``. ``info`` holds :data:`mesaopt.envs.maze.INFO_KEYS` as NumPy
values. Reset and step run module-level ``jax.jit``-ed functions with the (hashable, static) ``Maze`` as a
static argument, so each distinct maze compiles once, however many adapters or calls use it.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

try:
    import gymnasium
    from gymnasium import spaces
except ImportError as err:  # pragma: no cover - exercised only without the extra
    raise ImportError("the Gymnasium adapter needs the 'gym' extra: pip install 'mesaopt[gym]'") from err

from mesaopt.envs.ascii import level_from_ascii
from mesaopt.envs.maze import Level, Maze, MazeParams, MazeState

__all__ = ["MazeGymEnv", "render_rgb"]

WALL_RGB = np.array([40, 40, 48], np.uint8)
FLOOR_RGB = np.array([235, 235, 235], np.uint8)
AGENT_RGB = np.array([30, 90, 230], np.uint8)
GOAL_RGB = np.array([250, 210, 30], np.uint8)


def _reset_impl(maze: Maze, key, params: MazeParams):
    obs, state = maze.reset(key, params)
    return obs, state, maze.info(state, params)


def _reset_to_level_impl(maze: Maze, level: Level, params: MazeParams):
    obs, state = maze.reset_to_level(level, params)
    return obs, state, maze.info(state, params)


def _step_impl(maze: Maze, state: MazeState, action, params: MazeParams):
    obs, state, reward, terminated, truncated, info = maze.step(jax.random.key(0), state, action, params)
    return obs, state, reward, terminated, truncated, info


# Module-level jitted functions; the Maze (static fields only, hashable) is a static argument, so the compile
# cache is keyed by the maze's configuration and shared by every adapter instance.
_reset = jax.jit(_reset_impl, static_argnums=0)
_reset_to_level = jax.jit(_reset_to_level_impl, static_argnums=0)
_step = jax.jit(_step_impl, static_argnums=0)


def render_rgb(walls: np.ndarray, agent_pos: np.ndarray, goal_pos: np.ndarray, cell_px: int = 16) -> np.ndarray:
    """An RGB uint8 image ``(n * cell_px, n * cell_px, 3)`` of a level: walls dark, floor light, goal yellow,
    agent blue (drawn over the goal when on it)."""
    walls = np.asarray(walls, bool)
    image = np.where(walls[..., None], WALL_RGB, FLOOR_RGB).astype(np.uint8)
    goal_r, goal_c = (int(v) for v in np.asarray(goal_pos))
    agent_r, agent_c = (int(v) for v in np.asarray(agent_pos))
    image[goal_r, goal_c] = GOAL_RGB
    image[agent_r, agent_c] = AGENT_RGB
    return np.repeat(np.repeat(image, cell_px, axis=0), cell_px, axis=1)


def _level_from_option(level: Any, size: int) -> Level:
    """``options["level"]``: an ASCII string (see :mod:`mesaopt.envs.ascii`) or a :class:`Level` of side ``size``."""
    if isinstance(level, str):
        walls, agent, goal = level_from_ascii(level)
        level = Level(walls=jnp.asarray(walls), agent_pos=jnp.asarray(agent), goal_pos=jnp.asarray(goal))
    if not isinstance(level, Level):
        raise TypeError(f"options['level'] must be an ASCII string or a Level, got {type(level).__name__}")
    if tuple(level.walls.shape) != (size, size):
        raise ValueError(f"options['level'] is {tuple(level.walls.shape)} but the maze is {size}x{size}")
    return Level(
        walls=jnp.asarray(level.walls, bool),
        agent_pos=jnp.asarray(level.agent_pos, jnp.int32),
        goal_pos=jnp.asarray(level.goal_pos, jnp.int32),
    )


class MazeGymEnv(gymnasium.Env):
    """A single :class:`Maze` episode behind the Gymnasium API.

    Args:
        env: the JAX maze (any ``obs_format``); default ``Maze(size=7)``.
        params: the task distribution; default ``env.default_params()``.
        render_mode: ``None`` or ``"rgb_array"``.
        cell_px: pixels per grid cell in rendered frames.

    ``reset(seed=..., options={"level": text})`` starts on a fixed ASCII level instead of drawing one.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": 4}

    def __init__(
        self,
        env: Maze | None = None,
        params: MazeParams | None = None,
        *,
        render_mode: str | None = None,
        cell_px: int = 16,
    ):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"unknown render_mode {render_mode!r}; allowed: None, {self.metadata['render_modes']}")
        if not isinstance(cell_px, int) or cell_px < 1:
            raise ValueError(f"cell_px must be a positive integer, got {cell_px!r}")
        self.maze = Maze(size=7) if env is None else env
        self.params = self.maze.default_params() if params is None else params
        self.render_mode = render_mode
        self.cell_px = cell_px
        self.observation_space = spaces.Box(0.0, 1.0, self.maze.obs_shape, np.float32)
        self.action_space = spaces.Discrete(self.maze.num_actions)
        self.state: MazeState | None = None

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        """Start an episode: a level drawn from ``params`` (keyed from ``self.np_random``), or ``options["level"]``.

        Returns ``(obs float32 ndarray, info dict of NumPy values)``.
        """
        super().reset(seed=seed)
        options = options or {}
        unknown = set(options) - {"level"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; allowed: ['level']")
        if "level" in options:
            level = _level_from_option(options["level"], self.maze.size)
            obs, self.state, info = _reset_to_level(self.maze, level, self.params)
        else:
            key = jax.random.key(int(self.np_random.integers(0, 2**31 - 1)))
            obs, self.state, info = _reset(self.maze, key, self.params)
        obs, info = jax.device_get((obs, info))
        return np.asarray(obs, np.float32), {k: np.asarray(v) for k, v in info.items()}

    def step(self, action):
        """One move; returns ``(obs, reward float, terminated bool, truncated bool, info)``."""
        if self.state is None:
            raise gymnasium.error.ResetNeeded("call reset() before step()")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be an integer in [0, {self.action_space.n}), got {action!r}")
        out = _step(self.maze, self.state, jnp.asarray(int(action), jnp.int32), self.params)
        obs, self.state, reward, terminated, truncated, info = out
        obs, reward, terminated, truncated, info = jax.device_get((obs, reward, terminated, truncated, info))
        info = {k: np.asarray(v) for k, v in info.items()}
        return np.asarray(obs, np.float32), float(reward), bool(terminated), bool(truncated), info

    def render(self):
        """``rgb_array``: uint8 ``(size * cell_px, size * cell_px, 3)`` of the current state; ``None``: nothing."""
        if self.render_mode is None:
            return None
        if self.state is None:
            raise gymnasium.error.ResetNeeded("call reset() before render()")
        walls, agent, goal = jax.device_get((self.state.walls, self.state.agent_pos, self.state.goal_pos))
        return render_rgb(walls, agent, goal, self.cell_px)
