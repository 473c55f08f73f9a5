"""A single linear self-attention (LSA) layer in von Oswald et al.'s token format.

Tokens are ``e_i = (x_i, y_i)`` for the context and ``e_q = (x_q, 0)`` for the query. The layer adds
``W_PV Σ_i e_i (e_iᵀ W_KQ e_q) / N`` to the query token (no softmax; ``W_KQ = W_Kᵀ W_Q`` and ``W_PV = P W_V``
merged, as in the paper's analysis) and the prediction is the query token's y entry. The sum runs over the
N context tokens. With ``W_KQ = [[I, 0], [0, 0]]`` and ``W_PV[y, y] = η`` the layer *is* one step of gradient
descent from w = 0 with step size η on the in-context least-squares loss (:func:`gd_lsa`).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp


class LinearSelfAttention(eqx.Module):
    """One LSA layer for inputs of dimension ``d``; call on one prompt's context and query."""

    W_KQ: jax.Array
    """(d+1, d+1) merged key-query matrix: attention score e_iᵀ W_KQ e_q."""
    W_PV: jax.Array
    """(d+1, d+1) merged projection-value matrix; its last row writes the prediction."""

    def __init__(self, d: int, *, key: jax.Array, init_scale: float = 0.02):
        k_kq, k_pv = jax.random.split(key)
        self.W_KQ = init_scale * jax.random.normal(k_kq, (d + 1, d + 1))
        self.W_PV = init_scale * jax.random.normal(k_pv, (d + 1, d + 1))

    @property
    def d(self) -> int:
        """Input dimension."""
        return self.W_KQ.shape[0] - 1

    def __call__(self, xs_context: jax.Array, ys_context: jax.Array, x_query: jax.Array, capture: bool = False):
        """Prediction for ``x_query`` (and, with ``capture``, the named activations)."""
        tokens = jnp.concatenate([xs_context, ys_context[:, None]], axis=1)  # (N, d+1)
        query = jnp.concatenate([x_query, jnp.zeros(1)])
        scores = tokens @ (self.W_KQ @ query)  # (N,)
        update = self.W_PV @ (tokens.T @ scores) / max(tokens.shape[0], 1)
        prediction = update[-1]
        if not capture:
            return prediction
        return prediction, {"hook_scores": scores, "hook_attn_out": update, "hook_resid_post": query + update}


def gd_lsa(d: int, step_size: float) -> LinearSelfAttention:
    """The hand-constructed LSA layer that implements one GD step of size ``step_size`` from w = 0."""
    layer = LinearSelfAttention(d, key=jax.random.PRNGKey(0))
    W_KQ = jnp.zeros((d + 1, d + 1)).at[:d, :d].set(jnp.eye(d))
    W_PV = jnp.zeros((d + 1, d + 1)).at[d, d].set(step_size)
    return eqx.tree_at(lambda m: (m.W_KQ, m.W_PV), layer, (W_KQ, W_PV))


def lsa_predict_queries(model: LinearSelfAttention, xs: jax.Array, ys: jax.Array) -> jax.Array:
    """``(B,)`` predictions of each prompt's last example from the examples before it."""
    return jax.vmap(lambda X, y: model(X[:-1], y[:-1], X[-1]))(xs, ys)


def balanced(model: LinearSelfAttention) -> LinearSelfAttention:
    """The same function with ``‖W_KQ‖ = ‖W_PV‖``: the layer is invariant to (W_KQ c, W_PV / c), so weights are
    compared (interpolated) only after fixing that scale."""
    c = jnp.sqrt(jnp.linalg.norm(model.W_PV) / jnp.maximum(jnp.linalg.norm(model.W_KQ), 1e-12))
    return eqx.tree_at(lambda m: (m.W_KQ, m.W_PV), model, (model.W_KQ * c, model.W_PV / c))
