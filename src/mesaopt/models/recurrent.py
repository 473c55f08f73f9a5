"""Recurrent actor-critic networks (equinox): a GRU over flattened observations and a convolutional GRU.

Contract (on ONE observation; batch with ``jax.vmap``):

- ``initial_hidden()`` -> the zero hidden state (a fixed-shape array);
- ``step(hidden, obs, *, capture=False, steer=None)`` -> ``(hidden, (logits, value))``, or
  ``(hidden, (logits, value), activations)`` with ``capture=True``;
- ``__call__(obs, *, capture=False, steer=None)`` = one ``step`` from ``initial_hidden()`` without the new
  hidden state, so code written for feed-forward actor-critics still runs.

``activation_names()`` lists the names ``capture=True`` returns and ``steer`` accepts. ``steer={name: delta}``
ADDS ``delta`` to that activation before it flows on (as in :mod:`mesaopt.models.actor_critic`); an unknown name
raises ``ValueError``. Steering ``gru.hook_hidden`` also changes the hidden state carried to the next step.
Constructors take ``(obs_shape, n_actions, ..., *, key)``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

from mesaopt.models.actor_critic import Steer, check_steer, conv3x3, dense, hook, orthogonal_linear


class _RecurrentActorCritic(eqx.Module):
    """Shared ``__call__``: one step from the zero hidden state."""

    def __call__(self, obs: Array, *, capture: bool = False, steer: Steer = None):
        out = self.step(self.initial_hidden(), obs, capture=capture, steer=steer)
        return (out[1], out[2]) if capture else out[1]


class GRUActorCritic(_RecurrentActorCritic):
    """MLP encoder (tanh) -> ``eqx.nn.GRUCell`` -> linear policy and value heads, over the flattened observation.

    Activations: ``encoder.{i}.hook_post``, ``gru.hook_hidden`` (the new hidden state), ``hook_logits``,
    ``hook_value``.
    """

    encoder: list[eqx.nn.Linear]
    cell: eqx.nn.GRUCell
    policy_head: eqx.nn.Linear
    value_head: eqx.nn.Linear
    hidden_size: int = eqx.field(static=True)

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, width: int = 64, hidden_size: int = 64,
                 depth: int = 1, *, key: PRNGKeyArray):
        if width < 1 or hidden_size < 1 or depth < 1:
            raise ValueError(f"gru width, hidden_size and depth must be >= 1, got {width}, {hidden_size}, {depth}")
        k_enc, k_cell, k_pi, k_v = jax.random.split(key, 4)
        sizes = [int(np.prod(obs_shape))] + [width] * depth
        self.encoder = [orthogonal_linear(a, b, float(np.sqrt(2)), key=k)
                        for a, b, k in zip(sizes, sizes[1:], jax.random.split(k_enc, depth))]
        self.cell = eqx.nn.GRUCell(width, hidden_size, key=k_cell)
        self.policy_head = orthogonal_linear(hidden_size, n_actions, 0.01, key=k_pi)
        self.value_head = orthogonal_linear(hidden_size, 1, 1.0, key=k_v)
        self.hidden_size = hidden_size

    def initial_hidden(self) -> Float[Array, " hidden"]:
        return jnp.zeros(self.hidden_size, jnp.float32)

    def activation_names(self) -> tuple[str, ...]:
        """Names of the activations ``capture=True`` returns and ``steer`` accepts."""
        encoder = [f"encoder.{i}.hook_post" for i in range(len(self.encoder))]
        return (*encoder, "gru.hook_hidden", "hook_logits", "hook_value")

    def step(self, hidden: Float[Array, " hidden"], obs: Float[Array, ...], *, capture: bool = False,
             steer: Steer = None):
        check_steer(steer, self.activation_names())
        acts: dict[str, Array] = {}
        x = obs.reshape(-1)
        for i, layer in enumerate(self.encoder):
            x = hook(acts, f"encoder.{i}.hook_post", jnp.tanh(dense(layer, x)), steer)
        hidden = hook(acts, "gru.hook_hidden", self.cell(x, hidden), steer)
        logits = hook(acts, "hook_logits", dense(self.policy_head, hidden), steer)
        value = hook(acts, "hook_value", dense(self.value_head, hidden)[0], steer)
        return (hidden, (logits, value), acts) if capture else (hidden, (logits, value))


class ConvGRUCell(eqx.Module):
    """GRU whose gates are 3×3 convolutions over ``[input, hidden]`` (same padding), so each step moves
    information at most one cell: repeated steps on one observation can propagate it across the grid."""

    gates: eqx.nn.Conv2d
    candidate_x: eqx.nn.Conv2d
    candidate_h: eqx.nn.Conv2d

    def __init__(self, in_channels: int, hidden_channels: int, *, key: PRNGKeyArray):
        k_g, k_x, k_h = jax.random.split(key, 3)
        both = in_channels + hidden_channels
        self.gates = eqx.nn.Conv2d(both, 2 * hidden_channels, 3, padding=1, key=k_g)
        self.candidate_x = eqx.nn.Conv2d(in_channels, hidden_channels, 3, padding=1, key=k_x)
        self.candidate_h = eqx.nn.Conv2d(hidden_channels, hidden_channels, 3, padding=1, use_bias=False, key=k_h)

    def __call__(self, x: Float[Array, "c h w"], hidden: Float[Array, "k h w"]) -> Float[Array, "k h w"]:
        update, reset = jnp.split(jax.nn.sigmoid(conv3x3(self.gates, jnp.concatenate([x, hidden]))), 2)
        candidate = jnp.tanh(conv3x3(self.candidate_x, x) + reset * conv3x3(self.candidate_h, hidden))
        return (1 - update) * candidate + update * hidden


class ConvGRUActorCritic(_RecurrentActorCritic):
    """3×3 conv encoder (relu) -> :class:`ConvGRUCell` -> dense (relu) -> policy and value heads.

    Activations: ``encoder.0.hook_post`` (c, h, w), ``gru.hook_hidden`` (hidden_channels, h, w),
    ``dense.hook_post``, ``hook_logits``, ``hook_value``.
    """

    encoder: eqx.nn.Conv2d
    cell: ConvGRUCell
    dense: eqx.nn.Linear
    policy_head: eqx.nn.Linear
    value_head: eqx.nn.Linear
    hidden_shape: tuple[int, int, int] = eqx.field(static=True)

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, channels: int = 8, hidden_channels: int = 8,
                 width: int = 64, *, key: PRNGKeyArray):
        if len(obs_shape) != 3:
            raise ValueError(f"the conv-gru model needs (channels, height, width) observations, got shape {obs_shape}")
        if min(channels, hidden_channels, width) < 1:
            raise ValueError(f"conv-gru channels, hidden_channels and width must be >= 1, got "
                             f"{channels}, {hidden_channels}, {width}")
        k_enc, k_cell, k_dense, k_pi, k_v = jax.random.split(key, 5)
        c_in, h, w = obs_shape
        self.encoder = eqx.nn.Conv2d(c_in, channels, 3, padding=1, key=k_enc)
        self.cell = ConvGRUCell(channels, hidden_channels, key=k_cell)
        self.dense = orthogonal_linear(hidden_channels * h * w, width, float(np.sqrt(2)), key=k_dense)
        self.policy_head = orthogonal_linear(width, n_actions, 0.01, key=k_pi)
        self.value_head = orthogonal_linear(width, 1, 1.0, key=k_v)
        self.hidden_shape = (hidden_channels, h, w)

    def initial_hidden(self) -> Float[Array, "k h w"]:
        return jnp.zeros(self.hidden_shape, jnp.float32)

    def activation_names(self) -> tuple[str, ...]:
        """Names of the activations ``capture=True`` returns and ``steer`` accepts."""
        return ("encoder.0.hook_post", "gru.hook_hidden", "dense.hook_post", "hook_logits", "hook_value")

    def step(self, hidden: Float[Array, "k h w"], obs: Float[Array, "c h w"], *, capture: bool = False,
             steer: Steer = None):
        check_steer(steer, self.activation_names())
        acts: dict[str, Array] = {}
        x = hook(acts, "encoder.0.hook_post", jax.nn.relu(conv3x3(self.encoder, obs)), steer)
        hidden = hook(acts, "gru.hook_hidden", self.cell(x, hidden), steer)
        x = hook(acts, "dense.hook_post", jax.nn.relu(dense(self.dense, hidden.reshape(-1))), steer)
        logits = hook(acts, "hook_logits", dense(self.policy_head, x), steer)
        value = hook(acts, "hook_value", dense(self.value_head, x)[0], steer)
        return (hidden, (logits, value), acts) if capture else (hidden, (logits, value))
