"""The ``steer`` keyword of the actor-critic models: default unchanged, deltas added where named, bad names rejected."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.models import CNNActorCritic, MLPActorCritic
from mesaopt.models.actor_critic import dense

OBS_SHAPE = (3, 5, 5)


@pytest.fixture(scope="module")
def models():
    k1, k2 = jax.random.split(jax.random.key(0))
    return {"mlp": MLPActorCritic(OBS_SHAPE, 4, key=k1), "cnn": CNNActorCritic(OBS_SHAPE, 4, channels=4, width=8, key=k2)}


@pytest.fixture(scope="module")
def obs():
    return jax.random.bernoulli(jax.random.key(1), 0.3, OBS_SHAPE).astype(jnp.float32)


def _mlp_reference(model, obs, delta_actor0=0.0):
    """The MLP actor-critic written out by hand (the pre-steer code path)."""
    x = obs.reshape(-1)
    h0 = jnp.tanh(dense(model.actor.layers[0], x)) + delta_actor0
    logits = dense(model.policy_head, jnp.tanh(dense(model.actor.layers[1], h0)))
    value = dense(model.value_head, jnp.tanh(dense(model.critic.layers[1], jnp.tanh(dense(model.critic.layers[0], x)))))[0]
    return logits, value


def _cnn_reference(model, obs):
    """The CNN actor-critic with equinox's own convolutions (``lax.conv``) in place of ``conv3x3``."""
    x = obs
    for conv in model.convs:
        x = jax.nn.relu(conv(x))
    x = jax.nn.relu(dense(model.dense, x.reshape(-1)))
    return dense(model.policy_head, x), dense(model.value_head, x)[0]


def test_cnn_equals_the_network_with_equinox_convolutions(models, obs):
    model = models["cnn"]
    batch = jax.random.bernoulli(jax.random.key(3), 0.3, (6, *OBS_SHAPE)).astype(jnp.float32)
    logits, value = jax.vmap(model)(batch)
    ref_logits, ref_value = jax.vmap(lambda o: _cnn_reference(model, o))(batch)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(value, ref_value, rtol=1e-5, atol=1e-6)
    assert not np.allclose(value[0], value[1])  # the observations matter

    def loss(m, f):
        out_logits, out_value = jax.vmap(f(m))(batch)
        return (out_logits ** 2).sum() + (out_value ** 2).sum()

    grads = jax.grad(loss)(model, lambda m: m)
    ref_grads = jax.grad(loss)(model, lambda m: (lambda o: _cnn_reference(m, o)))
    for g, r in zip(jax.tree_util.tree_leaves(grads.convs), jax.tree_util.tree_leaves(ref_grads.convs)):
        np.testing.assert_allclose(g, r, rtol=1e-4, atol=1e-6)
        assert np.abs(r).max() > 0


def test_dense_is_the_equinox_linear_layer(models, obs):
    layer = models["mlp"].actor.layers[0]
    batch = jax.random.normal(jax.random.key(2), (16, layer.in_features))
    np.testing.assert_allclose(dense(layer, obs.reshape(-1)), layer(obs.reshape(-1)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jax.vmap(lambda x: dense(layer, x))(batch), jax.vmap(layer)(batch), rtol=1e-5, atol=1e-6)
    assert not np.allclose(dense(layer, batch[0]), dense(layer, batch[1]))


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_activation_names_are_the_captured_names(models, obs, name):
    _, acts = models[name](obs, capture=True)
    assert set(acts) == set(models[name].activation_names())


def test_default_is_bit_identical_to_the_unsteered_network(models, obs):
    model = models["mlp"]
    logits, value = model(obs)
    ref_logits, ref_value = _mlp_reference(model, obs)
    assert np.array_equal(logits, ref_logits) and np.array_equal(value, ref_value)
    for steer in ({}, {"actor.0.hook_post": jnp.zeros(64)}):
        out = model(obs, steer=steer)
        assert np.array_equal(out[0], logits) and np.array_equal(out[1], value)


def test_steering_adds_the_delta_and_flows_downstream(models, obs):
    model = models["mlp"]
    delta = jax.random.normal(jax.random.key(2), (64,))
    (logits, value), acts = model(obs, capture=True, steer={"actor.0.hook_post": delta})
    _, plain = model(obs, capture=True)
    np.testing.assert_allclose(acts["actor.0.hook_post"], plain["actor.0.hook_post"] + delta, rtol=1e-6)
    ref_logits, ref_value = _mlp_reference(model, obs, delta)
    np.testing.assert_allclose(logits, ref_logits, rtol=1e-5, atol=1e-7)
    assert not np.allclose(logits, plain["hook_logits"])
    assert np.array_equal(value, ref_value)  # the critic never sees the actor's steer


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_steering_the_heads_shifts_outputs_exactly(models, obs, name):
    model = models[name]
    logits, value = model(obs)
    delta = jnp.array([1.0, -2.0, 0.5, 0.0])
    s_logits, s_value = model(obs, steer={"hook_logits": delta, "hook_value": jnp.asarray(3.0)})
    np.testing.assert_allclose(s_logits, logits + delta, rtol=1e-6)
    np.testing.assert_allclose(s_value, value + 3.0, rtol=1e-6)


def test_cnn_conv_steer_has_the_conv_shape_and_changes_the_output(models, obs):
    model = models["cnn"]
    _, plain = model(obs, capture=True)
    delta = jnp.ones_like(plain["convs.0.hook_post"])
    (logits, _), acts = model(obs, capture=True, steer={"convs.0.hook_post": delta})
    np.testing.assert_allclose(acts["convs.0.hook_post"], plain["convs.0.hook_post"] + 1.0, rtol=1e-6)
    assert not np.allclose(acts["dense.hook_post"], plain["dense.hook_post"])
    assert not np.allclose(logits, plain["hook_logits"])


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_unknown_steer_name_is_one_line_error_listing_names(models, obs, name):
    with pytest.raises(ValueError, match="allowed") as err:
        models[name](obs, steer={"actor.9.hook_post": jnp.zeros(64)})
    assert "\n" not in str(err.value) and "hook_logits" in str(err.value)


def test_steer_works_under_jit_and_vmap(models, obs):
    model = models["mlp"]
    deltas = jax.random.normal(jax.random.key(3), (3, 64))
    run = jax.jit(jax.vmap(lambda d: model(obs, steer={"actor.1.hook_post": d})[0]))
    batched = run(deltas)
    single = model(obs, steer={"actor.1.hook_post": deltas[1]})[0]
    np.testing.assert_allclose(batched[1], single, rtol=1e-5, atol=1e-7)
    assert not np.allclose(batched[0], batched[2])
