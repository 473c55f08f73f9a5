"""Maze solving as a supervised task: a perfect maze as an image in, the cells of the start-goal path out.

The first piece of the learned-search experiment (issue 14). A maze is drawn by the RL mazes' generator
(:func:`mesaopt.envs.maze_generation.generate_perfect_maze`, randomized Kruskal) at any odd side, one pixel per
grid cell. The image has three channels: open cell (1 where the cell is not a wall), start, goal. The target marks
every cell on the path from start to goal, which is unique in a perfect maze: the cells whose distance from the
start plus distance to the goal equals the start-goal distance. Start and goal are rooms (even row and column);
the goal is drawn anywhere, or, with ``goal_region = r``, among the rooms of the top-right r × r block of rooms
(the proxy-placement knob of the misgeneralization variant). Batches are drawn inside compiled code.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from mesaopt.envs.maze_generation import generate_perfect_maze, rooms_per_side
from mesaopt.errors import MesaoptError

UNREACHED = np.iinfo(np.int32).max // 2
"""Distance of a cell the search has not reached (large, and safe to add to another distance)."""


@dataclass(frozen=True)
class MazePathTask:
    """One distribution of maze-solving problems."""

    side: int = 9
    """Grid side in cells (odd, >= 5): (side + 1) / 2 rooms per side."""
    goal_region: int | None = None
    """None: the goal is any room; r: a room of the top-right r × r block of rooms (1 = the corner room)."""
    goal_outside_region: bool = False
    """With ``goal_region`` r: the goal (and the start) is a room *outside* that block instead (the shifted test of
    the misgeneralization variant, where goal and block no longer coincide)."""
    far_start_share: float = 0.0
    """Share of problems whose goal and start are the two ends of the maze's longest room-to-room path (only the
    start moves with a ``goal_region``: the room farthest from the goal) instead of uniform rooms: longer paths at
    the same side. Ignored with ``goal_outside_region``."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the allowed values."""
        if self.side < 5 or self.side % 2 == 0:
            raise MesaoptError(f"maze side must be an odd integer >= 5, got {self.side}")
        rooms = rooms_per_side(self.side)
        if self.goal_region is not None and not 1 <= self.goal_region <= rooms:
            raise MesaoptError(f"goal_region must be none or between 1 and {rooms} (rooms per side at side "
                               f"{self.side}), got {self.goal_region}")
        if not 0.0 <= self.far_start_share <= 1.0:
            raise MesaoptError(f"far_start_share must be between 0 and 1, got {self.far_start_share}")
        if self.goal_outside_region and (self.goal_region is None or self.goal_region >= rooms):
            raise MesaoptError(f"goal_outside_region needs a goal_region between 1 and {rooms - 1} at side "
                               f"{self.side} (some room must lie outside it), got {self.goal_region}")


class MazeBatch(NamedTuple):
    """A batch of maze-solving problems."""

    images: Float[Array, "b h w 3"]
    """Channels: open cell, start, goal (0 or 1)."""
    path: Bool[Array, "b h w"]
    """True on every cell of the start-goal path, both ends included."""


def bfs_distances(open_cells: Bool[Array, "h w"], source: Int[Array, "2"]) -> Int[Array, "h w"]:
    """Steps from ``source`` to every open cell through 4-neighbour moves (:data:`UNREACHED` where none leads).

    A breadth-first wavefront: each round every open cell takes one more than its nearest neighbour's distance;
    it stops when a round changes nothing (at most the number of open cells rounds).
    """
    dist = jnp.full(open_cells.shape, UNREACHED, jnp.int32).at[source[0], source[1]].set(0)

    def relax(state):
        dist, _ = state
        padded = jnp.pad(dist, 1, constant_values=UNREACHED)
        nearest = jnp.minimum(jnp.minimum(padded[:-2, 1:-1], padded[2:, 1:-1]),
                              jnp.minimum(padded[1:-1, :-2], padded[1:-1, 2:]))
        new = jnp.where(open_cells, jnp.minimum(dist, nearest + 1), UNREACHED)
        return new, jnp.any(new != dist)

    dist, _ = jax.lax.while_loop(lambda state: state[1], relax, (dist, jnp.array(True)))
    return dist


def path_cells(open_cells: Bool[Array, "h w"], start: Int[Array, "2"], goal: Int[Array, "2"]) -> Bool[Array, "h w"]:
    """The cells on a shortest start-goal path (in a perfect maze: the one path)."""
    from_start, from_goal = bfs_distances(open_cells, start), bfs_distances(open_cells, goal)
    return open_cells & (from_start + from_goal == from_start[goal[0], goal[1]])


def region_rooms(rooms: int, region) -> Bool[Array, " rooms*rooms"]:
    """Flat mask of the rooms in the top-right ``region`` × ``region`` block (``region`` may be traced)."""
    row, col = jnp.divmod(jnp.arange(rooms * rooms), rooms)
    return (row < region) & (col >= rooms - region)


def _goal_room(key, rooms: int, region, outside: bool = False) -> Int[Array, ""]:
    """Flat index of a uniformly drawn room: anywhere (``region`` None), in the top-right ``region`` × ``region``
    block, or (``outside``) anywhere but that block. ``region`` may be a traced integer."""
    if region is None:
        return jax.random.randint(key, (), 0, rooms * rooms)
    inside = region_rooms(rooms, region)
    return jax.random.categorical(key, jnp.where(inside != outside, 0.0, -jnp.inf))


def _cell(room: Int[Array, ""], rooms: int) -> Int[Array, "2"]:
    return 2 * jnp.stack([room // rooms, room % rooms])


def farthest_room(open_cells: Bool[Array, "h w"], source: Int[Array, "2"]) -> Int[Array, ""]:
    """Flat index of the room farthest from ``source`` along the maze (the first such room on ties)."""
    dist = bfs_distances(open_cells, source)[::2, ::2].reshape(-1)
    return jnp.argmax(jnp.where(dist < UNREACHED, dist, -1))


def _far_ends(key, task: MazePathTask, open_cells, goal_room, start_room) -> tuple[Array, Array]:
    """With probability ``task.far_start_share``: the goal moved to the room farthest from it (without a goal
    region) and the start to the room farthest from that goal: the two ends of the maze's longest room-to-room
    path (two sweeps find them in a tree). Otherwise the rooms as drawn."""
    rooms = rooms_per_side(task.side)
    far = jax.random.bernoulli(key, task.far_start_share)
    far_goal = goal_room if task.goal_region is not None else farthest_room(open_cells, _cell(goal_room, rooms))
    far_start = farthest_room(open_cells, _cell(far_goal, rooms))
    return jnp.where(far, far_goal, goal_room), jnp.where(far, far_start, start_room)


def sample_maze(key, task: MazePathTask) -> tuple[Float[Array, "h w 3"], Bool[Array, "h w"]]:
    """One problem: ``(image (h, w, 3), path (h, w))``. The start is a uniform room other than the goal (with
    ``goal_outside_region``, also outside the block: the proxy is not reached before the search starts)."""
    k_maze, k_goal, k_start = jax.random.split(key, 3)
    rooms = rooms_per_side(task.side)
    open_cells = ~generate_perfect_maze(k_maze, task.side)
    goal_room = _goal_room(k_goal, rooms, task.goal_region, task.goal_outside_region)
    if task.goal_outside_region:
        allowed = ~region_rooms(rooms, task.goal_region) & (jnp.arange(rooms * rooms) != goal_room)
        start_room = jax.random.categorical(k_start, jnp.where(allowed, 0.0, -jnp.inf))
    else:
        other = jax.random.randint(k_start, (), 0, rooms * rooms - 1)
        start_room = other + (other >= goal_room)
        if task.far_start_share > 0:  # its own key (fold_in), so the draws above stay those of share 0
            goal_room, start_room = _far_ends(jax.random.fold_in(key, 1), task, open_cells, goal_room, start_room)
    start, goal = _cell(start_room, rooms), _cell(goal_room, rooms)
    start_mark = jnp.zeros(open_cells.shape).at[start[0], start[1]].set(1.0)
    goal_mark = jnp.zeros(open_cells.shape).at[goal[0], goal[1]].set(1.0)
    image = jnp.stack([open_cells.astype(jnp.float32), start_mark, goal_mark], axis=-1)
    return image, path_cells(open_cells, start, goal)


def sample_maze_batch(key, task: MazePathTask, batch_size: int) -> MazeBatch:
    """``batch_size`` independent problems (jit- and vmap-friendly; the task is static)."""
    images, paths = jax.vmap(lambda k: sample_maze(k, task))(jax.random.split(key, batch_size))
    return MazeBatch(images=images, path=paths)


draw_maze_batch = jax.jit(sample_maze_batch, static_argnums=(1, 2))
""":func:`sample_maze_batch` compiled once per (task, batch size): for drawing test sets outside compiled code (the
maze generator run op by op is ~100x slower). The task must be concrete (no traced goal region)."""


def place_on_canvas(batch: MazeBatch, canvas: int, key) -> MazeBatch:
    """Pad each maze of ``batch`` with walls to ``canvas`` × ``canvas``, at a random even (row, column) offset
    per maze (rooms stay on even coordinates); the padding is closed, so the maze is the same problem."""
    pad = canvas - batch.images.shape[1]
    if pad < 0 or pad % 2:
        raise ValueError(f"canvas {canvas} must be >= the maze side {batch.images.shape[1]}, with an even difference")
    images = jnp.pad(batch.images, ((0, 0), (0, pad), (0, pad), (0, 0)))
    path = jnp.pad(batch.path, ((0, 0), (0, pad), (0, pad)))
    if pad == 0:
        return MazeBatch(images, path)
    offsets = 2 * jax.random.randint(key, (images.shape[0], 2), 0, pad // 2 + 1)

    def shift(image, cells, offset):
        return jnp.roll(image, offset, axis=(0, 1)), jnp.roll(cells, offset, axis=(0, 1))

    return MazeBatch(*jax.vmap(shift)(images, path, offsets))


def sample_mixed_side_batch(key, sides: tuple[int, ...], per_side: int, goal_region: int | None = None,
                            far_start_share: float = 0.0) -> MazeBatch:
    """``per_side`` problems of every side in ``sides``, each placed on a canvas of the largest side
    (:func:`place_on_canvas`): one batch in which no rule can depend on the maze's size or position.
    ``goal_region`` (may be traced) is capped at each side's rooms per side; ``far_start_share`` as in
    :class:`MazePathTask`."""
    canvas = max(sides)
    parts = []
    for i, side in enumerate(sides):
        k_maze, k_place = jax.random.split(jax.random.fold_in(key, i))
        region = None if goal_region is None else jnp.minimum(goal_region, rooms_per_side(side))
        task = MazePathTask(side, region, far_start_share=far_start_share)
        parts.append(place_on_canvas(sample_maze_batch(k_maze, task, per_side), canvas, k_place))
    return MazeBatch(*(jnp.concatenate(field) for field in zip(*parts)))


def move_goal(image: Float[Array, "h w 3"], key) -> tuple[Float[Array, "h w 3"], Bool[Array, "h w"]]:
    """The same maze and start with the goal marker moved to a uniformly drawn other room (not the start): the
    new image and the new path (the retargeting test)."""
    rooms = rooms_per_side(image.shape[0])
    marked = (image[..., 1] + image[..., 2])[::2, ::2].reshape(-1) > 0.5
    room = jax.random.categorical(key, jnp.where(marked, -jnp.inf, 0.0))
    goal = _cell(room, rooms)
    goal_mark = jnp.zeros(image.shape[:2]).at[goal[0], goal[1]].set(1.0)
    start_flat = jnp.argmax(image[..., 1].reshape(-1))
    start = jnp.stack([start_flat // image.shape[1], start_flat % image.shape[1]])
    open_cells = image[..., 0] > 0.5
    return image.at[..., 2].set(goal_mark), path_cells(open_cells, start, goal)


@functools.partial(jax.jit, static_argnames=("side", "n", "shifted"))
def sample_corner_mazes(key, side: int, n: int, shifted: bool = False):
    """``n`` mazes for navigation programs: ``(open cells [n, h, w], start [n, 2], goal [n, 2])``. The start is the
    bottom-left (SW) room; the goal the top-right (NE) room, or (``shifted``) a uniform room that is neither: the
    test where the goal and the NE corner no longer coincide."""
    rooms = rooms_per_side(side)
    k_mazes, k_goals = jax.random.split(key)
    open_cells = ~jax.vmap(lambda k: generate_perfect_maze(k, side))(jax.random.split(k_mazes, n))
    start = jnp.tile(jnp.array([side - 1, 0], jnp.int32), (n, 1))
    ne_room, sw_room = rooms - 1, (rooms - 1) * rooms
    if shifted:
        others = jnp.ones(rooms * rooms, bool).at[ne_room].set(False).at[sw_room].set(False)
        rooms_drawn = jax.random.categorical(k_goals, jnp.where(others, 0.0, -jnp.inf), shape=(n,))
    else:
        rooms_drawn = jnp.full((n,), ne_room)
    goal = jax.vmap(lambda r: _cell(r, rooms))(rooms_drawn).astype(jnp.int32)
    return open_cells, start, goal


def distinct_problems(side: int) -> float:
    """How many distinct problems (maze layout, start, goal) a side has: the spanning trees of the rooms' grid
    graph (Kirchhoff's matrix-tree theorem: the determinant of the reduced Laplacian) times the ordered (start,
    goal) pairs of distinct rooms. A float: the count passes 2^53 from side 13."""
    rooms = rooms_per_side(side)
    n = rooms * rooms
    laplacian = np.zeros((n, n))
    for r in range(rooms):
        for c in range(rooms):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < rooms and c + dc < rooms:
                    a, b = r * rooms + c, (r + dr) * rooms + c + dc
                    laplacian[a, a] += 1
                    laplacian[b, b] += 1
                    laplacian[a, b] = laplacian[b, a] = -1
    sign, logdet = np.linalg.slogdet(laplacian[1:, 1:])
    return float(np.round(np.exp(logdet))) * n * (n - 1)


def sample_pool_batch(pool_key, pool_size, key, task: MazePathTask, batch_size: int) -> MazeBatch:
    """``batch_size`` problems drawn uniformly (with replacement) from a pool of ``pool_size`` (may be traced):
    problem i is :func:`sample_maze` at ``fold_in(pool_key, i)``, so a pool costs no memory and a pool of 2^31 - 1
    is a fresh problem per example."""
    index = jax.random.randint(key, (batch_size,), 0, pool_size)
    images, paths = jax.vmap(lambda i: sample_maze(jax.random.fold_in(pool_key, i), task))(index)
    return MazeBatch(images=images, path=paths)
