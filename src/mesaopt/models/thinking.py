"""A weight-tied recurrent convolutional "thinking" network with recall (Bansal et al. 2022, "DT-recall").

One block of 3×3 convolutions is applied again and again; its input at every iteration is the current state and
the problem image itself ("recall"), so extra iterations at test time can continue a computation instead of
forgetting the problem. The number of iterations is an argument of each call, not a weight: the experiment trains
with a few and tests with many. The state after any iteration can be read out (``readout``), returned for every
iteration (``think(..., every_state=True)``), or used as the start of more iterations (``think(..., state=s)``),
which is what the progressive loss (training from a random intermediate state) needs.

Images are channels-last, ``(..., H, W, C)`` with optional leading batch dimensions; every convolution is
:func:`mesaopt.models.xla_cpu.conv2d_same` over the whole batch (call the model on the batch, not under
``vmap``). Activation names: ``hook_state`` (the state after each iteration), ``hook_logits``.
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from mesaopt.models.xla_cpu import conv2d_same


BLOCK_GAIN = 0.5
"""Scale of the thinking block's initial weights relative to He-normal. The residual block roughly doubles its
input's scale at He scale, so 30 iterations at initialization gave training losses of 1e6-1e8 (a width-16
network, 2026-12-05); at 0.5 the first loss was 0.2 and training went smoothly."""


def _conv_params(key, c_in: int, c_out: int, gain: float = 1.0) -> tuple[jax.Array, jax.Array]:
    """3×3 kernel (HWIO) and bias, He-normal weights times ``gain`` (the block is followed by a ReLU)."""
    return jax.random.normal(key, (3, 3, c_in, c_out)) * gain * math.sqrt(2.0 / (9 * c_in)), jnp.zeros(c_out)


def _block(state: jax.Array, image: jax.Array, recall, mix, more_mix=None) -> jax.Array:
    """One thinking block: ``relu(conv(state ‖ image))``, then a residual ``relu(conv(.)) + .``, then one more
    residual layer for each entry of ``more_mix`` (kernels stacked on a leading axis; None: none)."""
    hidden = jax.nn.relu(conv2d_same(jnp.concatenate([state, image], axis=-1), *recall))
    hidden = jax.nn.relu(conv2d_same(hidden, *mix)) + hidden
    for layer in range(0 if more_mix is None else more_mix[0].shape[0]):
        hidden = jax.nn.relu(conv2d_same(hidden, more_mix[0][layer], more_mix[1][layer])) + hidden
    return hidden


def _more_mix_params(key, width: int, residual_layers: int):
    """The stacked residual layers after the first (None when there is only one)."""
    if residual_layers < 1:
        raise ValueError(f"residual_layers must be >= 1, got {residual_layers}")
    if residual_layers == 1:
        return None
    return jax.vmap(lambda k: _conv_params(k, width, width, BLOCK_GAIN))(jax.random.split(key, residual_layers - 1))


def _readout(state: jax.Array, head, out) -> jax.Array:
    """Per-cell logits of a state: ``conv(relu(conv(state)))``."""
    return conv2d_same(jax.nn.relu(conv2d_same(state, *head)), *out)


class RecurrentThinker(eqx.Module):
    """``think(image, iterations) -> state``; ``readout(state) -> logits (..., H, W, n_out)``.

    Layers: ``project`` (input -> width), the recurrent block ``recall`` (state ‖ input -> width) then ``mix``
    (width -> width, residual) and ``residual_layers - 1`` more such layers (``more_mix``), and the head ``head``
    (width -> width / 2, ReLU, ``out`` -> n_out).
    """

    project: tuple[jax.Array, jax.Array]
    recall: tuple[jax.Array, jax.Array]
    mix: tuple[jax.Array, jax.Array]
    head: tuple[jax.Array, jax.Array]
    out: tuple[jax.Array, jax.Array]
    more_mix: tuple[jax.Array, jax.Array] | None
    """Residual layers after ``mix``, stacked: kernel (n, 3, 3, width, width), bias (n, width); None: none."""

    def __init__(self, in_channels: int, *, width: int = 32, n_out: int = 2, residual_layers: int = 1, key):
        keys = jax.random.split(key, 5)
        self.project = _conv_params(keys[0], in_channels, width)
        self.recall = _conv_params(keys[1], width + in_channels, width, BLOCK_GAIN)
        self.mix = _conv_params(keys[2], width, width, BLOCK_GAIN)
        self.head = _conv_params(keys[3], width, width // 2)
        self.out = _conv_params(keys[4], width // 2, n_out)
        self.more_mix = _more_mix_params(jax.random.fold_in(key, 1), width, residual_layers)

    def initial_state(self, image: jax.Array) -> jax.Array:
        """The state before the first iteration: the projected image."""
        return jax.nn.relu(conv2d_same(image, *self.project))

    def step(self, state: jax.Array, image: jax.Array) -> jax.Array:
        """One iteration of the weight-tied block."""
        return _block(state, image, self.recall, self.mix, self.more_mix)

    def think(self, image: jax.Array, iterations: int, state: jax.Array | None = None, every_state: bool = False):
        """``iterations`` steps from ``state`` (default: :meth:`initial_state`): the final state, or with
        ``every_state`` the stack ``(iterations, ..., H, W, width)`` of the state after each step."""
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        start = self.initial_state(image) if state is None else state

        def one_step(current, _):
            new = self.step(current, image)
            return new, new if every_state else None

        final, states = jax.lax.scan(one_step, start, None, length=iterations)
        return states if every_state else final

    def readout(self, state: jax.Array) -> jax.Array:
        """Per-cell logits ``(..., H, W, n_out)`` of a state."""
        return _readout(state, self.head, self.out)

    def __call__(self, image: jax.Array, iterations: int, capture: bool = False):
        """Logits after ``iterations`` steps; with ``capture``, also ``{"hook_state": every state,
        "hook_logits": the readout of every state}`` (leading axis: iteration)."""
        if not capture:
            return self.readout(self.think(image, iterations))
        states = self.think(image, iterations, every_state=True)
        logits = self.readout(states)  # the iteration axis is one more batch dimension
        return logits[-1], {"hook_state": states, "hook_logits": logits}


class FeedForwardThinker(eqx.Module):
    """The control: :class:`RecurrentThinker`'s layers with ``depth`` blocks of their own weights (untied).

    Same projection, block (with recall and ``residual_layers``) and head; the blocks are stacked and applied once
    each, so the network has one fixed depth. ``model(image, iterations)`` accepts the iteration ladder of the
    experiment but always computes all ``depth`` blocks: it cannot think longer (its row of the ladder repeats one
    value).
    """

    project: tuple[jax.Array, jax.Array]
    recall: tuple[jax.Array, jax.Array]
    """Stacked over blocks: kernel (depth, 3, 3, width + C, width), bias (depth, width)."""
    mix: tuple[jax.Array, jax.Array]
    """Stacked over blocks: kernel (depth, 3, 3, width, width), bias (depth, width)."""
    head: tuple[jax.Array, jax.Array]
    out: tuple[jax.Array, jax.Array]
    more_mix: tuple[jax.Array, jax.Array] | None
    """Stacked over blocks: the block's further residual layers, kernel (depth, n, 3, 3, width, width); None: none."""

    def __init__(self, in_channels: int, *, depth: int, width: int = 32, n_out: int = 2, residual_layers: int = 1,
                 key):
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        k_project, k_recall, k_mix, k_head, k_out = jax.random.split(key, 5)
        self.project = _conv_params(k_project, in_channels, width)
        self.recall = jax.vmap(lambda k: _conv_params(k, width + in_channels, width, BLOCK_GAIN))(
            jax.random.split(k_recall, depth))
        self.mix = jax.vmap(lambda k: _conv_params(k, width, width, BLOCK_GAIN))(jax.random.split(k_mix, depth))
        self.head = _conv_params(k_head, width, width // 2)
        self.out = _conv_params(k_out, width // 2, n_out)
        more_keys = jax.random.split(jax.random.fold_in(key, 1), depth)
        self.more_mix = (None if residual_layers == 1 else
                         jax.vmap(lambda k: _more_mix_params(k, width, residual_layers))(more_keys))

    @property
    def depth(self) -> int:
        """Number of untied blocks."""
        return self.recall[0].shape[0]

    def __call__(self, image: jax.Array, iterations: int | None = None, capture: bool = False):
        """Logits ``(..., H, W, n_out)`` after all blocks; ``capture`` adds ``hook_state`` (the state after each
        block, leading axis: block) and ``hook_logits`` (their readouts)."""
        del iterations  # a fixed depth: see the class docstring

        def block(state, params):
            new = _block(state, image, *params)
            return new, new if capture else None

        start = jax.nn.relu(conv2d_same(image, *self.project))
        final, states = jax.lax.scan(block, start, (self.recall, self.mix, self.more_mix))
        if not capture:
            return _readout(final, self.head, self.out)
        logits = _readout(states, self.head, self.out)
        return logits[-1], {"hook_state": states, "hook_logits": logits}
