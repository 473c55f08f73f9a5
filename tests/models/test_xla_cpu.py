"""The fast forms of models.xla_cpu equal the plain ones, and the models use them."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.models.transformer import GPT2Regressor
from mesaopt.models.xla_cpu import conv2d_same, conv2d_same_lax, dense, materialized_gradient


def _loss(f):
    return lambda x: jnp.sum(jnp.sin(f(x)) * jnp.arange(x.size).reshape(x.shape))


def test_materialized_gradient_is_the_identity_with_the_same_gradient():
    x = jax.random.normal(jax.random.key(0), (4, 6))
    np.testing.assert_array_equal(materialized_gradient(x), x)
    np.testing.assert_array_equal(jax.grad(_loss(materialized_gradient))(x), jax.grad(_loss(lambda v: v))(x))


def test_materialized_gradient_puts_a_barrier_in_the_backward_pass_only():
    x = jnp.ones((3, 3))
    assert "optimization_barrier" in str(jax.make_jaxpr(jax.grad(_loss(materialized_gradient)))(x))
    assert "optimization_barrier" not in str(jax.make_jaxpr(materialized_gradient)(x))
    assert "optimization_barrier" not in str(jax.make_jaxpr(jax.grad(_loss(lambda v: v)))(x))


def test_transformer_gradient_has_one_barrier_per_layer_norm():
    model = GPT2Regressor(3, d_model=8, n_layers=2, n_heads=2, n_ctx=4, d_mlp=16, key=jax.random.key(0))
    tokens, mask = jnp.ones((4, 3)), jnp.tril(jnp.ones((4, 4), bool))
    grad = eqx.filter_grad(lambda m: jnp.sum(m(tokens, mask) ** 2))
    assert str(eqx.filter_make_jaxpr(grad)(model)[0]).count("optimization_barrier") == 2 * 2 + 1


def _conv_operands(x_shape, w_shape, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, np.float32)
    w = rng.standard_normal(w_shape, np.float32) / np.sqrt(np.prod(w_shape[:3]), dtype=np.float32)
    return x, w, rng.standard_normal(w_shape[-1:], np.float32)


# (x shape, w shape): non-square, C_in == C_out, a 5x3 kernel, a 1x1 kernel
_CONV_SHAPES = [((5, 7, 3), (3, 3, 3, 4)), ((6, 6, 4), (3, 3, 4, 4)), ((4, 9, 2), (5, 3, 2, 3)),
                ((3, 3, 2), (1, 1, 2, 5))]


def test_conv2d_same_equals_lax_conv():
    for x_shape, w_shape in _CONV_SHAPES:
        x, w, b = _conv_operands(x_shape, w_shape)
        out = jax.jit(conv2d_same)(x, w, b)
        assert out.shape == (*x_shape[:2], w_shape[-1])
        np.testing.assert_allclose(out, jax.jit(conv2d_same_lax)(x, w, b), rtol=1e-5, atol=1e-5)


def test_conv2d_same_gradients_equal_lax_conv():
    for x_shape, w_shape in [_CONV_SHAPES[0], _CONV_SHAPES[2]]:
        operands = _conv_operands(x_shape, w_shape, seed=1)
        weights = np.random.default_rng(2).standard_normal((*x_shape[:2], w_shape[-1]), np.float32)

        def loss(conv):
            return lambda x, w, b: jnp.sum(jnp.tanh(conv(x, w, b)) * weights)

        got = jax.jit(jax.grad(loss(conv2d_same), argnums=(0, 1, 2)))(*operands)
        want = jax.jit(jax.grad(loss(conv2d_same_lax), argnums=(0, 1, 2)))(*operands)
        for g, r in zip(got, want):
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-5)


def test_conv2d_same_on_a_batch_equals_lax_conv_vmap_and_the_loop():
    xs, w, b = _conv_operands((2, 3, 5, 6, 4), (3, 3, 4, 2))
    batched = jax.jit(conv2d_same)(xs, w, b)
    np.testing.assert_allclose(batched, jax.jit(conv2d_same_lax)(xs, w, b), rtol=1e-5, atol=1e-5)
    vmapped = jax.jit(jax.vmap(jax.vmap(conv2d_same, in_axes=(0, None, None)), in_axes=(0, None, None)))
    np.testing.assert_allclose(batched, vmapped(xs, w, b), rtol=1e-5, atol=1e-5)
    one = jax.jit(conv2d_same)
    np.testing.assert_allclose(batched[1], np.stack([one(x, w, b) for x in xs[1]]), rtol=1e-5, atol=1e-5)


def test_conv2d_same_convolves_forward_and_differentiates_through_patches():
    x, w, b = _conv_operands((5, 7, 3), (3, 3, 3, 4))
    forward = str(jax.make_jaxpr(conv2d_same)(x[None], w, b))
    assert forward.count("conv_general_dilated") == 1 and "dot_general" not in forward
    grads = jax.grad(lambda *args: conv2d_same(*args).sum(), argnums=(0, 1, 2))
    backward = str(jax.make_jaxpr(grads)(x[None], w, b))
    assert backward.count("conv_general_dilated") == 1  # the forward value only
    assert backward.count("dot_general") >= 2  # the patches form's input and weight gradients


def test_conv2d_same_rejects_an_even_kernel():
    x, w, b = _conv_operands((4, 4, 2), (2, 2, 2, 3))
    with pytest.raises(ValueError, match="odd kernel"):
        conv2d_same(x, w, b)


def _plain_dense(x, w, b):
    return x @ w + b


def test_dense_equals_the_plain_product_in_value_and_gradient_for_any_leading_shape():
    kx, kw, kb = jax.random.split(jax.random.key(3), 3)
    w, b = jax.random.normal(kw, (5, 7)), jax.random.normal(kb, (7,))
    for shape in [(5,), (4, 5), (3, 4, 5)]:
        x = jax.random.normal(kx, shape)
        np.testing.assert_allclose(dense(x, w, b), _plain_dense(x, w, b), rtol=1e-6)
        loss = lambda f: lambda *a: jnp.sum(jnp.tanh(f(*a)) * jnp.arange(7.0))
        got, want = jax.grad(loss(dense), (0, 1, 2))(x, w, b), jax.grad(loss(_plain_dense), (0, 1, 2))(x, w, b)
        for g, r in zip(got, want):
            np.testing.assert_allclose(g, r, rtol=1e-5, atol=1e-6)


def test_dense_gradient_under_vmap_over_weights_matches_a_loop():
    """Seeds are vmapped with their own weights: the custom backward pass must batch correctly."""
    x = jax.random.normal(jax.random.key(4), (3, 6, 5))
    ws = jax.random.normal(jax.random.key(5), (2, 5, 4))
    loss = lambda w, x: jnp.sum(dense(x, w, jnp.ones(4)) ** 2)
    batched = jax.vmap(jax.grad(loss), in_axes=(0, None))(ws, x)
    looped = jnp.stack([jax.grad(loss)(w, x) for w in ws])
    np.testing.assert_allclose(batched, looped, rtol=1e-5)


def test_transformer_on_a_batch_equals_the_transformer_on_each_prompt():
    model = GPT2Regressor(3, d_model=8, n_layers=2, n_heads=2, n_ctx=4, d_mlp=16, key=jax.random.key(0))
    tokens, mask = jax.random.normal(jax.random.key(6), (5, 4, 3)), jnp.tril(jnp.ones((4, 4), bool))
    batched, per_prompt = jax.jit(lambda t: model(t, mask)), jax.jit(jax.vmap(lambda t: model(t, mask)))
    np.testing.assert_allclose(batched(tokens), per_prompt(tokens), rtol=1e-5, atol=1e-6)
    grad = lambda f: jax.jit(jax.grad(lambda t: jnp.sum(f(t) ** 2)))(tokens)
    np.testing.assert_allclose(grad(lambda t: model(t, mask)), grad(jax.vmap(lambda t: model(t, mask))),
                               rtol=1e-4, atol=1e-6)
