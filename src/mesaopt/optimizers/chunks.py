"""Run a base optimizer's updates in fixed-size chunks so the shell can show progress between them."""

from __future__ import annotations

import jax


def make_chunk_runner(update_fn, chunk_len: int):
    """``run(state, env_params) -> (state, metrics[chunk_len])``: ``chunk_len`` updates in one ``scan``.

    ``update_fn(state, env_params) -> (state, metrics)`` is one update of one seed; the result is jitted and
    vmapped over a leading batch axis of both ``state`` and ``env_params`` (seeds × sweep points flattened).
    """

    def run(state, env_params):
        return jax.lax.scan(lambda s, _: update_fn(s, env_params), state, None, length=chunk_len)

    return jax.jit(jax.vmap(run))
