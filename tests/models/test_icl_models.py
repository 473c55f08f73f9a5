"""The in-context-regression models: the GPT-2-style regressor, its token formats, and the LSA layer."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.models.lsa import LinearSelfAttention, gd_lsa, lsa_predict_queries
from mesaopt.models.transformer import GPT2Regressor, named_weights
from mesaopt.tasks.tokens import TOKEN_FORMATS, predict_with_sequence_model, sequence_length, tokenize

D_IN, D_MODEL, N_LAYERS, N_HEADS, N_CTX, D_MLP = 3, 8, 2, 2, 12, 16
D_HEAD = D_MODEL // N_HEADS
D, N = 2, 5  # regression input dimension and examples per prompt for the token-format tests (tokens d+1 = D_IN)


@pytest.fixture(scope="session")
def small_gpt():
    return GPT2Regressor(D_IN, d_model=D_MODEL, n_layers=N_LAYERS, n_heads=N_HEADS, n_ctx=N_CTX, d_mlp=D_MLP,
                         key=jax.random.key(0))


@pytest.fixture(scope="session")
def random_gpt(small_gpt):
    """The small GPT with every weight redrawn at a scale where each input visibly moves the outputs (the GPT-2
    init is so small that a dependence would be hard to tell from rounding)."""
    leaves, treedef = jax.tree_util.tree_flatten(small_gpt)
    keys = jax.random.split(jax.random.key(1), len(leaves))
    return jax.tree_util.tree_unflatten(treedef, [0.5 * jax.random.normal(k, x.shape) for k, x in zip(keys, leaves)])


@pytest.fixture(scope="session")
def predict_fns(random_gpt):
    """Per token format, a jitted ``(xs, ys) -> (B, n)`` prediction function (compiled once, reused)."""
    return {fmt: jax.jit(lambda xs, ys, fmt=fmt: predict_with_sequence_model(random_gpt, xs, ys, fmt))
            for fmt in TOKEN_FORMATS}


def causal(t):
    return jnp.asarray(np.tril(np.ones((t, t), dtype=bool)))


# ------------------------------------------------------------------------- GPT2Regressor


def test_gpt_output_shape_and_capture_matches(small_gpt):
    t = 6
    tokens = jax.random.normal(jax.random.key(2), (t, D_IN))
    out = small_gpt(tokens, causal(t))
    assert out.shape == (t,)
    out2, acts = small_gpt(tokens, causal(t), capture=True)
    np.testing.assert_allclose(out2, out, rtol=1e-6, atol=1e-7)
    expected = {"hook_embed": (t, D_MODEL), "hook_pos_embed": (t, D_MODEL), "ln_final.hook_normalized": (t, D_MODEL)}
    for i in range(N_LAYERS):
        expected |= {f"blocks.{i}.hook_resid_pre": (t, D_MODEL), f"blocks.{i}.attn.hook_pattern": (N_HEADS, t, t),
                     f"blocks.{i}.hook_attn_out": (t, D_MODEL), f"blocks.{i}.hook_mlp_out": (t, D_MODEL),
                     f"blocks.{i}.hook_resid_post": (t, D_MODEL)}
    assert {k: v.shape for k, v in acts.items()} == expected
    np.testing.assert_allclose(acts["blocks.0.hook_resid_pre"], acts["hook_embed"] + acts["hook_pos_embed"], atol=1e-6)
    np.testing.assert_allclose(acts["blocks.1.hook_resid_pre"], acts["blocks.0.hook_resid_post"])


def test_gpt_attention_pattern_respects_the_mask(small_gpt):
    t = 6
    tokens = jax.random.normal(jax.random.key(3), (t, D_IN))
    mask = tokenize(jnp.zeros((1, 3, D_IN - 1)), jnp.zeros((1, 3)), "concatenated").mask  # not plain causal
    _, acts = small_gpt(tokens, mask, capture=True)
    for i in range(N_LAYERS):
        pattern = acts[f"blocks.{i}.attn.hook_pattern"]
        np.testing.assert_allclose(pattern.sum(-1), 1.0, rtol=1e-5)
        assert bool(jnp.all(jnp.where(mask[None], True, pattern == 0.0)))
        assert bool(jnp.all(pattern >= 0))


def test_named_weights_use_transformerlens_names_and_shapes(small_gpt):
    w = {k: v.shape for k, v in named_weights(small_gpt).items()}
    expected = {"embed.W_E": (D_IN, D_MODEL), "embed.b_E": (D_MODEL,), "pos_embed.W_pos": (N_CTX, D_MODEL),
                "ln_final.w": (D_MODEL,), "ln_final.b": (D_MODEL,), "unembed.W_U": (D_MODEL, 1), "unembed.b_U": (1,)}
    for i in range(N_LAYERS):
        b = f"blocks.{i}"
        expected |= {f"{b}.ln1.w": (D_MODEL,), f"{b}.ln1.b": (D_MODEL,), f"{b}.ln2.w": (D_MODEL,),
                     f"{b}.ln2.b": (D_MODEL,),
                     f"{b}.attn.W_Q": (N_HEADS, D_MODEL, D_HEAD), f"{b}.attn.W_K": (N_HEADS, D_MODEL, D_HEAD),
                     f"{b}.attn.W_V": (N_HEADS, D_MODEL, D_HEAD), f"{b}.attn.W_O": (N_HEADS, D_HEAD, D_MODEL),
                     f"{b}.attn.b_Q": (N_HEADS, D_HEAD), f"{b}.attn.b_K": (N_HEADS, D_HEAD),
                     f"{b}.attn.b_V": (N_HEADS, D_HEAD), f"{b}.attn.b_O": (D_MODEL,),
                     f"{b}.mlp.W_in": (D_MODEL, D_MLP), f"{b}.mlp.b_in": (D_MLP,),
                     f"{b}.mlp.W_out": (D_MLP, D_MODEL), f"{b}.mlp.b_out": (D_MODEL,)}
    assert w == expected
    assert small_gpt.n_ctx == N_CTX


def test_gpt_rejects_heads_that_do_not_divide_d_model():
    with pytest.raises(ValueError, match="divisible"):
        GPT2Regressor(D_IN, d_model=10, n_heads=4, n_layers=1, key=jax.random.key(0))


# ------------------------------------------------------------------------- token formats


def prompts(seed, batch=2):
    kx, ky = jax.random.split(jax.random.key(seed))
    return jax.random.normal(kx, (batch, N, D)), jax.random.normal(ky, (batch, N))


def test_token_shapes_and_read_positions():
    xs, ys = prompts(0)
    inter = tokenize(xs, ys, "interleaved")
    assert inter.tokens.shape == (2, sequence_length(N), D + 1) and inter.mask.shape == (2 * N, 2 * N)
    np.testing.assert_array_equal(inter.read_positions, np.arange(0, 2 * N, 2))
    np.testing.assert_array_equal(inter.tokens[:, 0::2, :D], xs)
    np.testing.assert_array_equal(inter.tokens[:, 1::2, D], ys)
    assert bool(jnp.all(inter.tokens[:, 0::2, D] == 0)) and bool(jnp.all(inter.tokens[:, 1::2, :D] == 0))
    conc = tokenize(xs, ys, "concatenated")
    assert conc.tokens.shape == (2, 2 * N, D + 1) and conc.mask.shape == (2 * N, 2 * N)
    np.testing.assert_array_equal(conc.read_positions, np.arange(N, 2 * N))
    np.testing.assert_array_equal(conc.tokens[:, :N, :D], xs)
    np.testing.assert_array_equal(conc.tokens[:, :N, D], ys)
    np.testing.assert_array_equal(conc.tokens[:, N:, :D], xs)
    assert bool(jnp.all(conc.tokens[:, N:, D] == 0))  # the read tokens never hold their own label


def test_unknown_token_format_names_the_allowed_ones():
    xs, ys = prompts(0)
    with pytest.raises(MesaoptError, match="interleaved.*concatenated"):
        tokenize(xs, ys, "diagonal")


@pytest.mark.parametrize("fmt", TOKEN_FORMATS)
def test_predictions_see_the_past_but_not_their_label_or_the_future(predict_fns, fmt):
    predict = predict_fns[fmt]
    xs, ys = prompts(1)
    base = predict(xs, ys)
    assert base.shape == (2, N)
    new_xs, new_ys = prompts(2)
    for i in range(N):
        later_ys = ys.at[:, i:].set(new_ys[:, i:])  # includes the label being predicted
        np.testing.assert_allclose(predict(xs, later_ys)[:, i], base[:, i], rtol=1e-6, atol=1e-6)
        later_xs = xs.at[:, i + 1:].set(new_xs[:, i + 1:])
        np.testing.assert_allclose(predict(later_xs, ys)[:, i], base[:, i], rtol=1e-6, atol=1e-6)
        if i > 0:
            earlier_y = ys.at[:, i - 1].add(3.0)
            assert float(jnp.min(jnp.abs(predict(xs, earlier_y)[:, i] - base[:, i]))) > 1e-3
            earlier_x = xs.at[:, 0].add(3.0)
            assert float(jnp.min(jnp.abs(predict(earlier_x, ys)[:, i] - base[:, i]))) > 1e-3
        own_x = xs.at[:, i].add(3.0)  # the query itself is seen
        assert float(jnp.min(jnp.abs(predict(own_x, ys)[:, i] - base[:, i]))) > 1e-3


# ------------------------------------------------------------------------- LSA


def test_lsa_prediction_is_the_y_entry_of_the_query_update():
    d, n = 3, 4
    layer = LinearSelfAttention(d, key=jax.random.key(5), init_scale=1.0)
    X = jax.random.normal(jax.random.key(6), (n, d))
    y = jax.random.normal(jax.random.key(7), (n,))
    xq = jax.random.normal(jax.random.key(8), (d,))
    pred, acts = layer(X, y, xq, capture=True)
    assert set(acts) == {"hook_scores", "hook_attn_out", "hook_resid_post"}
    assert acts["hook_scores"].shape == (n,) and acts["hook_attn_out"].shape == (d + 1,)
    assert acts["hook_resid_post"].shape == (d + 1,)
    # by hand: Δe_q = W_PV Σ_i e_i (e_iᵀ W_KQ e_q) / N
    E = np.concatenate([np.asarray(X), np.asarray(y)[:, None]], axis=1).astype(np.float64)
    eq = np.concatenate([np.asarray(xq), [0.0]])
    kq, pv = np.asarray(layer.W_KQ, np.float64), np.asarray(layer.W_PV, np.float64)
    update = pv @ sum(E[i] * (E[i] @ kq @ eq) for i in range(n)) / n
    np.testing.assert_allclose(acts["hook_scores"], E @ kq @ eq, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(acts["hook_attn_out"], update, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(acts["hook_resid_post"], eq + update, rtol=1e-4, atol=1e-5)
    assert float(pred) == pytest.approx(update[-1], rel=1e-4, abs=1e-5)
    assert float(pred) == float(acts["hook_attn_out"][-1]) == float(acts["hook_resid_post"][-1])
    assert float(layer(X, y, xq)) == float(pred)


def test_gd_lsa_prediction_by_hand():
    d, n, eta = 3, 5, 0.7
    layer = gd_lsa(d, eta)
    assert layer.d == d
    xs = jax.random.normal(jax.random.key(9), (2, n + 1, d))
    ys = jax.random.normal(jax.random.key(10), (2, n + 1))
    preds = lsa_predict_queries(layer, xs, ys)
    assert preds.shape == (2,)
    X, Y = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
    for b in range(2):
        by_hand = eta / n * sum(Y[b, i] * X[b, i] @ X[b, -1] for i in range(n))
        assert float(preds[b]) == pytest.approx(by_hand, rel=1e-5, abs=1e-6)
