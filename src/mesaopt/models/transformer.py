"""A small GPT-2-style transformer that reads real-valued tokens and writes one scalar per position.

Weights and activations carry TransformerLens names: weights ``embed.W_E``, ``pos_embed.W_pos``,
``blocks.{i}.ln1.w``, ``blocks.{i}.attn.W_Q`` (heads, d_model, d_head), ``blocks.{i}.mlp.W_in``, ``ln_final.w``,
``unembed.W_U`` (see :func:`named_weights`); activations (``capture=True``) ``hook_embed``, ``hook_pos_embed``,
``blocks.{i}.hook_resid_pre``, ``blocks.{i}.attn.hook_pattern``, ``blocks.{i}.hook_attn_out``,
``blocks.{i}.hook_mlp_out``, ``blocks.{i}.hook_resid_post``, ``ln_final.hook_normalized``.
Pre-LayerNorm blocks, GELU MLP, learned positions; the attention mask is an input (token formats differ).
"""

from __future__ import annotations

import math

import equinox as eqx
import jax
import jax.numpy as jnp

from mesaopt.models.xla_cpu import dense, materialized_gradient


def _normal(key, shape, std):
    return std * jax.random.normal(key, shape)


class LayerNorm(eqx.Module):
    w: jax.Array
    b: jax.Array

    def __init__(self, d_model: int):
        self.w, self.b = jnp.ones(d_model), jnp.zeros(d_model)

    def __call__(self, x):
        x = materialized_gradient(x)  # the residual stream's gradient, stored once (see models.xla_cpu)
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / jnp.sqrt(var + 1e-5) * self.w + self.b


class Attention(eqx.Module):
    W_Q: jax.Array
    W_K: jax.Array
    W_V: jax.Array
    W_O: jax.Array
    b_Q: jax.Array
    b_K: jax.Array
    b_V: jax.Array
    b_O: jax.Array

    def __init__(self, d_model: int, n_heads: int, n_layers: int, *, key):
        d_head = d_model // n_heads
        kq, kk, kv, ko = jax.random.split(key, 4)
        self.W_Q, self.W_K, self.W_V = (_normal(k, (n_heads, d_model, d_head), 0.02) for k in (kq, kk, kv))
        self.W_O = _normal(ko, (n_heads, d_head, d_model), 0.02 / math.sqrt(2 * n_layers))
        self.b_Q = self.b_K = self.b_V = jnp.zeros((n_heads, d_head))
        self.b_O = jnp.zeros(d_model)

    def __call__(self, x, mask):
        """``x (..., T, d_model)``, ``mask (T, T)`` -> ``(out (..., T, d_model), pattern (..., heads, T, T))``."""
        n_heads, d_model, d_head = self.W_Q.shape
        # One dense (T, D) @ (D, 3·H·Dh) product instead of three per-head einsums: XLA-CPU runs it faster.
        w_qkv = jnp.concatenate([w.transpose(1, 0, 2).reshape(d_model, n_heads * d_head)
                                 for w in (self.W_Q, self.W_K, self.W_V)], axis=1)
        b_qkv = jnp.concatenate([b.reshape(-1) for b in (self.b_Q, self.b_K, self.b_V)])
        qkv = dense(x, w_qkv, b_qkv).reshape(*x.shape[:-1], 3, n_heads, d_head)
        q, k, v = qkv[..., 0, :, :], qkv[..., 1, :, :], qkv[..., 2, :, :]
        scores = jnp.einsum("...qhe,...khe->...hqk", q, k) / math.sqrt(d_head)
        pattern = jax.nn.softmax(jnp.where(mask, scores, -1e30), axis=-1)
        z = jnp.einsum("...hqk,...khe->...qhe", pattern, v).reshape(*x.shape[:-1], n_heads * d_head)
        return dense(z, self.W_O.reshape(n_heads * d_head, d_model), self.b_O), pattern


class MLP(eqx.Module):
    W_in: jax.Array
    b_in: jax.Array
    W_out: jax.Array
    b_out: jax.Array

    def __init__(self, d_model: int, d_mlp: int, n_layers: int, *, key):
        k_in, k_out = jax.random.split(key)
        self.W_in, self.b_in = _normal(k_in, (d_model, d_mlp), 0.02), jnp.zeros(d_mlp)
        self.W_out, self.b_out = _normal(k_out, (d_mlp, d_model), 0.02 / math.sqrt(2 * n_layers)), jnp.zeros(d_model)

    def __call__(self, x):
        return dense(jax.nn.gelu(dense(x, self.W_in, self.b_in)), self.W_out, self.b_out)


class Block(eqx.Module):
    ln1: LayerNorm
    attn: Attention
    ln2: LayerNorm
    mlp: MLP

    def __init__(self, d_model: int, n_heads: int, d_mlp: int, n_layers: int, *, key):
        k_attn, k_mlp = jax.random.split(key)
        self.ln1, self.ln2 = LayerNorm(d_model), LayerNorm(d_model)
        self.attn = Attention(d_model, n_heads, n_layers, key=k_attn)
        self.mlp = MLP(d_model, d_mlp, n_layers, key=k_mlp)


class Embed(eqx.Module):
    W_E: jax.Array
    b_E: jax.Array


class PosEmbed(eqx.Module):
    W_pos: jax.Array


class Unembed(eqx.Module):
    W_U: jax.Array
    b_U: jax.Array


class GPT2Regressor(eqx.Module):
    """GPT-2-style transformer: ``model(tokens (..., T, d_in), mask (T, T)) -> (..., T)`` scalar outputs.

    Leading batch dimensions are optional: a batch of prompts runs as one program with large matmuls (faster on
    XLA's CPU backend than ``vmap`` of one prompt, whose weight gradients ``dense`` cannot then shape)."""

    embed: Embed
    pos_embed: PosEmbed
    blocks: tuple
    ln_final: LayerNorm
    unembed: Unembed

    def __init__(self, d_in: int, *, d_model: int = 64, n_layers: int = 3, n_heads: int = 4, n_ctx: int = 64,
                 d_mlp: int | None = None, key):
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        k_embed, k_pos, k_unembed, k_blocks = jax.random.split(key, 4)
        self.embed = Embed(_normal(k_embed, (d_in, d_model), 1.0 / math.sqrt(d_in)), jnp.zeros(d_model))
        self.pos_embed = PosEmbed(_normal(k_pos, (n_ctx, d_model), 0.02))
        self.blocks = tuple(Block(d_model, n_heads, d_mlp or 4 * d_model, n_layers, key=k)
                            for k in jax.random.split(k_blocks, n_layers))
        self.ln_final = LayerNorm(d_model)
        self.unembed = Unembed(_normal(k_unembed, (d_model, 1), 0.02), jnp.zeros(1))

    @property
    def n_ctx(self) -> int:
        """Longest token sequence the positional embedding allows."""
        return self.pos_embed.W_pos.shape[0]

    def __call__(self, tokens: jax.Array, mask: jax.Array, capture: bool = False):
        acts: dict[str, jax.Array] = {}
        embedded = dense(tokens, self.embed.W_E, self.embed.b_E)
        pos = self.pos_embed.W_pos[: tokens.shape[-2]]
        acts["hook_embed"], acts["hook_pos_embed"] = embedded, pos
        resid = embedded + pos
        for i, block in enumerate(self.blocks):
            acts[f"blocks.{i}.hook_resid_pre"] = resid
            attn_out, acts[f"blocks.{i}.attn.hook_pattern"] = block.attn(block.ln1(resid), mask)
            resid = resid + attn_out
            mlp_out = block.mlp(block.ln2(resid))
            resid = resid + mlp_out
            acts[f"blocks.{i}.hook_attn_out"], acts[f"blocks.{i}.hook_mlp_out"] = attn_out, mlp_out
            acts[f"blocks.{i}.hook_resid_post"] = resid
        normalized = self.ln_final(resid)
        acts["ln_final.hook_normalized"] = normalized
        out = dense(normalized, self.unembed.W_U, self.unembed.b_U)[..., 0]
        return (out, acts) if capture else out


def named_weights(model: eqx.Module) -> dict[str, jax.Array]:
    """Every array of ``model`` under its TransformerLens-style dotted name (``blocks.0.attn.W_Q``)."""
    leaves = jax.tree_util.tree_leaves_with_path(eqx.filter(model, eqx.is_array))
    out = {}
    for path, leaf in leaves:
        parts = [str(p.idx) if isinstance(p, jax.tree_util.SequenceKey) else p.name for p in path]
        out[".".join(parts)] = leaf
    return out
