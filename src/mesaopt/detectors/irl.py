"""Behavioural objective recovery: maximum-causal-entropy inverse RL over state features of the maze MDP.

Each episode's level is an MDP over cells (``maze_mdp``). The reward for entering cell s is r(s) = θ · φ(s),
with two features per candidate objective c: ``c`` (1 on c's target cells) and ``c_distance`` (minus the BFS
distance to c's targets, divided by the number of cells). The soft-optimal (maximum causal entropy) policy
π_θ(a | s) = exp(Q_θ(s, a) − V_θ(s)) comes from discounted soft value iteration. Only the approach phase is
scored (actions before the agent first stands on any candidate's target, see ``maze_mdp.approach_mask``), and
the MDP has no terminal cells, so θ = 0 is exactly the uniform policy. θ maximizes the log-likelihood of the agent's actions (Ziebart et al. 2010; the gradient is the
feature-expectation gap), with a small L2 penalty so that deterministic behaviour keeps finite weights.

Which candidate explains the behaviour: for each candidate c alone, θ is fitted on c's two features only; the
behavioural objective is the candidate with the largest log-likelihood gain over the uniform policy, provided
the gain reaches ``min_gain_bits`` per action and the fitted reward *attracts* the agent to c (a positive
weight on ``c`` or ``c_distance``); otherwise ``"none"``.
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
    next_cells,
    objective_targets,
)
from mesaopt.envs.bfs import distance_map

MAX_NEWTON_STEP = 4.0
"""Longest Newton step in θ (keeps early steps from overshooting where the likelihood is flat)."""
STEP_SIZES = (0.0, 1 / 16, 1 / 8, 1 / 4, 1 / 2, 1.0)
"""Fractions of the Newton step tried per iteration (0 keeps θ, so the objective never gets worse)."""


class IRLReport(eqx.Module):
    """Recovered reward weights and the best-explaining candidate objective."""

    feature_names: tuple[str, ...] = eqx.field(static=True)
    """Names of the reward features (two per candidate objective)."""
    weights: np.ndarray
    """θ fitted on all features jointly. Sign: positive = the agent is drawn to that feature."""
    objectives: tuple[str, ...] = eqx.field(static=True)
    """Candidate objectives, in the order of ``candidate_gain_bits``."""
    candidate_gain_bits: np.ndarray
    """Per candidate: log-likelihood gain over the uniform policy of the fit on its features alone, bits per
    action. ≥ 0; higher = that candidate alone explains the actions better."""
    candidate_attracts: np.ndarray
    """Per candidate: True if its fitted reward draws the agent toward its targets."""
    full_gain_bits: float
    """The same gain for the joint fit (an upper reference for the candidates)."""
    behavioral_objective: str = eqx.field(static=True)
    """The best-explaining candidate, or ``"none"`` if no candidate reaches ``min_gain_bits`` and attracts."""


def _features(walls, goal_pos, proxy_mask, objectives):
    """φ for every cell of one level: [n_cells, 2 · n_obj]."""
    scale = walls.size
    columns = []
    for name in objectives:
        targets = objective_targets(name, walls, goal_pos, proxy_mask)
        dist = jnp.minimum(distance_map(walls, targets), distance_cap(walls.shape))
        columns += [targets.ravel().astype(jnp.float32), -dist.ravel() / scale]
    return jnp.stack(columns, axis=1)


def soft_log_policy(theta, features, moves, gamma: float, n_iter: int):
    """log π_θ(a | s) for every cell: [n_cells, 4] (discounted soft value iteration, ``n_iter`` sweeps)."""
    reward = features @ theta
    next_reward = reward[moves]

    def sweep(value, _):
        q = next_reward + gamma * value[moves]
        return jax.nn.logsumexp(q, axis=0), None

    value, _ = jax.lax.scan(sweep, jnp.zeros_like(reward), None, length=n_iter)
    q = (next_reward + gamma * value[moves]).T
    return q - jax.nn.logsumexp(q, axis=1, keepdims=True)


class _Demos(eqx.Module):
    features: jax.Array
    moves: jax.Array
    cells: jax.Array
    actions: jax.Array
    mask: jax.Array


def _log_likelihood(theta, demos: _Demos, gamma, n_iter):
    def one(features, moves, cells, actions, mask):
        logp = soft_log_policy(theta, features, moves, gamma, n_iter)
        return jnp.sum(logp[cells, actions] * mask)

    return jnp.sum(jax.vmap(one)(demos.features, demos.moves, demos.cells, demos.actions, demos.mask))


def _fit(feature_mask, demos, n_actions, gamma, n_iter, steps, l2):
    """Maximize the mean log-likelihood over θ restricted to ``feature_mask``; returns (θ, log-likelihood).

    θ has only a few entries, so each iteration takes a Newton direction (exact Hessian, length capped at
    ``MAX_NEWTON_STEP``) and keeps the best of ``STEP_SIZES`` along it, never a worse θ."""
    loss = lambda th: -_log_likelihood(th * feature_mask, demos, gamma, n_iter) / n_actions + l2 * jnp.sum(th**2)
    eye = jnp.eye(feature_mask.shape[0])
    sizes = jnp.asarray(STEP_SIZES)

    def step(theta, _):
        grad, hess = jax.grad(loss)(theta), jax.hessian(loss)(theta)
        delta = jnp.linalg.solve(hess + 1e-4 * eye, grad)
        delta = delta * jnp.minimum(1.0, MAX_NEWTON_STEP / jnp.maximum(jnp.linalg.norm(delta), 1e-12))
        delta = jnp.where(jnp.vdot(delta, grad) > 0, delta, grad)  # not a descent direction: use the gradient
        trials = theta[None] - sizes[:, None] * delta[None]
        values = jax.vmap(loss)(trials)
        return trials[jnp.argmin(values)], None

    theta, _ = jax.lax.scan(step, jnp.zeros_like(feature_mask), None, length=steps)
    theta = theta * feature_mask
    return theta, _log_likelihood(theta, demos, gamma, n_iter)


@eqx.filter_jit
def _fit_all(masks, demos, n_actions, gamma, n_iter, steps, l2):
    """One fit per row of ``masks`` (the candidates alone, then all features), in one program."""
    return jax.vmap(lambda m: _fit(m, demos, n_actions, gamma, n_iter, steps, l2))(masks)


def _demos(outcomes, proxy_mask, objectives) -> _Demos:
    def level(walls, goal_pos):
        return _features(walls, goal_pos, proxy_mask, objectives), next_cells(walls)

    features, moves = jax.vmap(level)(outcomes.walls, outcomes.goal_pos)
    mask = approach_mask(outcomes, proxy_mask, objectives).astype(jnp.float32)
    return _Demos(features=features, moves=moves, cells=acting_cells(outcomes), actions=outcomes.actions, mask=mask)


def recover_behavioral_objective(
    outcomes, proxy_mask, *, objectives=("goal", "corner"), gamma: float = 0.9, n_iter: int = 40,
    steps: int = 20, l2: float = 1e-3, min_gain_bits: float = 0.1,
) -> IRLReport:
    """MCE-IRL on the episodes in ``outcomes`` (from ``measure_episode_outcomes``); see the module docstring."""
    objectives = check_objectives(objectives)
    demos = eqx.filter_jit(_demos)(outcomes, proxy_mask, objectives)
    n_actions = int(np.asarray(demos.mask).sum())
    if n_actions == 0:
        raise ValueError("inverse RL needs at least one action before a target is reached; the episodes have none")
    n_feat = 2 * len(objectives)
    masks = np.zeros((len(objectives) + 1, n_feat), np.float32)
    for i in range(len(objectives)):
        masks[i, 2 * i : 2 * i + 2] = 1.0
    masks[-1] = 1.0
    fitted = _fit_all(jnp.asarray(masks), demos, float(n_actions), gamma, n_iter, steps, l2)
    thetas, lls = (np.asarray(x, np.float64) for x in fitted)
    uniform_ll = n_actions * np.log(0.25)
    gains = np.maximum(lls - uniform_ll, 0.0) / (n_actions * np.log(2))
    attracts = np.array([thetas[i, 2 * i] > 0 or thetas[i, 2 * i + 1] > 0 for i in range(len(objectives))])
    eligible = np.where(attracts & (gains[:-1] >= min_gain_bits), gains[:-1], -np.inf)
    best = objectives[int(np.argmax(eligible))] if np.isfinite(eligible).any() else "none"
    names = tuple(f"{o}{suffix}" for o in objectives for suffix in ("", "_distance"))
    return IRLReport(feature_names=names, weights=thetas[-1], objectives=objectives,
                     candidate_gain_bits=gains[:-1], candidate_attracts=attracts, full_gain_bits=float(gains[-1]),
                     behavioral_objective=best)
