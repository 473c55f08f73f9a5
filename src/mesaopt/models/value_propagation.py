"""A learned planner as an actor-critic: value propagation (Nardelli et al. 2019, "Value Propagation Networks";
after Tamar et al.'s 2016 value-iteration networks), computed in log space.

From the whole grid (walls, agent, goal) and four edge channels (:func:`edge_channels`), a small convolution
computes per cell a *log-reward* ``ρ ≤ 0`` — the planner's objective, readable directly — and a *log-passage*
``λ ≤ 0``, the cost of going through the cell (very negative for a wall). Then, ``iterations`` times, every cell
takes the larger of what it has and what its best neighbour offers minus its own cost::

    u ← max(u, λ + max_neighbours(u)),   u⁰ = ρ

so after enough rounds ``u`` at a cell is the best ``ρ`` of any cell minus the costs of the cheapest path there:
a shortest-path search toward what the reward map marks. The policy climbs ``u`` (its logit for a move is ``u``
of the cell the move leads to, times a learned scale, the same for every direction); the value head reads ``u``
at the agent. What the agent pursues is what its reward map marks — the goal channel, or a place (the edge
channels let it mark the top-right corner): a mesa-objective one can read off.

Working with log-values keeps far cells' differences as large as near ones' (a product of passages underflows).
No weight depends on the grid's side, and the rounds default to ``h·w // 2`` of the grid given: one network plans
on mazes of any side (``maze-misgen --train-size``).
"""

from __future__ import annotations

from functools import partial
from typing import ClassVar

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from mesaopt.envs.bfs import shift_grid
from mesaopt.models.actor_critic import Steer, check_steer, conv3x3, dense, hook, orthogonal_linear

NEIGHBOUR_OFFSETS = ((0, 0), (-1, 0), (0, 1), (1, 0), (0, -1))
"""(d_row, d_col) of the cells the heads read: the agent's own, then up, right, down, left (the maze's action
order, ``envs.maze.ACTION_DELTAS``)."""
REWARD_BIAS, PASSAGE_BIAS = -2.0, 2.0
"""Initial biases of the reward and passage logits: log-reward −2.1 and passage cost 0.13 everywhere."""
MIN_COST = 1e-3
"""Subtracted from every log-passage: going through a cell always costs something, so values strictly fall along
every chain of best neighbours (no float ties, no cycles in the gradient's tree)."""
OFF_GRID = -50.0
"""The log-value of a cell outside the grid: a move off the grid is never preferred."""


def propagate(log_reward: Float[Array, "h w"], log_passage: Float[Array, "h w"], iterations: int
              ) -> Float[Array, "h w"]:
    """``iterations`` rounds of ``u ← max(u, λ + max_neighbours(u))`` from ``u = ρ`` (module docstring).
    Differentiated by reverse-mode autodiff through every round; :func:`shortest_path_values` is the same map with
    a cheap gradient."""

    def one_round(_, u):
        return jnp.maximum(u, log_passage + best_neighbour(u)[0])

    return jax.lax.fori_loop(0, iterations, one_round, log_reward)


NEIGHBOUR_MOVES = NEIGHBOUR_OFFSETS[1:]


def best_neighbour(u: Float[Array, "h w"]) -> tuple[Float[Array, "h w"], Array]:
    """The largest ``u`` among each cell's four neighbours (``OFF_GRID`` outside) and which one (index into
    ``NEIGHBOUR_MOVES``; the first on ties)."""
    around = jnp.stack([shift_grid(u, dr, dc, OFF_GRID) for dr, dc in NEIGHBOUR_MOVES])
    return jnp.max(around, axis=0), jnp.argmax(around, axis=0)


@partial(jax.custom_vjp, nondiff_argnums=(2,))
def shortest_path_values(log_reward: Float[Array, "h w"], log_passage: Float[Array, "h w"], iterations: int
                         ) -> Float[Array, "h w"]:
    """:func:`propagate`, with the gradient of its fixed point computed along the tree of best neighbours.

    At the fixed point each cell's value is either its own log-reward (a *source*) or its cost plus its best
    neighbour's value, so the value is ``ρ`` of its source plus the ``λ`` of every cell on the way: the gradient
    flows back along those chains, ``iterations`` rounds of four shifts — not through every stored round, which
    took about 20x the forward's time (a 512 × 13 × 13 batch, 84 rounds: 150-200 ms against 7.5-15 ms). Exact
    once ``iterations`` reaches every cell's source (``tests/models/test_value_propagation.py``); a cell still
    unreached gets the gradient of its current chain."""
    return propagate(log_reward, log_passage, iterations)


def _values_forward(log_reward, log_passage, iterations):
    values = propagate(log_reward, log_passage, iterations)
    return values, (values, log_reward, log_passage)


def _values_backward(iterations, residuals, cotangent):
    values, log_reward, log_passage = residuals
    best, towards = best_neighbour(values)
    source = log_reward >= log_passage + best
    hands_on = [(~source) & (towards == d) for d in range(len(NEIGHBOUR_MOVES))]

    def one_round(_, total):
        passed = [shift_grid(jnp.where(mask, total, 0.0), -dr, -dc, 0.0)
                  for mask, (dr, dc) in zip(hands_on, NEIGHBOUR_MOVES)]
        return cotangent + sum(passed)

    total = jax.lax.fori_loop(0, iterations, one_round, cotangent)
    return jnp.where(source, total, 0.0), jnp.where(source, 0.0, total)


shortest_path_values.defvjp(_values_forward, _values_backward)


EDGE_DECAY = 0.5
"""How much an edge channel falls per cell away from its edge."""


def edge_channels(h: int, w: int) -> np.ndarray:
    """How near each cell is to the top, right, bottom and left edge: ``EDGE_DECAY ** cells away``, shape
    (4, h, w). A cell a given number of cells from the edges reads the same at every side, so what a map marks by
    position (the top-right corner, say) is the same cell on a larger maze, where coordinates scaled to [−1, 1]
    name a different cell at each side."""
    rows, cols = np.indices((h, w), dtype=np.float32)
    away = np.stack([rows, (w - 1) - cols, (h - 1) - rows, cols])
    return (EDGE_DECAY ** away).astype(np.float32)


def around_agent(u: Float[Array, "h w"], agent: Float[Array, "h w"]) -> Float[Array, "5"]:
    """``u`` at the agent's cell and its four neighbours (``NEIGHBOUR_OFFSETS``; ``OFF_GRID`` outside)."""
    return jnp.stack([jnp.sum(shift_grid(u, dr, dc, OFF_GRID) * agent) for dr, dc in NEIGHBOUR_OFFSETS])


class ValuePropagationActorCritic(eqx.Module):
    """A shortest-path planner toward a learned reward map, over the whole-grid observation (channels walls,
    agent, goal): see the module docstring."""

    embed: eqx.nn.Conv2d
    maps: eqx.nn.Linear
    climb: Float[Array, ""]
    """Policy logits = climb · u of the cell each move leads to (plus ``action_bias``)."""
    action_bias: Float[Array, " a"]
    value_head: eqx.nn.Linear
    iterations: int = eqx.field(static=True)
    """Propagation rounds; 0: ``h·w // 2`` of the grid it is given, so one network runs on mazes of any side."""
    reads_maze_grid: ClassVar[bool] = True
    """It reads the maze's whole-grid observation (channels walls, agent, goal) and no other: configs check it."""
    any_side: ClassVar[bool] = True
    """No weight depends on the maze's side: trained on one side, the same network runs on any other."""

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, hidden: int = 16, iterations: int = 0, *,
                 key: PRNGKeyArray):
        if len(obs_shape) != 3 or obs_shape[0] != 3:
            raise ValueError(f"the vprop model needs whole-grid observations (3, height, width): "
                             f"use --obs-format grid (got shape {obs_shape})")
        if n_actions != len(NEIGHBOUR_OFFSETS) - 1:
            raise ValueError(f"the vprop model moves to the 4 neighbouring cells; got {n_actions} actions")
        k_embed, k_maps, k_v = jax.random.split(key, 3)
        self.iterations = iterations
        self.embed = eqx.nn.Conv2d(3 + 4, hidden, 3, padding=1, key=k_embed)
        maps = orthogonal_linear(hidden, 2, 1.0, key=k_maps)
        self.maps = eqx.tree_at(lambda lin: lin.bias, maps, jnp.array([REWARD_BIAS, PASSAGE_BIAS]))
        self.climb = jnp.array(1.0)
        self.action_bias = jnp.zeros(n_actions)
        self.value_head = orthogonal_linear(2, 1, 1.0, key=k_v)

    def activation_names(self) -> tuple[str, ...]:
        """Names of the activations ``capture=True`` returns and ``steer`` accepts."""
        return ("embed.hook_post", "hook_log_reward", "hook_log_passage", "hook_values", "hook_logits",
                "hook_value")

    def __call__(self, obs: Float[Array, "3 h w"], *, capture: bool = False, steer: Steer = None):
        check_steer(steer, self.activation_names())
        acts: dict[str, Array] = {}
        _, h, w = obs.shape
        x = jnp.concatenate([obs, jnp.asarray(edge_channels(h, w))])
        x = hook(acts, "embed.hook_post", jax.nn.relu(conv3x3(self.embed, x)), steer)
        map_logits = dense(self.maps, x.reshape(x.shape[0], -1).T).T.reshape(2, h, w)
        log_reward = hook(acts, "hook_log_reward", jax.nn.log_sigmoid(map_logits[0]), steer)
        log_passage = hook(acts, "hook_log_passage", jax.nn.log_sigmoid(map_logits[1]) - MIN_COST, steer)
        rounds = self.iterations or h * w // 2
        values = hook(acts, "hook_values", shortest_path_values(log_reward, log_passage, rounds), steer)
        near = around_agent(values, obs[1])
        logits = hook(acts, "hook_logits", self.climb * near[1:] + self.action_bias, steer)
        here = near[0]
        value = hook(acts, "hook_value", dense(self.value_head, jnp.stack([here, jnp.exp(here)]))[0], steer)
        return ((logits, value), acts) if capture else (logits, value)
