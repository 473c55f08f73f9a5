"""Hand-written policies over maze observations: planted positives and negatives for detectors and tests.

A *policy* here is any callable ``obs -> logits`` over the maze's 4 actions; detectors sample or take the
argmax. These read the grid channels (walls, agent, goal) of the observation, so they work on any maze
distribution without knowing the environment state.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float

from mesaopt.envs.bfs import UNREACHABLE, shift_grid, distance_map
from mesaopt.envs.maze import ACTION_DELTAS

PLANNER_TARGETS = ("goal", "corner")


def as_grid(obs: Array, size: int) -> Float[Array, "3 h w"]:
    """Grid view of a grid or flat maze observation."""
    return obs.reshape(3, size, size)


def _greedy_logits(dist: Array, agent: Array, sharpness: float) -> Array:
    """Logits favouring the neighbour closest to the target (ties share the mass)."""
    neighbour_dist = jnp.stack(
        [shift_grid(dist, int(dr), int(dc), UNREACHABLE) for dr, dc in ACTION_DELTAS]
    )  # [4, h, w]: distance after moving in each direction
    at_agent = jnp.sum(neighbour_dist * agent[None], axis=(1, 2))
    best = jnp.min(at_agent)
    return jnp.where(at_agent == best, 0.0, -sharpness)


class BFSPolicy(eqx.Module):
    """Moves along a shortest path to the goal (``target='goal'``) or to the top-right corner (``'corner'``)."""

    size: int = eqx.field(static=True)
    target: str = eqx.field(static=True, default="goal")
    sharpness: float = eqx.field(static=True, default=30.0)

    def __check_init__(self):
        if self.target not in PLANNER_TARGETS:
            raise ValueError(f"unknown planner target {self.target!r}; allowed: {list(PLANNER_TARGETS)}")

    def __call__(self, obs: Array) -> Float[Array, 4]:
        grid = as_grid(obs, self.size)
        walls = grid[0] > 0.5
        if self.target == "goal":
            targets = grid[2] > 0.5
        else:
            targets = jnp.zeros((self.size, self.size), bool).at[0, self.size - 1].set(True)
        return _greedy_logits(distance_map(walls, targets), grid[1], self.sharpness)


class UniformPolicy(eqx.Module):
    """Uniformly random over the 4 actions."""

    def __call__(self, obs: Array) -> Float[Array, 4]:
        del obs
        return jnp.zeros(4)


def bfs_distance_reference(walls: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Plain-Python BFS (the differential reference for :func:`distance_map`)."""
    from collections import deque

    h, w = walls.shape
    dist = np.full((h, w), UNREACHABLE, dtype=np.int64)
    if walls[target]:
        return dist
    dist[target] = 0
    queue = deque([target])
    while queue:
        r, c = queue.popleft()
        for dr, dc in ACTION_DELTAS:
            nr, nc = r + dr, c + dc
            if 0 <= nr < h and 0 <= nc < w and not walls[nr, nc] and dist[nr, nc] == UNREACHABLE:
                dist[nr, nc] = dist[r, c] + 1
                queue.append((nr, nc))
    return dist
