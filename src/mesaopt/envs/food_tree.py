"""A foraging trip down an endless binary tree of food, for the nested-optimizers experiment.

Every node of the tree holds one kind of food of a foraging world (``envs.foraging``); the forager starts at the
root and at every step walks to one of the two children and eats what is there. Nodes are numbered as in a heap
(root 0, children ``2i + 1`` and ``2i + 2``), so the descendants of node i at j levels below it are the ``2^j``
consecutive numbers from ``(i + 1) 2^j - 1``; the kind at a node is a hash of the trip's seed and the node's
number, so a tree of any depth costs nothing to store and a planner can look ahead as far as it likes.
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Int

from mesaopt.envs.foraging import uniform_below


def _mix(x: Array) -> Array:
    """A 32-bit integer hash (xor-shift-multiply; every output bit depends on every input bit)."""
    x = x ^ (x >> 16)
    x = x * jnp.uint32(0x7FEB352D)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x846CA68B)
    return x ^ (x >> 16)


def node_kinds(trip_seed: Array, nodes: Int[Array, "..."], n_types: int) -> Int[Array, "..."]:
    """The kind of food at each of ``nodes`` on the trip with seed ``trip_seed`` (a uint32)."""
    words = _mix(nodes.astype(jnp.uint32) * jnp.uint32(0x9E3779B1) ^ _mix(trip_seed.astype(jnp.uint32)))
    return uniform_below(words, n_types)


def descendants(node: Array, levels_down: int) -> Int[Array, " width"]:
    """The ``2^levels_down`` descendants of ``node`` that many levels below it, left to right."""
    width = 2**levels_down
    return (node + 1) * width - 1 + jnp.arange(width)
