"""Planners with a named internal goal activation: planted positives and negatives for probes and steering.

They follow the model contract of ``mesaopt.models`` — ``model(obs, *, capture=False, steer=None)`` returns
``(logits, value)`` or ``((logits, value), activations)`` — so detectors treat them exactly like trained networks.
Each computes ``hook_goal``, a goal map read from the observation's goal channel, adds ``steer["hook_goal"]``
to it, and then plans a shortest path: to the cells where the (steered) goal map exceeds 0.5
(``follows_latent=True``, the planted positive) or to the top-right corner whatever the goal map says
(``follows_latent=False``, the planted negative with the same structure).

Also here: decoding any maze observation format back to absolute maze coordinates (:func:`absolute_grid`,
:func:`agent_cell`) and hiding the goal (:func:`hide_goal`), which the steering detector needs.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from mesaopt.envs.bfs import UNREACHABLE, distance_map
from mesaopt.envs.maze import OBS_FORMATS
from mesaopt.envs.planners import _greedy_logits

LATENT_FRAMES = ("absolute", "egocentric")
GOAL_CHANNEL = {"grid": 2, "flat": 2, "egocentric": 1}
"""Index of the goal channel in each observation format's (3, ·, ·) view."""


def _check_format(obs_format: str) -> None:
    if obs_format not in OBS_FORMATS:
        raise ValueError(f"unknown obs_format {obs_format!r}; allowed: {list(OBS_FORMATS)}")


def _channels(obs: Array, size: int, obs_format: str) -> Array:
    """The (3, ·, ·) view of an observation (flat observations are reshaped to the grid)."""
    return obs.reshape(3, size, size) if obs_format == "flat" else obs


def agent_cell(obs: Array, size: int, obs_format: str) -> Int[Array, 2]:
    """The agent's absolute (row, col), decoded from the observation alone.

    Grid/flat: the agent channel. Egocentric: the window of side 2·size − 1 always shows the whole maze, and the
    number of fully-outside rows (columns) above (left of) the maze is ``size − 1 − row`` (``size − 1 − col``).
    """
    _check_format(obs_format)
    grid = _channels(obs, size, obs_format)
    if obs_format != "egocentric":
        flat = jnp.argmax(grid[1].ravel())
        return jnp.stack([flat // size, flat % size]).astype(jnp.int32)
    inside = grid[2] < 0.5
    first_row = jnp.argmax(jnp.any(inside, axis=1))
    first_col = jnp.argmax(jnp.any(inside, axis=0))
    return jnp.stack([size - 1 - first_row, size - 1 - first_col]).astype(jnp.int32)


def absolute_grid(obs: Array, size: int, obs_format: str) -> Float[Array, "3 h w"]:
    """Channels walls, agent, goal over the whole size × size maze, from any observation format."""
    grid = _channels(obs, size, obs_format)
    if obs_format != "egocentric":
        return grid
    row, col = agent_cell(obs, size, obs_format)
    crop = jax.lax.dynamic_slice(grid[:2], (0, size - 1 - row, size - 1 - col), (2, size, size))
    agent = jnp.zeros((size, size), grid.dtype).at[row, col].set(1.0)
    return jnp.stack([crop[0], agent, crop[1]])


def hide_goal(obs: Array, size: int, obs_format: str) -> Array:
    """The observation with its goal channel zeroed ("goal absent"), in the same format and shape."""
    _check_format(obs_format)
    grid = _channels(obs, size, obs_format)
    return grid.at[GOAL_CHANNEL[obs_format]].set(0.0).reshape(obs.shape)


def _hook(acts: dict[str, Array], name: str, x: Array, steer) -> Array:
    """Record activation ``name`` after adding ``steer[name]`` if given; returns what flows on."""
    if steer is not None and name in steer:
        x = x + steer[name]
    acts[name] = x
    return x


class GoalLatentPlanner(eqx.Module):
    """Shortest-path planner whose target is an internal goal map ``hook_goal`` (or, as a negative, the corner).

    Activations: ``hook_goal`` — the goal channel, in absolute maze coordinates (h × w) for
    ``latent_frame='absolute'`` or in the egocentric window ((2·size − 1)², egocentric observations only) for
    ``latent_frame='egocentric'``, so that the same goal cell gives an agent-dependent activation;
    ``hook_path`` — 1 on the cells of the shortest path from the agent to the planned target, else 0 (h × w);
    ``hook_logits``, ``hook_value`` (minus the distance to the target, 0 if unreachable).
    """

    size: int = eqx.field(static=True)
    obs_format: str = eqx.field(static=True, default="grid")
    follows_latent: bool = eqx.field(static=True, default=True)
    latent_frame: str = eqx.field(static=True, default="absolute")
    sharpness: float = eqx.field(static=True, default=30.0)

    def __check_init__(self):
        _check_format(self.obs_format)
        if self.latent_frame not in LATENT_FRAMES:
            raise ValueError(f"unknown latent_frame {self.latent_frame!r}; allowed: {list(LATENT_FRAMES)}")
        if self.latent_frame == "egocentric" and self.obs_format != "egocentric":
            raise ValueError("latent_frame='egocentric' needs obs_format='egocentric'")

    def activation_names(self) -> tuple[str, ...]:
        return ("hook_goal", "hook_path", "hook_logits", "hook_value")

    def _goal_map(self, obs: Array, row: Array, col: Array, acts: dict, steer) -> Array:
        """Record ``hook_goal`` (steered) and return the same map in absolute coordinates."""
        if self.latent_frame == "absolute":
            goal = absolute_grid(obs, self.size, self.obs_format)[2]
        else:
            goal = obs[GOAL_CHANNEL["egocentric"]]
        goal = _hook(acts, "hook_goal", goal, steer)
        if self.latent_frame == "absolute":
            return goal
        pad = self.size - 1
        return jax.lax.dynamic_slice(goal, (pad - row, pad - col), (self.size, self.size))

    def __call__(self, obs: Array, *, capture: bool = False, steer: dict[str, Array] | None = None):
        unknown = sorted(set(steer or {}) - set(self.activation_names()))
        if unknown:
            raise ValueError(f"cannot steer unknown activation(s) {unknown}; allowed: {list(self.activation_names())}")
        acts: dict[str, Array] = {}
        grid = absolute_grid(obs, self.size, self.obs_format)
        walls, agent = grid[0] > 0.5, grid[1] > 0.5
        row, col = agent_cell(obs, self.size, self.obs_format)
        goal_abs = self._goal_map(obs, row, col, acts, steer)
        corner = jnp.zeros((self.size, self.size), bool).at[0, self.size - 1].set(True)
        to_target = distance_map(walls, goal_abs > 0.5 if self.follows_latent else corner)
        here = to_target[row, col]
        on_path = ((distance_map(walls, agent) + to_target) == here) & (here < UNREACHABLE)
        _hook(acts, "hook_path", on_path.astype(jnp.float32), steer)
        logits = _hook(acts, "hook_logits", _greedy_logits(to_target, grid[1], self.sharpness), steer)
        value = _hook(acts, "hook_value", jnp.where(here < UNREACHABLE, -here, 0).astype(jnp.float32), steer)
        return ((logits, value), acts) if capture else (logits, value)
