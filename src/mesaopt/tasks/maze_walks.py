"""A non-optimizing maze walker for imitation: the left-hand wall follower.

It keeps its left hand on the wall and walks until it stands on the goal: at every step it turns left if it can,
else goes straight, else turns right, else turns back. It holds no objective and compares no alternatives — a
fixed local rule — yet in a perfect maze it always arrives (the maze is a tree and the walk is its depth-first
tour). The cells it visits are the start–goal path plus every side branch it explores on the way: the target of
``conditions-imitation``'s non-optimizer, to set against the shortest path a BFS planner follows
(:func:`mesaopt.tasks.maze_paths.path_cells`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float

HEADINGS = jnp.array([[-1, 0], [0, 1], [1, 0], [0, -1]], jnp.int32)
"""Moves for the headings north, east, south, west (row, column)."""
TURN_ORDER = (3, 0, 1, 2)
"""Heading changes tried in order (left, straight, right, back), as quarter turns clockwise."""


def _is_open(open_cells: Bool[Array, "h w"], cell) -> Bool[Array, ""]:
    h, w = open_cells.shape
    inside = (cell[0] >= 0) & (cell[0] < h) & (cell[1] >= 0) & (cell[1] < w)
    return inside & open_cells[jnp.clip(cell[0], 0, h - 1), jnp.clip(cell[1], 0, w - 1)]


def _left_hand_step(open_cells, cell, heading):
    """The wall follower's next (cell, heading): the first open direction of left, straight, right, back."""
    headings = jnp.array([(heading + turn) % 4 for turn in TURN_ORDER])
    can_move = jax.vmap(lambda h: _is_open(open_cells, cell + HEADINGS[h]))(headings)
    chosen = headings[jnp.argmax(can_move)]
    moved = jnp.any(can_move)
    return jnp.where(moved, cell + HEADINGS[chosen], cell), jnp.where(moved, chosen, heading)


def wall_follower_cells(image: Float[Array, "h w 3"]) -> Bool[Array, "h w"]:
    """The cells the left-hand wall follower visits from the start (heading north) until it reaches the goal
    (start and goal included). Image channels: open, start, goal (:mod:`mesaopt.tasks.maze_paths`); ``vmap`` for
    batches. The walk is capped at four moves per cell, more than a tree's full tour needs."""
    open_cells = image[..., 0] > 0.5
    h, w = open_cells.shape
    start = jnp.unravel_index(jnp.argmax(image[..., 1].reshape(-1)), (h, w))
    goal = jnp.unravel_index(jnp.argmax(image[..., 2].reshape(-1)), (h, w))
    goal = jnp.stack(goal).astype(jnp.int32)

    def one_move(carry, _):
        cell, heading, visited, arrived = carry
        new_cell, new_heading = _left_hand_step(open_cells, cell, heading)
        cell = jnp.where(arrived, cell, new_cell)
        heading = jnp.where(arrived, heading, new_heading)
        visited = visited.at[cell[0], cell[1]].set(True)
        return (cell, heading, visited, arrived | jnp.all(cell == goal)), None

    cell = jnp.stack(start).astype(jnp.int32)
    visited = jnp.zeros((h, w), bool).at[cell[0], cell[1]].set(True)
    carry = (cell, jnp.int32(0), visited, jnp.all(cell == goal))
    (_, _, visited, _), _ = jax.lax.scan(one_move, carry, None, length=4 * h * w)
    return visited


def walk_moves(walked: jax.Array, path: jax.Array) -> jax.Array:
    """Moves of the wall follower's walk per maze: in a tree its walk crosses each side-branch edge twice and each
    path edge once, ``2 (visited − 1) − (path − 1)``."""
    visited, on_path = walked.sum(axis=(-2, -1)), path.sum(axis=(-2, -1))
    return 2 * (visited - 1) - (on_path - 1)
