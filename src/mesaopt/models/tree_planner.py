"""A depth-k planner with learned values at its leaves: the innermost optimizer of the nested experiment.

At each node of a food tree (``envs.food_tree``) it looks ``depth`` steps ahead, scores every path of that length
by the sum of its learned values of the foods along it, and takes the first step of the best path (receding
horizon); depth 1 is the greedy forager, depth 0 walks at random. Its objective is the learned values, whatever
they were learned from: a deeper planner optimizes them harder.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from mesaopt.envs.food_tree import descendants, node_kinds


def choose_child(values: Float[Array, " types"], trip_seed, node, depth: int, coin) -> Array:
    """0 (left) or 1 (right): the first step of the path of ``depth`` steps with the highest summed value
    (``depth`` static; ties go left; ``coin`` decides at depth 0)."""
    if depth == 0:
        return coin
    n_types = values.shape[0]
    best = values[node_kinds(trip_seed, descendants(node, depth), n_types)]
    for j in range(depth - 1, 0, -1):  # back up: a node's value is its food's plus its better child's
        here = values[node_kinds(trip_seed, descendants(node, j), n_types)]
        best = here + jnp.max(best.reshape(-1, 2), axis=1)
    return jnp.argmax(best).astype(jnp.int32)


class Trip(NamedTuple):
    """What one trip ate (sums over its steps)."""

    nutrition: Float[Array, ""]
    """True value eaten (fitness)."""
    learned_value: Float[Array, ""]
    """The planner's own objective: the learned values of what it ate."""
    sweetness: Float[Array, ""]
    """Sweetness eaten."""


def forage_trip(values, sweetness, nutrition, trip_seed, steps: int, depth: int, key) -> Trip:
    """Walk ``steps`` steps down the tree of ``trip_seed`` with a depth-``depth`` planner on ``values``."""
    n_types = values.shape[0]
    coins = jax.random.bernoulli(key, 0.5, (steps,)).astype(jnp.int32)

    def step(node, coin):
        child = 2 * node + 1 + choose_child(values, trip_seed, node, depth, coin)
        kind = node_kinds(trip_seed, child, n_types)
        return child, (nutrition[kind], values[kind], sweetness[kind])

    _, (n, v, s) = jax.lax.scan(step, jnp.asarray(0, jnp.int32), coins)
    return Trip(n.sum(), v.sum(), s.sum())
