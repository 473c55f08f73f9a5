"""Token formats that turn regression prompts into sequences for a sequence model.

Both formats give ``2n`` tokens of width ``d + 1`` for ``n`` examples, an attention mask, and the positions
whose outputs predict ``y_0 … y_{n-1}`` (prediction i sees only examples before i and ``x_i``):

- ``interleaved`` (Garg et al.): ``(x_0,0), (0,y_0), (x_1,0), (0,y_1), …`` with a causal mask; y_i is read at
  the token of x_i.
- ``concatenated`` (von Oswald et al.'s ``(x, y)`` tokens): n context tokens ``(x_j, y_j)`` then n query tokens
  ``(x_i, 0)``; context tokens attend causally among themselves and query token i attends to context tokens
  j < i and to itself, so every prefix is predicted in one pass.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.errors import MesaoptError

TOKEN_FORMATS = ("interleaved", "concatenated")
"""Allowed token formats."""


class TokenizedPrompts(NamedTuple):
    """Sequences ``tokens (B, 2n, d+1)``, the shared ``mask (2n, 2n)`` and ``read_positions (n,)``."""

    tokens: jax.Array
    mask: jax.Array
    read_positions: np.ndarray


def sequence_length(n_examples: int) -> int:
    """Tokens per prompt of ``n_examples`` examples (both formats)."""
    return 2 * n_examples


def _interleaved(xs, ys):
    b, n, d = xs.shape
    x_tok = jnp.concatenate([xs, jnp.zeros((b, n, 1))], axis=-1)
    y_tok = jnp.concatenate([jnp.zeros((b, n, d)), ys[..., None]], axis=-1)
    tokens = jnp.stack([x_tok, y_tok], axis=2).reshape(b, 2 * n, d + 1)
    mask = np.tril(np.ones((2 * n, 2 * n), dtype=bool))
    return TokenizedPrompts(tokens, jnp.asarray(mask), np.arange(0, 2 * n, 2))


def _concatenated(xs, ys):
    b, n, d = xs.shape
    context = jnp.concatenate([xs, ys[..., None]], axis=-1)
    queries = jnp.concatenate([xs, jnp.zeros((b, n, 1))], axis=-1)
    tokens = jnp.concatenate([context, queries], axis=1)
    mask = np.zeros((2 * n, 2 * n), dtype=bool)
    mask[:n, :n] = np.tril(np.ones((n, n), dtype=bool))
    mask[n:, :n] = np.tril(np.ones((n, n), dtype=bool), k=-1)
    mask[n:, n:] = np.eye(n, dtype=bool)
    return TokenizedPrompts(tokens, jnp.asarray(mask), np.arange(n, 2 * n))


def tokenize(xs: jax.Array, ys: jax.Array, token_format: str) -> TokenizedPrompts:
    """Encode a batch of prompts ``xs (B, n, d)``, ``ys (B, n)`` in ``token_format``."""
    if token_format == "interleaved":
        return _interleaved(xs, ys)
    if token_format == "concatenated":
        return _concatenated(xs, ys)
    raise MesaoptError(f"unknown token format {token_format!r}; allowed: {list(TOKEN_FORMATS)}")


def predict_with_sequence_model(model, xs: jax.Array, ys: jax.Array, token_format: str) -> jax.Array:
    """``(B, n)`` predictions of every example from the examples before it, by a ``model(tokens, mask)`` that takes
    the whole batch of token sequences ``(B, T, d_in)`` at once (as ``GPT2Regressor`` does)."""
    tok = tokenize(xs, ys, token_format)
    out = model(tok.tokens, tok.mask)
    return out[:, tok.read_positions]
