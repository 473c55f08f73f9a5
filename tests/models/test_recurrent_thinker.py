"""The recurrent thinking network: iterations chosen per call, resumable from any state, recall of the input."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.models.thinking import RecurrentThinker


@pytest.fixture(scope="module")
def net_and_images():
    net = RecurrentThinker(3, width=8, key=jax.random.key(0))
    images = jax.random.bernoulli(jax.random.key(1), 0.5, (2, 7, 7, 3)).astype(jnp.float32)
    return net, images


def test_shapes_and_iterations_are_a_call_argument(net_and_images):
    net, images = net_and_images
    assert net(images, 3).shape == (2, 7, 7, 2)
    assert net(images[0], 3).shape == (7, 7, 2)  # no batch dimension needed
    assert net(images, 9).shape == (2, 7, 7, 2)  # more iterations than any "training" count, same weights
    assert not np.allclose(net(images, 1), net(images, 6))  # iterations change the output
    with pytest.raises(ValueError, match="iterations must be >= 1"):
        net(images, 0)


def test_thinking_resumes_from_an_intermediate_state(net_and_images):
    net, images = net_and_images
    halfway = net.think(images, 2)
    np.testing.assert_allclose(net.think(images, 3, state=halfway), net.think(images, 5), rtol=1e-5, atol=1e-6)


def test_capture_gives_every_state_and_its_readout(net_and_images):
    net, images = net_and_images
    logits, acts = net(images, 4, capture=True)
    assert acts["hook_state"].shape == (4, 2, 7, 7, 8) and acts["hook_logits"].shape == (4, 2, 7, 7, 2)
    np.testing.assert_allclose(acts["hook_state"][1], net.think(images, 2), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(logits, net(images, 4), rtol=1e-5, atol=1e-6)


def test_recall_feeds_the_image_into_every_iteration(net_and_images):
    """From the same state, a different image changes the next state (a network without recall would not)."""
    net, images = net_and_images
    state = net.think(images, 2)
    assert not np.allclose(net.step(state, images), net.step(state, images[::-1]))


def test_batch_equals_one_image_at_a_time_and_gradients_flow(net_and_images):
    net, images = net_and_images
    np.testing.assert_allclose(net(images, 3)[1], net(images[1], 3), rtol=1e-5, atol=1e-5)
    grads = jax.grad(lambda m: jnp.sum(m(images, 3) ** 2))(net)
    assert all(float(jnp.abs(g).sum()) > 0 for g in jax.tree_util.tree_leaves(grads))


def test_feed_forward_control_has_untied_blocks_and_one_fixed_depth():
    from mesaopt.models.thinking import FeedForwardThinker

    images = jax.random.bernoulli(jax.random.key(2), 0.5, (2, 7, 7, 3)).astype(jnp.float32)
    net = FeedForwardThinker(3, depth=4, width=8, key=jax.random.key(0))
    tied = RecurrentThinker(3, width=8, key=jax.random.key(0))
    n_params = lambda m: sum(x.size for x in jax.tree_util.tree_leaves(m))  # noqa: E731
    block = tied.recall[0].size + tied.recall[1].size + tied.mix[0].size + tied.mix[1].size
    assert n_params(net) == n_params(tied) + 3 * block  # four blocks of their own instead of one shared
    assert not np.allclose(net.recall[0][0], net.recall[0][1])  # untied
    np.testing.assert_array_equal(net(images, 2), net(images, 30))  # cannot think longer
    logits, acts = net(images, capture=True)
    assert acts["hook_state"].shape == (4, 2, 7, 7, 8)
    np.testing.assert_allclose(logits, net(images), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="depth must be >= 1"):
        FeedForwardThinker(3, depth=0, key=jax.random.key(0))


def test_residual_layers_deepen_every_iteration_and_the_control_mirrors_them():
    """``residual_layers`` adds residual convolutions inside the block: zeroing the added ones gives back the
    one-layer network exactly, and a feed-forward control whose blocks all copy the tied block computes the same
    function as the recurrent network run for its depth."""
    from mesaopt.models.thinking import FeedForwardThinker

    images = jax.random.bernoulli(jax.random.key(3), 0.5, (2, 7, 7, 3)).astype(jnp.float32)
    one = RecurrentThinker(3, width=8, key=jax.random.key(0))
    three = RecurrentThinker(3, width=8, residual_layers=3, key=jax.random.key(0))
    assert one.more_mix is None and three.more_mix[0].shape == (2, 3, 3, 8, 8)
    assert not np.allclose(three(images, 3), one(images, 3))
    silenced = jax.tree_util.tree_map(jnp.zeros_like, three.more_mix)
    silenced = eqx_replace(three, "more_mix", silenced)
    np.testing.assert_allclose(silenced(images, 3), one(images, 3), rtol=1e-5, atol=1e-6)

    control = FeedForwardThinker(3, depth=2, width=8, residual_layers=3, key=jax.random.key(5))
    copies = lambda x: jnp.stack([x, x])  # noqa: E731
    for name in ("project", "head", "out"):
        control = eqx_replace(control, name, getattr(three, name))
    for name in ("recall", "mix", "more_mix"):
        control = eqx_replace(control, name, jax.tree_util.tree_map(copies, getattr(three, name)))
    np.testing.assert_allclose(control(images), three(images, 2), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="residual_layers must be >= 1"):
        RecurrentThinker(3, width=8, residual_layers=0, key=jax.random.key(0))


def eqx_replace(module, name: str, value):
    """``module`` with the field ``name`` replaced."""
    import equinox as eqx

    return eqx.tree_at(lambda m: getattr(m, name), module, value, is_leaf=lambda x: x is None)
