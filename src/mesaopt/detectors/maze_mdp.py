"""A maze level as a small MDP over cells: candidate objectives, transitions and hitting times.

The measurements of *what a policy optimizes* (optimization power, goal-directedness, inverse RL) all view one
evaluation episode as a deterministic MDP whose states are the grid cells, whose actions are the maze's four
moves (a move into a wall stays put) and where entering the goal ends the episode (as in the environment).

A *candidate objective* names a target set of cells per level: ``goal`` (the base objective: the level's goal
cell) and ``corner`` (the proxy: the params' proxy region, the top-right corner in the misgeneralization
experiment). Reaching a target sooner is better; not reaching it within the horizon is worst.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from mesaopt.envs.bfs import UNREACHABLE, distance_map
from mesaopt.envs.maze import ACTION_DELTAS

CANDIDATE_OBJECTIVES = ("goal", "corner")
"""Candidate objectives, in the order every per-objective array uses."""


def check_objectives(objectives) -> tuple[str, ...]:
    """Validate objective names; returns them as a tuple."""
    objectives = tuple(objectives)
    unknown = [name for name in objectives if name not in CANDIDATE_OBJECTIVES]
    if unknown or not objectives:
        raise ValueError(f"unknown objective(s) {unknown or objectives}; allowed: {list(CANDIDATE_OBJECTIVES)}")
    return objectives


def goal_cells(walls: Bool[Array, "h w"], goal_pos: Int[Array, 2]) -> Bool[Array, "h w"]:
    """One-hot map of the goal cell."""
    return jnp.zeros(walls.shape, bool).at[goal_pos[0], goal_pos[1]].set(True)


def objective_targets(
    name: str, walls: Bool[Array, "h w"], goal_pos: Int[Array, 2], proxy_mask: Bool[Array, "h w"]
) -> Bool[Array, "h w"]:
    """Target cells of candidate objective ``name`` on one level (open cells only)."""
    targets = goal_cells(walls, goal_pos) if name == "goal" else proxy_mask
    return targets & ~walls


def next_cells(walls: Bool[Array, "h w"]) -> Int[Array, "4 n"]:
    """Flat index of the cell each action leads to from each flat cell (walls and edges: stay)."""
    h, w = walls.shape
    rows, cols = jnp.meshgrid(jnp.arange(h), jnp.arange(w), indexing="ij")
    out = []
    for d_row, d_col in ACTION_DELTAS:
        r = jnp.clip(rows + int(d_row), 0, h - 1)
        c = jnp.clip(cols + int(d_col), 0, w - 1)
        blocked = walls[r, c]
        out.append(jnp.where(blocked, rows * w + cols, r * w + c).ravel())
    return jnp.stack(out)


def hitting_time(positions: Int[Array, "t 2"], targets: Bool[Array, "h w"]) -> Int[Array, ""]:
    """First step index t (0 = start) at which the agent stands on a target; ``len(positions)`` if never."""
    on_target = targets[positions[:, 0], positions[:, 1]]
    return jnp.where(on_target.any(), jnp.argmax(on_target), positions.shape[0])


def episode_hitting_times(outcomes, proxy_mask, objectives) -> Int[Array, "n n_obj"]:
    """Hitting time of every episode for every objective (``horizon + 1`` = never within the horizon)."""

    def one(positions, walls, goal_pos):
        return jnp.stack([
            hitting_time(positions, objective_targets(name, walls, goal_pos, proxy_mask)) for name in objectives
        ])

    return jax.vmap(one)(outcomes.positions, outcomes.walls, outcomes.goal_pos)


def distance_q_values(walls, targets, cap: int) -> Float[Array, "n 4"]:
    """Q(s, a) = −(1 + BFS distance from the cell ``a`` leads to): the optimal values of "reach a target in as
    few steps as possible". Distances are capped at ``cap`` (unreachable targets give equal values)."""
    dist = jnp.minimum(distance_map(walls, targets), cap).ravel()
    return -(1.0 + dist[next_cells(walls)].T)


def acting_cells(outcomes) -> Int[Array, "n t"]:
    """Flat cell index of the agent before each action."""
    width = outcomes.walls.shape[-1]
    before = outcomes.positions[:, :-1]
    return before[..., 0] * width + before[..., 1]


def distance_cap(shape: tuple[int, ...]) -> int:
    """Cap for distances: longer than any simple path, far below ``UNREACHABLE``."""
    return min(int(np.prod(shape[-2:])) + 1, UNREACHABLE)



def approach_mask(outcomes, proxy_mask, objectives) -> Bool[Array, "n t"]:
    """Actions taken before the agent first stood on any candidate objective's target (the approach phase).

    What an agent does after reaching one candidate's target says little about which target it was heading
    for (a planted corner-seeker, for instance, paces in and out of the corner), so behavioural-objective
    detectors score only these actions."""
    first = episode_hitting_times(outcomes, proxy_mask, objectives).min(axis=1)
    steps = jnp.arange(outcomes.actions.shape[1])
    return outcomes.acting & (steps[None, :] < first[:, None])
