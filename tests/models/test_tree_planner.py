"""The depth-k tree planner against brute-force enumeration of paths, and the food tree's numbering."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.envs.food_tree import descendants, node_kinds
from mesaopt.models.tree_planner import choose_child, forage_trip

VALUES = jnp.array([0.0, 3.0, -1.0, 5.0, 2.0, 1.0])


def _best_path_first_step(seed, node, depth):
    best, first = -np.inf, None
    for path in itertools.product((0, 1), repeat=depth):
        total, here = 0.0, node
        for step in path:
            here = 2 * here + 1 + step
            total += float(VALUES[node_kinds(seed, jnp.asarray(here), len(VALUES))])
        if total > best:
            best, first = total, path[0]
    return first


def test_the_planner_takes_the_first_step_of_the_best_path():
    for trip in range(4):
        seed = jnp.uint32(trip)
        for node, depth in ((0, 1), (3, 2), (10, 4)):
            got = int(choose_child(VALUES, seed, jnp.asarray(node), depth, jnp.asarray(0)))
            assert got == _best_path_first_step(seed, node, depth), (trip, node, depth)


def test_descendants_are_heap_numbered_and_kinds_look_uniform():
    assert descendants(jnp.asarray(0), 2).tolist() == [3, 4, 5, 6]
    assert descendants(jnp.asarray(2), 1).tolist() == [5, 6]
    counts = np.bincount(np.asarray(node_kinds(jnp.uint32(9), jnp.arange(60_000), 6)), minlength=6)
    assert counts.min() > 9_500 and counts.max() < 10_500


def test_deeper_planners_collect_more_of_their_objective_and_depth_zero_walks_at_random():
    def collected(depth):
        trip = jax.vmap(lambda s, k: forage_trip(VALUES, VALUES * 0, VALUES, s, 6, depth, k))
        return float(jnp.mean(trip(jnp.arange(200, dtype=jnp.uint32), jax.random.split(jax.random.key(0), 200))
                              .learned_value))

    random, greedy, deep = collected(0), collected(1), collected(4)
    assert random < greedy < deep
    assert abs(random / 6 - float(VALUES.mean())) < 0.2
