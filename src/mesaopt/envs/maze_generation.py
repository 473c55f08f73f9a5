"""Maze layouts generated inside JAX.

A layout is a boolean wall grid of odd side ``size``. Rooms sit at even (row, col) coordinates; the cells
between two horizontally or vertically adjacent rooms are passages or walls; cells at odd/odd coordinates are
always walls. There is no outer border: the grid edge is the maze edge (as in procgen's maze).

A *perfect* maze is a spanning tree over rooms: every room is reachable and there is exactly one path between
any two rooms. It is drawn with randomized Kruskal: shuffle the candidate passages, open each one that joins
two different components. Components are tracked as a label per room and merged by relabelling (no
union-find ``while`` loops), so generation is a fixed-length ``scan`` that vmaps cleanly.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Int, PRNGKeyArray

MAX_UNROLL = 32
"""Kruskal steps unrolled per loop iteration: all of them for mazes up to 9×9 (fast), bounded above (compile time)."""


def rooms_per_side(size: int) -> int:
    """Number of rooms along one side of a ``size`` × ``size`` grid."""
    return (size + 1) // 2


def candidate_passages(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Room pairs that may be joined, and the grid cell of the passage between them.

    Returns ``(pairs, cells)``: ``pairs[e] = (room_a, room_b)`` as flat room indices and ``cells[e] = (row, col)``
    of the wall cell that opens when edge ``e`` is kept. Static NumPy, computed at trace time.
    """
    n = rooms_per_side(size)
    pairs, cells = [], []
    for i in range(n):
        for j in range(n):
            if j + 1 < n:
                pairs.append((i * n + j, i * n + j + 1))
                cells.append((2 * i, 2 * j + 1))
            if i + 1 < n:
                pairs.append((i * n + j, (i + 1) * n + j))
                cells.append((2 * i + 1, 2 * j))
    return np.asarray(pairs, dtype=np.int32).reshape(-1, 2), np.asarray(cells, dtype=np.int32).reshape(-1, 2)


def room_mask(size: int) -> np.ndarray:
    """Boolean ``size`` × ``size`` grid, True on room cells (even row and even column)."""
    idx = np.arange(size)
    return (idx[:, None] % 2 == 0) & (idx[None, :] % 2 == 0)


def _kruskal_step(labels: Array, endpoints: tuple[Array, Array]) -> tuple[Array, Array]:
    """Open the passage with one-hot endpoints ``(a, b)`` if it joins two components; merge by relabelling."""
    onehot_a, onehot_b = endpoints
    la, lb = jnp.sum(labels * onehot_a), jnp.sum(labels * onehot_b)
    joins = la != lb
    labels = jnp.where(joins & (labels == lb), la, labels)
    return labels, joins


def ranks_of_words(words: Array) -> Int[Array, " n"]:
    """Each of ``n`` random 32-bit words' rank among them (ties broken by index): a uniformly random permutation.

    Computed by pairwise comparison instead of a sort: XLA's CPU sort under ``vmap`` is ~15x slower than this for
    the few dozen items a maze has (measured in benchmarks/bench_envs.py's history). The index tiebreak makes the
    ranks a permutation always.
    """
    idx = jnp.arange(words.shape[0])
    before = (words[None, :] < words[:, None]) | ((words[None, :] == words[:, None]) & (idx[None, :] < idx[:, None]))
    return jnp.sum(before, axis=1)


def generate_perfect_maze(key: PRNGKeyArray, size: int) -> Bool[Array, "h w"]:
    """Draw a randomized-Kruskal perfect maze (uniform random passage order); True marks a wall."""
    return perfect_maze_from_words(jax.random.bits(key, (layout_words("perfect", size),), jnp.uint32), size)


def perfect_maze_from_words(words: Array, size: int) -> Bool[Array, "h w"]:
    """The perfect maze that one random 32-bit word per candidate passage (their ranks: the Kruskal order) gives.

    Everything is comparisons against static index vectors (no sort, gather, scatter or integer matmul: these
    are slow per element on XLA CPU under ``vmap``, and a fresh maze per episode makes generation a hot path),
    and the Kruskal scan is unrolled (its steps are tiny; the loop overhead dominated): 2.3x faster than the
    one-hot integer matmuls it replaced (batch 2048, 7×7), with the same mazes for the same keys.
    """
    pairs, cells = candidate_passages(size)
    n_rooms = rooms_per_side(size) ** 2
    walls = ~jnp.asarray(room_mask(size))
    if len(pairs) == 0:
        return walls
    n_edges = len(pairs)
    order = (ranks_of_words(words)[None, :] == jnp.arange(n_edges)[:, None]).astype(jnp.int32)  # [step, edge]

    def per_step(edge_values: np.ndarray) -> Array:
        """``edge_values`` (static, one per edge) in the random order: entry s belongs to the s-th edge tried."""
        return jnp.sum(order * jnp.asarray(edge_values, jnp.int32)[None, :], axis=1)

    rooms = jnp.arange(n_rooms)
    onehot_a = (per_step(pairs[:, 0])[:, None] == rooms).astype(jnp.int32)
    onehot_b = (per_step(pairs[:, 1])[:, None] == rooms).astype(jnp.int32)
    _, opened_by_step = jax.lax.scan(_kruskal_step, rooms, (onehot_a, onehot_b), unroll=min(n_edges, MAX_UNROLL))
    step_cell = per_step(cells[:, 0] * size + cells[:, 1])
    opened_cells = opened_by_step[:, None] & (step_cell[:, None] == jnp.arange(size * size)[None, :])
    return walls & ~jnp.any(opened_cells, axis=0).reshape(size, size)


def open_room_from_words(words: Array, size: int) -> Bool[Array, "h w"]:
    """An empty room: no walls at all (it consumes no words)."""
    del words
    return jnp.zeros((size, size), bool)


def generate_open_room(key: PRNGKeyArray, size: int) -> Bool[Array, "h w"]:
    """An empty room (the key is unused but kept for a uniform signature)."""
    del key
    return open_room_from_words(None, size)


GENERATORS = {"perfect": generate_perfect_maze, "open": generate_open_room}

FROM_WORDS = {"perfect": perfect_maze_from_words, "open": open_room_from_words}
"""Each generator as a function of its random words (``layout_words`` of them); the same layouts as the key-based
``GENERATORS`` give when the words are ``jax.random.bits(key, (layout_words(name, size),), jnp.uint32)``."""


def layout_words(generator: str, size: int) -> int:
    """Random 32-bit words one ``generator`` layout consumes: one per candidate passage, none for an open room."""
    return len(candidate_passages(size)[0]) if generator == "perfect" else 0


def count_passages(walls: Bool[Array, "h w"]) -> Int[Array, ""]:
    """Number of open passage cells (cells between two rooms that are not walls)."""
    size = walls.shape[0]
    _, cells = candidate_passages(size)
    if len(cells) == 0:
        return jnp.asarray(0)
    return jnp.sum(~walls[cells[:, 0], cells[:, 1]])
