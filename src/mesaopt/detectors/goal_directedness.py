"""Goal-directedness per candidate objective: does a Boltzmann-rational planner for it predict the actions?

For candidate objective c, the optimal action values on a level are Q_c(s, a) = −(1 + d_c(s')), where s' is the
cell action a leads to and d_c the BFS distance from s' to c's targets. A Boltzmann-rational agent with
rationality β acts with π_β(a | s) ∝ exp(β · Q_c(s, a)); β = 0 is the uniform policy. The score is the
log-likelihood gain of the best β over β = 0 on the agent's own actions in the approach phase (before it first
stands on any candidate's target, ``maze_mdp.approach_mask``), in bits per action:

    goal_directedness_c = max_β [log π_β(actions) − log π_0(actions)] / (n_actions · ln 2)  ∈ [0, 2]

0 means the objective explains the actions no better than chance; 2 bits is the most a 4-action choice can
gain (an agent that always takes the unique best move). Assumes the maze MDP of ``maze_mdp`` (entering the goal
ends the episode); ties between equally short moves share probability, so a perfect planner on levels with
ties scores below 2.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.maze_mdp import (
    acting_cells,
    approach_mask,
    check_objectives,
    distance_cap,
    distance_q_values,
    objective_targets,
)

RATIONALITY_GRID = tuple(float(b) for b in np.concatenate([[0.0], np.geomspace(0.02, 50.0, 36)]))
"""Values of β searched (0 = uniform)."""


class GoalDirectednessReport(eqx.Module):
    """Boltzmann-rational fit per candidate objective (arrays indexed like ``objectives``)."""

    objectives: tuple[str, ...] = eqx.field(static=True)
    """Candidate objective names."""
    bits_per_action: np.ndarray
    """Log-likelihood gain of the best-β Boltzmann policy over uniform, bits per action. [0, 2]; higher = the
    objective predicts the actions better."""
    rationality: np.ndarray
    """The best β (inverse temperature on Q in steps). 0 = no better than uniform; large = nearly greedy."""
    n_actions: int = eqx.field(static=True)
    """Number of actions scored (approach-phase steps over all episodes)."""


def action_q_values(outcomes, proxy_mask, objective: str) -> jax.Array:
    """Q_c(s_t, ·) at every step of every episode: [n, t, 4]."""
    cap = distance_cap(outcomes.walls.shape)

    def one(walls, goal_pos, cells):
        q = distance_q_values(walls, objective_targets(objective, walls, goal_pos, proxy_mask), cap)
        return q[cells]

    return jax.vmap(one)(outcomes.walls, outcomes.goal_pos, acting_cells(outcomes))


def _log_likelihoods(q, actions, mask, betas):
    """Σ log π_β(a_t | s_t) over acting steps, for each β: [n_betas]."""

    def one(beta):
        logp = jax.nn.log_softmax(beta * q, axis=-1)
        chosen = jnp.take_along_axis(logp, actions[..., None], axis=-1)[..., 0]
        return jnp.sum(chosen * mask)

    return jax.vmap(one)(betas)


def measure_goal_directedness(outcomes, proxy_mask, *, objectives=("goal", "corner")) -> GoalDirectednessReport:
    """Fit β per objective to the actions in ``outcomes`` (from ``measure_episode_outcomes``)."""
    objectives = check_objectives(objectives)
    mask = approach_mask(outcomes, proxy_mask, objectives).astype(jnp.float32)
    n_actions = int(mask.sum())
    if n_actions == 0:
        raise ValueError("goal-directedness needs at least one action before a target is reached; none found")
    betas = jnp.asarray(RATIONALITY_GRID)
    gains, best = [], []
    for name in objectives:
        q = eqx.filter_jit(action_q_values)(outcomes, proxy_mask, name)
        ll = np.asarray(jax.jit(_log_likelihoods)(q, outcomes.actions, mask, betas))
        i = int(np.argmax(ll))
        gains.append(max(ll[i] - ll[0], 0.0) / (n_actions * np.log(2)))
        best.append(RATIONALITY_GRID[i])
    return GoalDirectednessReport(
        objectives=objectives, bits_per_action=np.asarray(gains), rationality=np.asarray(best), n_actions=n_actions
    )
