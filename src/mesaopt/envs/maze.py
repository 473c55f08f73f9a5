"""A functional gridworld maze with a goal, a proxy region and train/deploy distributions as ``params``.

The grid is ``size`` × ``size`` (odd). Row 0 is the top; the *top-right corner* is ``(0, size - 1)``. The agent
moves up/right/down/left; moving into a wall or off the grid leaves it in place. Reaching the goal gives reward 1
and terminates the episode; an episode is truncated after ``params.max_steps`` steps.

Everything that can vary between a training and a deployment distribution is an array in :class:`MazeParams`
(where the goal may be placed, where the agent may start, which cells are the proxy, an optional fixed pool of
layouts), so a distribution shift is a second ``MazeParams`` value and a sweep is a ``vmap`` over params.
``MazeParams`` and its builders live in :mod:`mesaopt.envs.regions` (below this module, so neither imports the
other in a circle) and are re-exported here.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from mesaopt.envs.maze_generation import FROM_WORDS, GENERATORS, layout_words, room_mask
from mesaopt.envs.regions import MazeParams, make_params

# (d_row, d_col) for actions 0..3
ACTION_DELTAS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int32)
ACTION_NAMES = ("up", "right", "down", "left")
OBS_FORMATS = ("grid", "flat", "egocentric")
INFO_KEYS = ("agent_pos", "goal_pos", "proxy_pos", "at_goal", "in_proxy")
MAX_MATMUL_CELLS = 256
"""Grids up to this many cells draw cells with a triangular matmul (fast under vmap), larger ones with cumsum."""


class MazeState(eqx.Module):
    """One episode's state."""

    walls: Bool[Array, "h w"]
    """Layout, True = wall."""
    agent_pos: Int[Array, 2]
    """Agent (row, col)."""
    goal_pos: Int[Array, 2]
    """Goal (row, col)."""
    time: Int[Array, ""]
    """Steps taken in this episode."""


class Level(eqx.Module):
    """A fully specified level: layout, start and goal. Used for fixed-level resets, ASCII and tests."""

    walls: Bool[Array, "h w"]
    agent_pos: Int[Array, 2]
    goal_pos: Int[Array, 2]


def _cell_from_word(word: Array, allowed: Bool[Array, "h w"]) -> Int[Array, 2]:
    """The cell that a random 32-bit ``word`` picks among ``allowed`` (falls back to (0, 0) if none; params
    validation prevents that).

    ``rank = word % count`` (a bias of at most count / 2^32, below 1e-7 for grids up to 65 x 65); the cell is the
    first whose running count of allowed cells exceeds it. The running count is a float matmul with a static
    triangular matrix (exact below 2^24 cells): on XLA CPU under ``vmap`` that is cheaper than ``cumsum``, which
    in turn is ~3x cheaper than a Gumbel ``categorical`` over the cells.
    """
    flat = allowed.ravel()
    count = jnp.maximum(flat.sum(dtype=jnp.int32), 1).astype(jnp.uint32)
    rank = (word % count).astype(jnp.int32)
    if flat.size <= MAX_MATMUL_CELLS:
        running = flat.astype(jnp.float32) @ jnp.asarray(np.triu(np.ones((flat.size, flat.size), np.float32)))
        idx = jnp.sum(running <= rank.astype(jnp.float32), dtype=jnp.int32)
    else:  # the triangular matrix would be large
        idx = jnp.sum(jnp.cumsum(flat, dtype=jnp.int32) <= rank, dtype=jnp.int32)
    idx = jnp.where(idx < flat.size, idx, 0)  # no allowed cell at all
    size = allowed.shape[1]
    return jnp.stack([idx // size, idx % size]).astype(jnp.int32)


class Maze(eqx.Module):
    """Maze environment. ``size`` (odd), ``generator`` and ``obs_format`` fix shapes and are static."""

    size: int = eqx.field(static=True, default=7)
    generator: str = eqx.field(static=True, default="perfect")
    obs_format: str = eqx.field(static=True, default="grid")

    def __check_init__(self):
        if not isinstance(self.size, int) or self.size < 3 or self.size % 2 == 0:
            raise ValueError(f"maze size must be an odd integer >= 3, got {self.size!r}")
        if self.generator not in GENERATORS:
            raise ValueError(f"unknown maze generator {self.generator!r}; allowed: {sorted(GENERATORS)}")
        if self.obs_format not in OBS_FORMATS:
            raise ValueError(f"unknown obs_format {self.obs_format!r}; allowed: {list(OBS_FORMATS)}")

    @property
    def num_actions(self) -> int:
        return 4

    @property
    def obs_shape(self) -> tuple[int, ...]:
        if self.obs_format == "egocentric":
            return (3, 2 * self.size - 1, 2 * self.size - 1)
        grid = (3, self.size, self.size)
        return grid if self.obs_format == "grid" else (int(np.prod(grid)),)

    def default_params(self, **kwargs) -> MazeParams:
        """Goal anywhere, start anywhere, proxy = the top-right corner cell, fresh layouts."""
        kwargs.setdefault("open_cells", self.open_cells())
        return make_params(self.size, **kwargs)

    def generate_layout(self, key: PRNGKeyArray, params: MazeParams) -> Bool[Array, "h w"]:
        """A fresh layout, or one drawn from the pool when ``params.use_pool``."""
        n = layout_words(self.generator, self.size)
        return self._layout(jax.random.bits(key, (n + 1,), jnp.uint32), params)

    def _layout(self, words: Array, params: MazeParams) -> Bool[Array, "h w"]:
        """The layout ``layout_words + 1`` random words pick: the generator's words, then the pool index."""
        n = layout_words(self.generator, self.size)
        fresh = FROM_WORDS[self.generator](words[:n], self.size)
        pooled = params.layout_pool[words[n] % params.layout_pool.shape[0]]
        return jnp.where(params.use_pool, pooled, fresh)

    def sample_level(self, key: PRNGKeyArray, params: MazeParams) -> Level:
        """Draw layout, goal and start from the distribution ``params``.

        All of a level's randomness is one ``jax.random.bits`` draw (the layout's words, the pool index, then one
        word each for goal and start) instead of two splits, one ``bits`` and three ``randint``: a vmapped
        ``sample_level`` compiled in 1.08 s instead of 2.01 s on 2 CPU cores (benchmarks/README.md).
        """
        n = layout_words(self.generator, self.size)
        words = jax.random.bits(key, (n + 3,), jnp.uint32)
        walls = self._layout(words[: n + 1], params)
        goal = _cell_from_word(words[n + 1], params.goal_mask & ~walls)
        not_goal = ~self._indicator(goal)
        start = _cell_from_word(words[n + 2], params.start_mask & ~walls & not_goal)
        return Level(walls=walls, agent_pos=start, goal_pos=goal)

    def reset_to_level(self, level: Level, params: MazeParams) -> tuple[Array, MazeState]:
        """Start an episode on a given level."""
        state = MazeState(
            walls=level.walls, agent_pos=level.agent_pos, goal_pos=level.goal_pos, time=jnp.asarray(0, jnp.int32)
        )
        return self.observe(state), state

    def reset(self, key: PRNGKeyArray, params: MazeParams) -> tuple[Array, MazeState]:
        """Start an episode on a level drawn from ``params``."""
        return self.reset_to_level(self.sample_level(key, params), params)

    def step(self, key: PRNGKeyArray, state: MazeState, action: Int[Array, ""], params: MazeParams):
        """Move one cell; returns ``(obs, state, reward, terminated, truncated, info)``. Deterministic; key unused."""
        del key
        target = jnp.clip(state.agent_pos + jnp.asarray(ACTION_DELTAS)[action], 0, self.size - 1)
        blocked = state.walls[target[0], target[1]]
        pos = jnp.where(blocked, state.agent_pos, target)
        at_goal = jnp.all(pos == state.goal_pos)
        state = MazeState(walls=state.walls, agent_pos=pos, goal_pos=state.goal_pos, time=state.time + 1)
        reward = at_goal.astype(jnp.float32)
        truncated = (state.time >= params.max_steps) & ~at_goal
        return self.observe(state), state, reward, at_goal, truncated, self.info(state, params)

    def info(self, state: MazeState, params: MazeParams) -> dict[str, Array]:
        """Fixed-key info: agent, goal and proxy positions, and whether the agent is at the goal / in the proxy."""
        proxy_flat = jnp.argmax(params.proxy_mask.ravel())
        proxy_pos = jnp.stack([proxy_flat // self.size, proxy_flat % self.size]).astype(jnp.int32)
        return {
            "agent_pos": state.agent_pos,
            "goal_pos": state.goal_pos,
            "proxy_pos": proxy_pos,
            "at_goal": jnp.all(state.agent_pos == state.goal_pos),
            "in_proxy": params.proxy_mask[state.agent_pos[0], state.agent_pos[1]],
        }

    def observe(self, state: MazeState) -> Float[Array, ...]:
        """``grid``/``flat``: channels walls, agent, goal (size × size, 0/1).
        ``egocentric``: a (2·size − 1)² window centred on the agent, channels walls, goal, outside-the-maze."""
        if self.obs_format == "egocentric":
            return self._observe_egocentric(state)
        grid = jnp.stack([state.walls, self._indicator(state.agent_pos), self._indicator(state.goal_pos)])
        grid = grid.astype(jnp.float32)
        return grid if self.obs_format == "grid" else grid.ravel()

    def _indicator(self, pos: Int[Array, 2]) -> Bool[Array, "h w"]:
        """True at ``pos`` only; comparisons with a static index grid (a scatter is slow on CPU under vmap)."""
        rows, cols = np.indices((self.size, self.size))
        return (jnp.asarray(rows) == pos[0]) & (jnp.asarray(cols) == pos[1])

    def _observe_egocentric(self, state: MazeState) -> Float[Array, "3 v v"]:
        pad = self.size - 1
        goal = self._indicator(state.goal_pos).astype(jnp.float32)
        grid = jnp.stack([state.walls.astype(jnp.float32), goal, jnp.zeros_like(goal)])
        padded = jnp.pad(grid, ((0, 0), (pad, pad), (pad, pad)))
        outside = jnp.pad(jnp.zeros((self.size, self.size)), pad, constant_values=1.0)
        padded = padded.at[0].max(outside).at[2].set(outside)
        window = 2 * self.size - 1
        return jax.lax.dynamic_slice(padded, (0, state.agent_pos[0], state.agent_pos[1]), (3, window, window))

    def open_cells(self) -> np.ndarray:
        """Cells that are never walls in a perfect maze (rooms); every cell for the open room."""
        return room_mask(self.size) if self.generator == "perfect" else np.ones((self.size, self.size), bool)
