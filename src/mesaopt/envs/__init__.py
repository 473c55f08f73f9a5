"""Pure functional JAX environments."""

from mesaopt.envs.absent_supervisor import AbsentSupervisor, SupervisorParams, SupervisorState
from mesaopt.envs.maze import ACTION_NAMES, INFO_KEYS, Level, Maze, MazeParams, MazeState
from mesaopt.envs.regions import corner_region, make_params, misgeneralization_params
from mesaopt.envs.wrappers import AutoReset, BufferedAutoReset, BufferedState
from mesaopt.errors import MesaoptError

MAZE_ENVS = {
    "maze": lambda size=7, obs_format="grid": Maze(size=size, generator="perfect", obs_format=obs_format),
    "open-room": lambda size=7, obs_format="grid": Maze(size=size, generator="open", obs_format=obs_format),
}
"""Maze families by name: ``MAZE_ENVS[name](size=..., obs_format=...)`` (``Maze`` instances, shared info keys)."""


def _absent_supervisor(size=None, obs_format="grid") -> AbsentSupervisor:
    if size is not None:  # a maze experiment pointed at this env: one clear line instead of a TypeError
        raise MesaoptError(f"env 'absent-supervisor' has a fixed 6x6 layout and no size setting (got size {size}); "
                           f"size-based experiments take one of {sorted(MAZE_ENVS)}")
    return AbsentSupervisor(obs_format=obs_format)


ENVS = {**MAZE_ENVS, "absent-supervisor": _absent_supervisor}
"""Environment factories by name: mazes take ``(size=..., obs_format=...)``; the fixed-layout
``absent-supervisor`` gridworld takes only ``obs_format``."""

__all__ = [
    "ACTION_NAMES",
    "ENVS",
    "INFO_KEYS",
    "MAZE_ENVS",
    "AbsentSupervisor",
    "AutoReset",
    "BufferedAutoReset",
    "BufferedState",
    "Level",
    "Maze",
    "MazeParams",
    "MazeState",
    "SupervisorParams",
    "SupervisorState",
    "corner_region",
    "make_params",
    "misgeneralization_params",
]
