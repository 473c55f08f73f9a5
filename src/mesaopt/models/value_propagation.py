"""A learned planner as an actor-critic: value propagation (Nardelli et al. 2019, "Value Propagation Networks";
after Tamar et al.'s 2016 value-iteration networks), computed in log space.

From the maze's walls and goal and four edge channels (:func:`edge_channels`) — not from where the agent stands —
a small convolution computes per cell a *log-reward* ``ρ ≤ 0`` — the planner's objective, readable directly — and a
*log-passage* ``λ ≤ 0``, the cost of going through an open cell (walls cannot be passed). Then, ``iterations``
times, every cell takes the larger of what it has and what its best neighbour offers minus its own cost::

    u ← max(u, λ + max_neighbours(u)),   u⁰ = ρ

so after enough rounds ``u`` at a cell is the best ``ρ`` of any cell minus the costs of the cheapest path there:
a shortest-path search toward what the reward map marks. The policy climbs ``u``: its logit for a move is ``u`` of
the cell the move leads to (its own cell when a wall or the edge blocks it), times a learned scale of at least
``MIN_CLIMB``, plus a per-action bias. The critic is ``exp(u)`` at the agent: ``u`` is the log of the expected
discounted return, so the reward map is trained toward the log of what reaching a cell pays and each step's cost
toward the discount's. What the agent pursues is what its reward map marks — the goal channel, or a place (the edge
channels let it mark the top-right corner): a mesa-objective one can read off.

What is built in rather than learned — the maze's moves (walls are impassable, a blocked move stays put, a wall
is never rewarded), a map that does not see the agent, a climb that cannot be switched off, and the critic as the
exponential of ``u`` — each closed a way around the planner that PPO found (docs/mazes.md, "the planner, revised");
together they made planners trained on 7×7 mazes reliable on 13×13 ones.

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

NEIGHBOUR_MOVES = ((-1, 0), (0, 1), (1, 0), (0, -1))
"""(d_row, d_col) of the four moves: up, right, down, left (the maze's action order, ``envs.maze.ACTION_DELTAS``)."""
REWARD_BIAS, PASSAGE_BIAS = -2.0, 2.0
"""Initial biases of the reward and passage logits: log-reward −2.1 and passage cost 0.13 everywhere."""
MIN_COST = 1e-3
"""Subtracted from every log-passage: going through a cell always costs something, so values strictly fall along
every chain of best neighbours (no float ties, no cycles in the gradient's tree)."""
OFF_GRID = -50.0
"""The log-value of a cell outside the grid, and the log-reward of a wall: neither is ever a source."""
MIN_CLIMB = 1.0
"""The least scale of the policy's climb: the policy cannot switch its planner off and act on biases alone."""
WALL_PASSAGE = -1e4
"""The log-passage of a wall: no path goes through one."""
MAP_CHANNELS = (0, 2)
"""The observation channels the maps read: walls and goal (not the agent's position, channel 1)."""


def propagate(log_reward: Float[Array, "h w"], log_passage: Float[Array, "h w"], iterations: int
              ) -> Float[Array, "h w"]:
    """``iterations`` rounds of ``u ← max(u, λ + max_neighbours(u))`` from ``u = ρ`` (module docstring).
    Differentiated by reverse-mode autodiff through every round; :func:`shortest_path_values` is the same map with
    a cheap gradient."""

    def one_round(_, u):
        return jnp.maximum(u, log_passage + best_neighbour(u)[0])

    return jax.lax.fori_loop(0, iterations, one_round, log_reward)


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


def move_values(u: Float[Array, "h w"], walls: Float[Array, "h w"], agent: Float[Array, "h w"]
                ) -> tuple[Float[Array, ""], Float[Array, "4"]]:
    """``u`` at the agent's cell, and ``u`` of the cell each move (``NEIGHBOUR_MOVES``) leads to: the agent's own
    cell when a wall or the grid's edge blocks the move, as in the maze."""

    def at_agent(grid, dr, dc, fill):
        return jnp.sum(shift_grid(grid, dr, dc, fill) * agent)

    here = at_agent(u, 0, 0, OFF_GRID)
    ahead = jnp.stack([at_agent(u, dr, dc, OFF_GRID) for dr, dc in NEIGHBOUR_MOVES])
    blocked = jnp.stack([at_agent(walls, dr, dc, 1.0) for dr, dc in NEIGHBOUR_MOVES]) > 0.5
    return here, jnp.where(blocked, here, ahead)


class ValuePropagationActorCritic(eqx.Module):
    """A shortest-path planner toward a learned reward map, over the whole-grid observation (channels walls,
    agent, goal): see the module docstring."""

    embed: eqx.nn.Conv2d
    maps: eqx.nn.Linear
    log_climb: Float[Array, ""]
    """Policy logits = (MIN_CLIMB + exp(log_climb)) · u of the cell each move leads to (plus ``action_bias``)."""
    action_bias: Float[Array, " a"]
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
        if n_actions != len(NEIGHBOUR_MOVES):
            raise ValueError(f"the vprop model moves to the 4 neighbouring cells; got {n_actions} actions")
        k_embed, k_maps = jax.random.split(key)
        self.iterations = iterations
        self.embed = eqx.nn.Conv2d(len(MAP_CHANNELS) + 4, hidden, 3, padding=1, key=k_embed)
        maps = orthogonal_linear(hidden, 2, 1.0, key=k_maps)
        self.maps = eqx.tree_at(lambda lin: lin.bias, maps, jnp.array([REWARD_BIAS, PASSAGE_BIAS]))
        self.log_climb = jnp.array(0.0)
        self.action_bias = jnp.zeros(n_actions)

    def activation_names(self) -> tuple[str, ...]:
        """Names of the activations ``capture=True`` returns and ``steer`` accepts."""
        return ("embed.hook_post", "hook_log_reward", "hook_log_passage", "hook_values", "hook_logits",
                "hook_value")

    def __call__(self, obs: Float[Array, "3 h w"], *, capture: bool = False, steer: Steer = None):
        check_steer(steer, self.activation_names())
        acts: dict[str, Array] = {}
        _, h, w = obs.shape
        x = jnp.concatenate([obs[jnp.array(MAP_CHANNELS)], jnp.asarray(edge_channels(h, w))])
        x = hook(acts, "embed.hook_post", jax.nn.relu(conv3x3(self.embed, x)), steer)
        map_logits = dense(self.maps, x.reshape(x.shape[0], -1).T).T.reshape(2, h, w)
        walls = obs[0]
        log_reward = jnp.where(walls > 0.5, OFF_GRID, jax.nn.log_sigmoid(map_logits[0]))
        log_reward = hook(acts, "hook_log_reward", log_reward, steer)
        log_passage = jnp.where(walls > 0.5, WALL_PASSAGE, jax.nn.log_sigmoid(map_logits[1]) - MIN_COST)
        log_passage = hook(acts, "hook_log_passage", log_passage, steer)
        rounds = self.iterations or h * w // 2
        values = hook(acts, "hook_values", shortest_path_values(log_reward, log_passage, rounds), steer)
        here, ahead = move_values(values, walls, obs[1])
        logits = hook(acts, "hook_logits", (MIN_CLIMB + jnp.exp(self.log_climb)) * ahead + self.action_bias, steer)
        value = hook(acts, "hook_value", jnp.exp(here), steer)
        return ((logits, value), acts) if capture else (logits, value)
