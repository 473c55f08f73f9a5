"""The candidate search algorithms for a maze-solving network, as per-cell states after each round.

The search detectors (:mod:`mesaopt.detectors.search`) compare a thinking network with these: how many rounds
each needs on a maze (does the network's compute track them?) and what each one's state is after round ``t`` (can
the network's hidden state be read as it?).

- **BFS wavefront** from the start, from the goal, or from both: after round ``t`` the cells within ``t`` steps;
  the path is known once the two wavefronts meet (rounds: half the path length) or once one of them reaches the
  other end (rounds: the path length).
- **Dead-end filling**: each round fills every open cell other than start and goal with at most one open, unfilled
  neighbour; the unfilled open cells at the fixed point are the path. Rounds: the longest dead-end chain.

Images follow :mod:`mesaopt.tasks.maze_paths` (channels open, start, goal); everything is per maze (``vmap``
for batches).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int

from mesaopt.tasks.maze_paths import UNREACHED, bfs_distances

CANDIDATES = ("bfs_from_start", "bfs_from_goal", "bfs_from_both", "dead_end_filling")
"""Names of the candidate algorithms, in report order."""


def _marker(image: Float[Array, "h w 3"], channel: int) -> Int[Array, "2"]:
    flat = jnp.argmax(image[..., channel].reshape(-1))
    return jnp.stack([flat // image.shape[1], flat % image.shape[1]])


def endpoint_distances(image: Float[Array, "h w 3"]) -> tuple[Int[Array, "h w"], Int[Array, "h w"]]:
    """BFS distances from the start and from the goal (:data:`UNREACHED` on walls)."""
    open_cells = image[..., 0] > 0.5
    return bfs_distances(open_cells, _marker(image, 1)), bfs_distances(open_cells, _marker(image, 2))


def _neighbour_sum(x: Array) -> Array:
    padded = jnp.pad(x, 1)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


def dead_end_fill_round(filled: Bool[Array, "h w"], image: Float[Array, "h w 3"]) -> Bool[Array, "h w"]:
    """One round of dead-end filling."""
    open_cells = image[..., 0] > 0.5
    fillable = open_cells & (image[..., 1] < 0.5) & (image[..., 2] < 0.5) & ~filled
    unfilled_open_neighbours = _neighbour_sum((open_cells & ~filled).astype(jnp.int32))
    return filled | (fillable & (unfilled_open_neighbours <= 1))


def dead_end_fill_states(image: Float[Array, "h w 3"], rounds: int) -> Bool[Array, "r h w"]:
    """The filled cells after rounds 1 .. ``rounds``."""

    def one_round(filled, _):
        new = dead_end_fill_round(filled, image)
        return new, new

    _, states = jax.lax.scan(one_round, jnp.zeros(image.shape[:2], bool), None, length=rounds)
    return states


def dead_end_rounds(image: Float[Array, "h w 3"]) -> Int[Array, ""]:
    """Rounds until dead-end filling stops changing (the longest dead-end chain; 0 when nothing is filled)."""
    return jnp.max(dead_end_fill_rounds(image))


def dead_end_fill_rounds(image: Float[Array, "h w 3"]) -> Int[Array, "h w"]:
    """Per cell, the round (1-based) in which dead-end filling fills it; 0 for a cell it never fills (walls,
    start, goal and the path)."""

    def changing(state):
        return state[3]

    def one_round(state):
        filled, round_of, t, _ = state
        new = dead_end_fill_round(filled, image)
        return new, jnp.where(new & ~filled, t + 1, round_of), t + 1, jnp.any(new != filled)

    zeros = jnp.zeros(image.shape[:2], jnp.int32)
    _, round_of, _, _ = jax.lax.while_loop(changing, one_round, (zeros > 0, zeros, jnp.int32(0), True))
    return round_of


def candidate_rounds(image: Float[Array, "h w 3"]) -> dict[str, Int[Array, ""]]:
    """Rounds the candidates need on this maze: ``path_length`` (a wavefront from one end reaches the other; from
    both ends: half of it), ``start_eccentricity`` (a wavefront from the start covers the maze),
    ``dead_end_filling`` (the longest dead-end chain)."""
    from_start, _ = endpoint_distances(image)
    goal = _marker(image, 2)
    reached = jnp.where(from_start < UNREACHED, from_start, 0)
    return {"path_length": from_start[goal[0], goal[1]], "start_eccentricity": jnp.max(reached),
            "dead_end_filling": dead_end_rounds(image)}


def candidate_states(image: Float[Array, "h w 3"], rounds: int) -> dict[str, Bool[Array, "r h w"]]:
    """Each candidate's per-cell state after rounds 1 .. ``rounds`` (BFS: reached; filling: filled)."""
    from_start, from_goal = endpoint_distances(image)
    t = jnp.arange(1, rounds + 1)[:, None, None]
    reached_start, reached_goal = from_start[None] <= t, from_goal[None] <= t
    return {"bfs_from_start": reached_start, "bfs_from_goal": reached_goal,
            "bfs_from_both": reached_start | reached_goal,
            "dead_end_filling": dead_end_fill_states(image, rounds)}


__all__ = ["CANDIDATES", "UNREACHED", "candidate_rounds", "candidate_states", "dead_end_fill_round",
           "dead_end_fill_rounds", "dead_end_fill_states", "dead_end_rounds", "endpoint_distances"]
