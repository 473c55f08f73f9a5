"""Pure functional JAX environments."""

from mesaopt.envs.maze import ACTION_NAMES, INFO_KEYS, Level, Maze, MazeParams, MazeState
from mesaopt.envs.regions import corner_region, make_params, misgeneralization_params
from mesaopt.envs.wrappers import AutoReset, BufferedAutoReset, BufferedState

ENVS = {
    "maze": lambda size=7, obs_format="grid": Maze(size=size, generator="perfect", obs_format=obs_format),
    "open-room": lambda size=7, obs_format="grid": Maze(size=size, generator="open", obs_format=obs_format),
}
"""Environment factories by name: ``ENVS[name](size=..., obs_format=...)``."""

__all__ = [
    "ACTION_NAMES",
    "ENVS",
    "INFO_KEYS",
    "AutoReset",
    "BufferedAutoReset",
    "BufferedState",
    "Level",
    "Maze",
    "MazeParams",
    "MazeState",
    "corner_region",
    "make_params",
    "misgeneralization_params",
]
