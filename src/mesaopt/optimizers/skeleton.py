"""A model's static part (its structure and settings, arrays removed), found without computing any array."""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax


def _is_array_like(leaf) -> bool:
    return isinstance(leaf, (jax.Array, jax.ShapeDtypeStruct))


def model_skeleton(model_factory: Callable) -> eqx.Module:
    """``model_factory(key)`` with its arrays removed; ``eqx.combine(params, static)`` rebuilds the model.

    The factory is only traced (``eqx.filter_eval_shape``): building the model for real would run its
    initialisers eagerly, one small compile per operation (3-5 s on a cold 2-core CPU, before training starts).
    """
    shapes = eqx.filter_eval_shape(model_factory, jax.random.key(0))
    return eqx.filter(shapes, _is_array_like, inverse=True)
