"""Shortest-path distances on a maze grid, in JAX (for oracle policies and measurements)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Int

UNREACHABLE = 10_000


def shift_grid(grid: Array, d_row: int, d_col: int, fill) -> Array:
    """``out[r, c] = grid[r + d_row, c + d_col]`` with ``fill`` outside the grid."""
    padded = jnp.pad(grid, 1, constant_values=fill)
    h, w = grid.shape
    return padded[1 + d_row : 1 + d_row + h, 1 + d_col : 1 + d_col + w]


def distance_map(walls: Bool[Array, "h w"], targets: Bool[Array, "h w"]) -> Int[Array, "h w"]:
    """Steps from every cell to the nearest target cell (``UNREACHABLE`` for walls and cut-off cells).

    Synchronous Bellman relaxation for ``h * w`` sweeps (enough for any simple path); a fixed-length loop so
    it vmaps and jits with static shapes.
    """
    dist = jnp.where(targets & ~walls, 0, UNREACHABLE).astype(jnp.int32)

    def sweep(_, d):
        best = jnp.minimum(
            jnp.minimum(shift_grid(d, -1, 0, UNREACHABLE), shift_grid(d, 1, 0, UNREACHABLE)),
            jnp.minimum(shift_grid(d, 0, -1, UNREACHABLE), shift_grid(d, 0, 1, UNREACHABLE)),
        )
        return jnp.where(walls, UNREACHABLE, jnp.minimum(d, jnp.minimum(best + 1, UNREACHABLE)))

    return jax.lax.fori_loop(0, walls.size, sweep, dist)
