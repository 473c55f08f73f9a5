"""Linear probes for the least-squares weight vector in a trained in-context regressor's residual stream."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.icl import linear_probe_r2
from mesaopt.experiments.icl_common import unstack
from mesaopt.tasks.regression import RegressionTask, sample_prompts
from mesaopt.tasks.tokens import tokenize


def least_squares_weights(xs: jax.Array, ys: jax.Array) -> jax.Array:
    """``(B, d)`` minimum-norm least-squares weights of each prompt's context (all examples but the last)."""
    return jax.vmap(lambda X, y: jnp.linalg.pinv(X[:-1]) @ y[:-1])(xs, ys)


def query_activations(model, xs, ys, token_format: str) -> dict[str, np.ndarray]:
    """Residual stream at the query's read position: ``{"embed": …, "blocks.i": …}``, each ``(B, d_model)``."""
    tok = tokenize(xs, ys, token_format)
    pos = int(tok.read_positions[-1])

    def one(tokens):
        _, acts = model(tokens, tok.mask, capture=True)
        layers = {"embed": acts["hook_embed"][pos] + acts["hook_pos_embed"][pos]}
        layers.update({f"blocks.{i}": acts[f"blocks.{i}.hook_resid_post"][pos] for i in range(len(model.blocks))})
        return layers

    acts = jax.jit(jax.vmap(one))(tok.tokens)
    order = ["embed", *(f"blocks.{i}" for i in range(len(model.blocks)))]  # jit returns dicts key-sorted
    return {k: np.asarray(acts[k]) for k in order}


def probe_least_squares_weights(trainer, params, task: RegressionTask, token_format: str, key,
                                n_prompts: int = 2048) -> dict:
    """Held-out R² of a linear probe from each layer's residual stream (at the query) to the least-squares
    weights of the context, per seed. The embedding sees only the query token, so its R² is the floor."""
    p = sample_prompts(key, task, n_prompts)
    targets = np.asarray(least_squares_weights(p.xs, p.ys))
    n_seeds = jax.tree_util.tree_leaves(params)[0].shape[0]
    per_seed = []
    for i in range(n_seeds):
        acts = query_activations(trainer.model(unstack(params, i)), p.xs, p.ys, token_format)
        per_seed.append({layer: linear_probe_r2(feat, targets) for layer, feat in acts.items()})
    layers = list(per_seed[0])
    return {"layers": layers, "r2": [[round(s[layer], 4) for s in per_seed] for layer in layers]}
