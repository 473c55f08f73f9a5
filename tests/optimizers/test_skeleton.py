"""model_skeleton: the model's static part, found by tracing the factory (no initialiser runs)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.models import MODELS
from mesaopt.optimizers.skeleton import model_skeleton

OBS_SHAPE = (3, 5, 5)


def test_model_skeleton_traces_the_factory_and_rebuilds_the_model():
    traced = []

    def factory(key):
        traced.append(isinstance(key, jax.core.Tracer))
        return MODELS["mlp"](OBS_SHAPE, 4, width=16, depth=2, key=key)

    skeleton = model_skeleton(factory)
    assert traced == [True]  # only traced: no array was computed
    leaves = jax.tree_util.tree_leaves(skeleton)
    assert not any(isinstance(leaf, (jax.Array, jax.ShapeDtypeStruct)) for leaf in leaves)
    model = factory(jax.random.key(1))
    rebuilt = eqx.combine(eqx.filter(model, eqx.is_array), skeleton)
    obs = jnp.ones(OBS_SHAPE)
    for got, want in zip(rebuilt(obs), model(obs)):
        np.testing.assert_array_equal(got, want)
