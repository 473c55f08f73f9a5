"""The fast forms of models.xla_cpu equal the plain ones, and the models use them."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.models.transformer import GPT2Regressor
from mesaopt.models.xla_cpu import materialized_gradient


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
