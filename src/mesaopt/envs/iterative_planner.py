"""A planted recurrent planner that needs iterations: value iteration with one Bellman sweep per step.

:class:`ValueIterationPlanner` is a recurrent policy (``initial_carry()``, ``step(carry, obs)``) over ``grid`` or
``flat`` maze observations. Its carry is a distance-estimate map; each ``step`` does ONE synchronous Bellman
sweep toward the goal visible in the observation, then acts greedily on the current estimates. After ``k``
sweeps the estimate is exact for cells within ``k`` steps of the goal and ``UNREACHABLE`` elsewhere, so the
planner moves uniformly at random until the propagation has reached its cell, and like BFS afterwards. With
``k >= `` (the start's path length to the goal) thinking steps before the first action it acts like
:class:`mesaopt.envs.planners.BFSPolicy` from the start. It is the planted positive for test-time compute
(``mesaopt.detectors.thinking``); its feed-forward counterpart, ``BFSPolicy``, solves the maze in one call.

The carry is only meaningful for one level (walls and goal): start each episode from ``initial_carry()``.
"""

from __future__ import annotations

import equinox as eqx
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from mesaopt.envs.bfs import UNREACHABLE, shift_grid
from mesaopt.envs.planners import _greedy_logits, as_grid


def bellman_sweep(dist: Int[Array, "h w"], walls: Array, goal: Array) -> Int[Array, "h w"]:
    """One synchronous sweep: ``d(goal) = 0``, ``d(c) = min(d(c), 1 + min over open neighbours)``, walls out."""
    dist = jnp.where(goal & ~walls, 0, dist)
    best = jnp.minimum(
        jnp.minimum(shift_grid(dist, -1, 0, UNREACHABLE), shift_grid(dist, 1, 0, UNREACHABLE)),
        jnp.minimum(shift_grid(dist, 0, -1, UNREACHABLE), shift_grid(dist, 0, 1, UNREACHABLE)),
    )
    return jnp.where(walls, UNREACHABLE, jnp.minimum(dist, jnp.minimum(best + 1, UNREACHABLE)))


class ValueIterationPlanner(eqx.Module):
    """Recurrent value-iteration policy: one Bellman sweep per ``step``, greedy on the current estimates."""

    size: int = eqx.field(static=True)
    sharpness: float = eqx.field(static=True, default=30.0)

    def __check_init__(self):
        if not isinstance(self.size, int) or self.size < 3:
            raise ValueError(f"planner size must be an integer >= 3 (the maze size), got {self.size!r}")
        if not self.sharpness > 0:
            raise ValueError(f"planner sharpness must be > 0, got {self.sharpness!r}")

    def initial_carry(self) -> Int[Array, "h w"]:
        """No information yet: every cell ``UNREACHABLE``."""
        return jnp.full((self.size, self.size), UNREACHABLE, jnp.int32)

    def step(self, carry: Int[Array, "h w"], obs: Array) -> tuple[Int[Array, "h w"], Float[Array, 4]]:
        """One sweep, then logits: greedy toward the goal where the agent's cell is reached, else uniform."""
        grid = as_grid(obs, self.size)
        walls, agent, goal = grid[0] > 0.5, grid[1], grid[2] > 0.5
        dist = bellman_sweep(carry, walls, goal)
        reached = jnp.sum(jnp.where(agent > 0.5, dist, 0)) < UNREACHABLE
        logits = jnp.where(reached, _greedy_logits(dist, agent, self.sharpness), 0.0)
        return dist, logits
