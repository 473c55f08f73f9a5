"""Linear probes for the least-squares weight vector in a trained in-context regressor's residual stream."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.icl import linear_probe_r2
from mesaopt.experiments.shared.common import take
from mesaopt.tasks.regression import RegressionTask, sample_prompts
from mesaopt.tasks.tokens import tokenize


def least_squares_weights(xs: jax.Array, ys: jax.Array) -> jax.Array:
    """``(B, d)`` minimum-norm least-squares weights of each prompt's context (all examples but the last)."""
    return jax.vmap(lambda X, y: jnp.linalg.pinv(X[:-1]) @ y[:-1])(xs, ys)


def last_context_position(n_examples: int, token_format: str) -> int:
    """The token that has seen the whole context of the query and nothing of the query itself."""
    return 2 * n_examples - 3 if token_format == "interleaved" else n_examples - 2


def residual_streams(model, xs, ys, token_format: str, positions: dict[str, int]) -> dict[str, dict[str, np.ndarray]]:
    """``{position_name: {"embed": (B, d_model), "blocks.i": …}}``: the residual stream after each layer."""
    tok = tokenize(xs, ys, token_format)

    def one(tokens):
        _, acts = model(tokens, tok.mask, capture=True)
        out = {}
        for name, pos in positions.items():
            out[name] = {"embed": acts["hook_embed"][pos] + acts["hook_pos_embed"][pos]}
            out[name].update({f"blocks.{i}": acts[f"blocks.{i}.hook_resid_post"][pos] for i in range(len(model.blocks))})
        return out

    acts = jax.jit(jax.vmap(one))(tok.tokens)
    order = ["embed", *(f"blocks.{i}" for i in range(len(model.blocks)))]  # jit returns dicts key-sorted
    return {name: {k: np.asarray(acts[name][k]) for k in order} for name in positions}


def probe_least_squares_weights(trainer, params, task: RegressionTask, token_format: str, key,
                                n_prompts: int = 4096) -> dict:
    """Held-out R² of linear probes from each layer's residual stream, per seed, for two targets:

    - ``r2_weights``: the least-squares weight vector of the context, read at the last context token (has the
      model formed the regression solution w explicitly?);
    - ``r2_prediction``: the least-squares prediction w·x_q, read at the query token (does it compute the answer
      of least squares?).

    The embedding layer sees one token only, so its R² is the floor of each probe.
    """
    p = sample_prompts(key, task, n_prompts)
    weights = np.asarray(least_squares_weights(p.xs, p.ys))
    prediction = np.einsum("bd,bd->b", weights, np.asarray(p.xs[:, -1]))[:, None]
    tok_query = int(tokenize(p.xs[:1], p.ys[:1], token_format).read_positions[-1])
    positions = {"context": last_context_position(task.n_examples, token_format), "query": tok_query}
    n_seeds = jax.tree_util.tree_leaves(params)[0].shape[0]
    r2_w, r2_pred = [], []
    for i in range(n_seeds):
        acts = residual_streams(trainer.model(take(params, i)), p.xs, p.ys, token_format, positions)
        r2_w.append({layer: linear_probe_r2(f, weights) for layer, f in acts["context"].items()})
        r2_pred.append({layer: linear_probe_r2(f, prediction) for layer, f in acts["query"].items()})
    layers = list(r2_w[0])
    return {"layers": layers, "r2_weights": [[round(s[layer], 4) for s in r2_w] for layer in layers],
            "r2_prediction": [[round(s[layer], 4) for s in r2_pred] for layer in layers]}
