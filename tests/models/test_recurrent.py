"""Contract of the recurrent actor-critics: shapes, jit/vmap, determinism, hidden reset, names, steering."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.detectors.policies import RecurrentActorCriticPolicy, policy_from_model
from mesaopt.models import MODELS

OBS_SHAPE, N_ACTIONS = (3, 5, 5), 4
RECURRENT = ("gru", "conv-gru")
NAMES = {
    "gru": {"encoder.0.hook_post", "gru.hook_hidden", "hook_logits", "hook_value"},
    "conv-gru": {"encoder.0.hook_post", "gru.hook_hidden", "dense.hook_post", "hook_logits", "hook_value"},
}


@pytest.fixture(scope="session")
def models():
    return {name: MODELS[name](OBS_SHAPE, N_ACTIONS, key=jax.random.key(0)) for name in RECURRENT}


def _obs(seed, batch=()):
    return jax.random.bernoulli(jax.random.key(seed), 0.3, (*batch, *OBS_SHAPE)).astype(jnp.float32)


@pytest.mark.parametrize("name", RECURRENT)
def test_step_shapes_and_zero_initial_hidden(models, name):
    model = models[name]
    hidden = model.initial_hidden()
    assert not np.any(np.asarray(hidden))
    new_hidden, (logits, value) = model.step(hidden, _obs(1))
    assert new_hidden.shape == hidden.shape and logits.shape == (N_ACTIONS,) and value.shape == ()
    assert np.all(np.isfinite(np.asarray(logits)))


@pytest.mark.parametrize("name", RECURRENT)
def test_call_is_one_step_from_the_initial_hidden_state(models, name):
    model, obs = models[name], _obs(2)
    logits, value = model(obs)
    _, (logits_step, value_step) = model.step(model.initial_hidden(), obs)
    np.testing.assert_array_equal(logits, logits_step)
    np.testing.assert_array_equal(value, value_step)


@pytest.mark.parametrize("name", RECURRENT)
def test_jit_vmap_match_per_example_steps(models, name):
    model = models[name]
    obs = _obs(3, (4,))
    hidden = jax.vmap(lambda _: model.initial_hidden())(jnp.arange(4))
    hidden = jax.vmap(model.step)(hidden, _obs(4, (4,)))[0]  # non-zero hidden states
    batched_h, (batched_logits, _) = jax.jit(jax.vmap(model.step))(hidden, obs)
    for i in range(4):
        h_i, (logits_i, _) = model.step(hidden[i], obs[i])
        np.testing.assert_allclose(batched_logits[i], logits_i, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(batched_h[i], h_i, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", RECURRENT)
def test_construction_is_deterministic_per_key(name):
    a = MODELS[name](OBS_SHAPE, N_ACTIONS, key=jax.random.key(7))
    b = MODELS[name](OBS_SHAPE, N_ACTIONS, key=jax.random.key(7))
    c = MODELS[name](OBS_SHAPE, N_ACTIONS, key=jax.random.key(8))
    leaves = lambda m: [np.asarray(x) for x in jax.tree_util.tree_leaves(m)]
    assert all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(b)))
    assert not all(np.array_equal(x, y) for x, y in zip(leaves(a), leaves(c)))


@pytest.mark.parametrize("name", RECURRENT)
def test_hidden_state_carries_information_and_reset_forgets_it(models, name):
    """Same current observation, different past: different output; from the reset state, the same output."""
    model, obs = models[name], _obs(5)
    h_a = model.step(model.initial_hidden(), _obs(6))[0]
    h_b = model.step(model.initial_hidden(), _obs(7))[0]
    out_a, out_b = model.step(h_a, obs)[1][1], model.step(h_b, obs)[1][1]
    assert not np.allclose(out_a, out_b)
    reset_a = model.step(model.initial_hidden(), obs)[1][1]
    np.testing.assert_array_equal(reset_a, model(obs)[1])


@pytest.mark.parametrize("name", RECURRENT)
def test_capture_names_are_stable_and_match_outputs(models, name):
    model = models[name]
    hidden, (logits, _), acts = model.step(model.initial_hidden(), _obs(8), capture=True)
    assert set(acts) == NAMES[name] == set(model.activation_names())
    np.testing.assert_array_equal(acts["hook_logits"], logits)
    np.testing.assert_array_equal(acts["gru.hook_hidden"], hidden)
    (logits_call, _), acts_call = model(_obs(8), capture=True)
    np.testing.assert_array_equal(logits_call, logits)
    assert set(acts_call) == NAMES[name]


@pytest.mark.parametrize("name", RECURRENT)
def test_steer_adds_to_the_named_activation(models, name):
    model, obs = models[name], _obs(9)
    delta = jnp.array([1.0, -2.0, 0.5, 0.0])
    (logits, _), _ = model(obs, capture=True)
    (steered, _), acts = model(obs, capture=True, steer={"hook_logits": delta})
    np.testing.assert_allclose(steered, logits + delta, rtol=1e-6)
    np.testing.assert_allclose(acts["hook_logits"], logits + delta, rtol=1e-6)
    push = jnp.ones_like(model.initial_hidden())
    hidden, _ = model.step(model.initial_hidden(), obs)
    steered_hidden, _ = model.step(model.initial_hidden(), obs, steer={"gru.hook_hidden": push})
    np.testing.assert_allclose(steered_hidden, hidden + push, rtol=1e-6)


@pytest.mark.parametrize("name", RECURRENT)
def test_unknown_steer_name_is_rejected(models, name):
    with pytest.raises(ValueError, match="unknown activation"):
        models[name](_obs(0), steer={"blocks.0.hook_resid_post": jnp.zeros(1)})


def test_policy_from_model_sees_a_recurrent_policy(models):
    policy = policy_from_model(models["gru"])
    assert isinstance(policy, RecurrentActorCriticPolicy)
    _, logits = policy.step(policy.initial_carry(), _obs(1))
    np.testing.assert_array_equal(logits, models["gru"].step(models["gru"].initial_hidden(), _obs(1))[1][0])


def test_conv_gru_rejects_flat_observations_and_bad_sizes():
    with pytest.raises(ValueError, match="conv-gru"):
        MODELS["conv-gru"]((75,), N_ACTIONS, key=jax.random.key(0))
    with pytest.raises(ValueError, match="gru width"):
        MODELS["gru"](OBS_SHAPE, N_ACTIONS, width=0, key=jax.random.key(0))


def test_conv3x3_matmul_matches_lax_convolution():
    from mesaopt.models.actor_critic import conv3x3

    x = jax.random.normal(jax.random.key(1), (5, 7, 6))
    for use_bias in (True, False):
        conv = eqx.nn.Conv2d(5, 3, 3, padding=1, use_bias=use_bias, key=jax.random.key(2))
        np.testing.assert_allclose(conv3x3(conv, x), conv(x), rtol=1e-5, atol=1e-5)
