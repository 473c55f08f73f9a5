"""mesaopt's 7×7 maze task re-implemented in NumPy, batched, as a Stable-Baselines3 ``VecEnv``.

Same task as ``mesaopt.envs.Maze(size=7, generator="perfect", obs_format="grid")`` with ``default_params()``:
rooms at even (row, col), a fresh randomized-Kruskal perfect maze per episode, goal uniform over open cells,
start uniform over the other open cells, actions up/right/down/left (walls and the edge block), reward 1 and
termination on reaching the goal, truncation after size² steps, observation = walls/agent/goal planes
flattened to 3·size² floats. All environments step in one vectorized NumPy call (fairer to SB3 than a
``DummyVecEnv`` looping over 64 Python environments); only the per-episode maze draw loops in Python.

No JAX, no mesaopt import: the SB3 worker stays a pure torch/NumPy process.
"""

from __future__ import annotations

import numpy as np

ACTION_DELTAS = np.array([[-1, 0], [0, 1], [1, 0], [0, -1]], dtype=np.int64)


def candidate_passages(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Room pairs that may be joined and the wall cell between them (same order as mesaopt's generator)."""
    n = (size + 1) // 2
    pairs, cells = [], []
    for i in range(n):
        for j in range(n):
            if j + 1 < n:
                pairs.append((i * n + j, i * n + j + 1))
                cells.append((2 * i, 2 * j + 1))
            if i + 1 < n:
                pairs.append((i * n + j, (i + 1) * n + j))
                cells.append((2 * i + 1, 2 * j))
    return np.asarray(pairs), np.asarray(cells)


def perfect_maze(rng: np.random.Generator, size: int) -> np.ndarray:
    """Randomized Kruskal over rooms; True = wall."""
    pairs, cells = candidate_passages(size)
    idx = np.arange(size)
    walls = ~((idx[:, None] % 2 == 0) & (idx[None, :] % 2 == 0))
    labels = np.arange(((size + 1) // 2) ** 2)
    for e in rng.permutation(len(pairs)):
        la, lb = labels[pairs[e, 0]], labels[pairs[e, 1]]
        if la != lb:
            labels[labels == lb] = la
            walls[cells[e, 0], cells[e, 1]] = False
    return walls


class NumpyMazeBatch:
    """``n`` mazes stepped together. Arrays: walls (n, s, s), agent/goal (n, 2), time (n,)."""

    def __init__(self, n: int, size: int = 7, max_steps: int | None = None, seed: int = 0):
        self.n, self.size = n, size
        self.max_steps = size * size if max_steps is None else max_steps
        self.rng = np.random.default_rng(seed)
        self.walls = np.zeros((n, size, size), bool)
        self.agent = np.zeros((n, 2), np.int64)
        self.goal = np.zeros((n, 2), np.int64)
        self.time = np.zeros(n, np.int64)
        for i in range(n):
            self.reset_one(i)

    def reset_one(self, i: int) -> None:
        walls = perfect_maze(self.rng, self.size)
        open_cells = np.flatnonzero(~walls)
        goal, start = self.rng.choice(open_cells, 2, replace=False)
        self.walls[i] = walls
        self.goal[i] = divmod(goal, self.size)
        self.agent[i] = divmod(start, self.size)
        self.time[i] = 0

    def observe(self) -> np.ndarray:
        rows = np.arange(self.n)
        obs = np.zeros((self.n, 3, self.size, self.size), np.float32)
        obs[:, 0] = self.walls
        obs[rows, 1, self.agent[:, 0], self.agent[:, 1]] = 1.0
        obs[rows, 2, self.goal[:, 0], self.goal[:, 1]] = 1.0
        return obs.reshape(self.n, -1)

    def step(self, actions: np.ndarray):
        """Move every agent; returns reward, terminated, truncated (before any reset)."""
        target = np.clip(self.agent + ACTION_DELTAS[actions], 0, self.size - 1)
        blocked = self.walls[np.arange(self.n), target[:, 0], target[:, 1]]
        self.agent = np.where(blocked[:, None], self.agent, target)
        self.time += 1
        terminated = np.all(self.agent == self.goal, axis=1)
        truncated = (self.time >= self.max_steps) & ~terminated
        return terminated.astype(np.float32), terminated, truncated


def make_sb3_vec_env(n_envs: int, size: int = 7, seed: int = 0):
    """The batch as an SB3 ``VecEnv`` with auto-reset and SB3's ``terminal_observation`` / truncation infos."""
    import gymnasium as gym
    from stable_baselines3.common.vec_env import VecEnv

    class NumpyMazeVecEnv(VecEnv):
        def __init__(self):
            self.batch = NumpyMazeBatch(n_envs, size, seed=seed)
            obs_space = gym.spaces.Box(0.0, 1.0, (3 * size * size,), np.float32)
            super().__init__(n_envs, obs_space, gym.spaces.Discrete(4))
            self._actions = None

        def reset(self):
            for i in range(self.num_envs):
                self.batch.reset_one(i)
            return self.batch.observe()

        def step_async(self, actions):
            self._actions = np.asarray(actions, np.int64)

        def step_wait(self):
            reward, terminated, truncated = self.batch.step(self._actions)
            done = terminated | truncated
            infos = [{} for _ in range(self.num_envs)]
            if done.any():
                final = self.batch.observe()
                for i in np.flatnonzero(done):
                    infos[i] = {"terminal_observation": final[i], "TimeLimit.truncated": bool(truncated[i])}
                    self.batch.reset_one(i)
            return self.batch.observe(), reward, done, infos

        def close(self):
            pass

        def get_attr(self, attr_name, indices=None):
            return [getattr(self, attr_name)] * len(self._get_indices(indices))

        def set_attr(self, attr_name, value, indices=None):
            setattr(self, attr_name, value)

        def env_method(self, method_name, *args, indices=None, **kwargs):
            raise NotImplementedError(method_name)

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False] * len(self._get_indices(indices))

    return NumpyMazeVecEnv()
