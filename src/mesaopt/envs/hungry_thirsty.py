"""The hungry-thirsty gridworld (after Singh, Lewis & Barto 2009, "Where do rewards come from?").

An open ``side`` × ``side`` room; food and water lie in two different corners, drawn per lifetime. The agent is
hungry or not and thirsty or not. Moves are up / down / left / right (walking into the edge stays put), and ``eat`` /
``drink``: drinking at the water quenches thirst; eating at the food works only when not thirsty, and then the
agent is sated for that step (fitness counts these meals) and hungry again on the next. A quenched agent becomes
thirsty again with probability ``thirst_rate`` per step. Fitness is the number of meals in a lifetime; drinking
counts for nothing by itself, which is why a learner rewarded by fitness alone learns slowly: nothing tells it
that water matters until it has stumbled on eating after drinking.

The environment is pure JAX with integer states, so a lifetime of tabular Q-learning is one ``scan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp

from mesaopt.errors import MesaoptError

MOVES = jnp.array([[-1, 0], [1, 0], [0, -1], [0, 1]])
"""Row and column change of the four moves (up, down, left, right)."""
EAT, DRINK = 4, 5
"""The two non-move actions."""
N_ACTIONS = 6
"""Up, down, left, right, eat, drink."""


@dataclass(frozen=True)
class HungryThirstyTask:
    """The room and the body."""

    side: int = 4
    """Cells per side of the room (>= 2)."""
    thirst_rate: float = 0.1
    """Chance per step that a quenched agent becomes thirsty again (0 <= p <= 1)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the allowed values."""
        if self.side < 2:
            raise MesaoptError(f"side must be >= 2 (food and water need two corners), got {self.side}")
        if not 0.0 <= self.thirst_rate <= 1.0:
            raise MesaoptError(f"thirst_rate must be between 0 and 1, got {self.thirst_rate!r}")

    @property
    def n_states(self) -> int:
        """Positions × hungry × thirsty."""
        return self.side * self.side * 4


class Layout(NamedTuple):
    """Where food and water are in one lifetime (flat cell indices)."""

    food: jax.Array
    water: jax.Array


class Body(NamedTuple):
    """The agent's position and internal state."""

    cell: jax.Array
    """Flat cell index."""
    hungry: jax.Array
    """Bool."""
    thirsty: jax.Array
    """Bool."""


def sample_layout(key, task: HungryThirstyTask) -> Layout:
    """Food and water in two different corners."""
    last = task.side - 1
    corners = jnp.array([0, last, last * task.side, last * task.side + last])
    order = jax.random.permutation(key, 4)
    return Layout(corners[order[0]], corners[order[1]])


def state_index(body: Body, task: HungryThirstyTask) -> jax.Array:
    """The tabular state: cell, hungry and thirsty in one integer."""
    return body.cell * 4 + 2 * body.hungry.astype(jnp.int32) + body.thirsty.astype(jnp.int32)


def step_body(body: Body, action, layout: Layout, task: HungryThirstyTask, key) -> tuple[Body, jax.Array]:
    """One step: ``(next body, ate)``; ``ate`` is the fitness of the step (1 for a meal)."""
    row, col = body.cell // task.side, body.cell % task.side
    move = MOVES[jnp.minimum(action, 3)]
    new_row = jnp.clip(row + move[0], 0, task.side - 1)
    new_col = jnp.clip(col + move[1], 0, task.side - 1)
    cell = jnp.where(action < 4, new_row * task.side + new_col, body.cell)
    drank = (action == DRINK) & (body.cell == layout.water)
    ate = (action == EAT) & (body.cell == layout.food) & ~body.thirsty
    thirst_returns = jax.random.uniform(key) < task.thirst_rate
    thirsty = jnp.where(drank, False, body.thirsty | thirst_returns)
    return Body(cell, ~ate, thirsty), ate.astype(jnp.float32)


def start_body(key, task: HungryThirstyTask) -> Body:
    """A hungry, thirsty agent in a uniform cell."""
    cell = jax.random.randint(key, (), 0, task.side * task.side)
    return Body(cell, jnp.asarray(True), jnp.asarray(True))
