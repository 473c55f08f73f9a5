"""Hard-coded search over a learned objective: a feed-forward network draws a per-cell reward map, a built-in
planner does the searching (RLO §2's "hard-coded optimization"; in the spirit of value-iteration networks, Tamar et
al. 2016, with the planner fixed instead of learned).

The learned part (``encoder``) is a few 3×3 convolutions with no recurrence: it can only say *where the target
is*, as one reward logit per cell; their softmax over the open cells, ``p``, is the map read as an objective. The
planner is not learned. It reads the walls and the start from the image and runs ``iterations`` rounds of two
wavefronts over the open cells:

- a BFS wavefront from the start, ``d(c)`` (steps from the start; :data:`FAR` where it has not arrived), which
  orients the maze as a tree rooted at the start (a cell's children are its open neighbours one step farther), and
- a flow of target mass back towards the start: ``m(c) = p(c) + Σ m(children of c)``.

In a perfect maze a cell lies on the path from the start to a target ``t`` exactly when ``t`` is in its subtree,
so once both wavefronts have run their course ``m(c)`` is the probability that the cell is on the path to a target
drawn from ``p`` — linear in ``p``, hence easy to train end to end. The readout is ``[log(1 − m), log m]``: with a
one-hot map on the goal it is the exact start–goal path, and the hybrid's thinking gain comes from its planner's
rounds alone. The state is ``(..., H, W, 3)``: reward logit, start distance, target mass (the interface of
:class:`~mesaopt.models.thinking.RecurrentThinker`, so the same ladders read it).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from mesaopt.models.thinking import _conv_params
from mesaopt.models.xla_cpu import conv2d_same

FAR = 1e4
"""Start distance of a cell the start's wavefront has not reached (walls stay there)."""
CLIP = 1e-6
"""Probabilities are clipped to [CLIP, 1 − CLIP] before the log in the readout."""
SHIFTS = ((1, 0), (-1, 0), (0, 1), (0, -1))
"""The four neighbour directions (row, column)."""


def _shifted(field: jax.Array, dr: int, dc: int, fill: float) -> jax.Array:
    """``out[..., r, c] = field[..., r + dr, c + dc]`` (``fill`` beyond the edge)."""
    padded = jnp.pad(field, [(0, 0)] * (field.ndim - 2) + [(1, 1), (1, 1)], constant_values=fill)
    h, w = field.shape[-2:]
    return padded[..., 1 + dr:1 + dr + h, 1 + dc:1 + dc + w]


def start_round(dist: jax.Array, open_cells: jax.Array) -> jax.Array:
    """One BFS round: each open cell takes one more than its nearest neighbour if that is closer."""
    nearest = jnp.min(jnp.stack([_shifted(dist, dr, dc, FAR) for dr, dc in SHIFTS]), axis=0)
    return jnp.where(open_cells, jnp.minimum(dist, nearest + 1.0), FAR)


def mass_round(mass: jax.Array, dist: jax.Array, targets: jax.Array) -> jax.Array:
    """One round of the target-mass flow: ``p(c)`` plus the mass of every neighbour one step farther from the
    start (a child in the tree the start's wavefront has oriented so far)."""
    total = targets
    for dr, dc in SHIFTS:
        child = (_shifted(dist, dr, dc, FAR) == dist + 1.0) & (dist < FAR)
        total = total + jnp.where(child, _shifted(mass, dr, dc, 0.0), 0.0)
    return total


def target_probs(reward: jax.Array, open_cells: jax.Array) -> jax.Array:
    """``p``: the reward logits' softmax over each maze's open cells (0 on walls)."""
    masked = jnp.where(open_cells, reward, -jnp.inf)
    flat = masked.reshape(*masked.shape[:-2], -1)
    return jax.nn.softmax(flat, axis=-1).reshape(masked.shape)


class PlannerHybrid(eqx.Module):
    """``encoder``: ``depth`` 3×3 convolutions (ReLU between), image -> one reward logit per cell; the planner is
    fixed code (see the module docstring). ``model(image, iterations) -> logits (..., H, W, 2)``."""

    encoder: tuple[tuple[jax.Array, jax.Array], ...]

    def __init__(self, in_channels: int, *, depth: int = 3, width: int = 16, key):
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        channels = [in_channels] + [width] * (depth - 1) + [1]
        keys = jax.random.split(key, depth)
        self.encoder = tuple(_conv_params(k, a, b) for k, a, b in zip(keys, channels[:-1], channels[1:]))

    def reward_map(self, image: jax.Array) -> jax.Array:
        """The learned part alone: reward logits ``(..., H, W)``."""
        x = image
        for i, layer in enumerate(self.encoder):
            x = conv2d_same(x, *layer)
            if i < len(self.encoder) - 1:
                x = jax.nn.relu(x)
        return x[..., 0]

    def initial_state(self, image: jax.Array) -> jax.Array:
        """Reward logits; distance 0 at the start (:data:`FAR` elsewhere); each cell's own target mass."""
        open_cells = image[..., 0] > 0.5
        reward = self.reward_map(image)
        dist = jnp.where(open_cells & (image[..., 1] > 0.5), 0.0, FAR)
        return jnp.stack([reward, dist, target_probs(reward, open_cells)], axis=-1)

    def step(self, state: jax.Array, image: jax.Array) -> jax.Array:
        """One planner round of both wavefronts (the reward channel is carried unchanged)."""
        open_cells = image[..., 0] > 0.5
        reward, dist, mass = state[..., 0], state[..., 1], state[..., 2]
        new_dist = start_round(dist, open_cells)
        new_mass = mass_round(mass, new_dist, target_probs(reward, open_cells))
        return jnp.stack([reward, new_dist, new_mass], axis=-1)

    def think(self, image: jax.Array, iterations: int, state: jax.Array | None = None, every_state: bool = False):
        """``iterations`` planner rounds from ``state`` (default :meth:`initial_state`)."""
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        start = self.initial_state(image) if state is None else state

        def one_round(current, _):
            new = self.step(current, image)
            return new, new if every_state else None

        final, states = jax.lax.scan(one_round, start, None, length=iterations)
        return states if every_state else final

    def readout(self, state: jax.Array) -> jax.Array:
        """Path / not-path logits ``[log(1 − m), log m]`` (``m``: the target mass, clipped)."""
        mass = jnp.clip(state[..., 2], CLIP, 1.0 - CLIP)
        return jnp.stack([jnp.log1p(-mass), jnp.log(mass)], axis=-1)

    def __call__(self, image: jax.Array, iterations: int) -> jax.Array:
        """Path logits after ``iterations`` planner rounds."""
        return self.readout(self.think(image, iterations))
