"""Forms of common operations that XLA's CPU backend (jaxlib 0.10.2) runs fast; each one equal to the plain form.

Measured with ``benchmarks/profile_transformer.py`` and ``benchmarks/bench_conv.py`` (figures in
``benchmarks/README.md``). Every function here is exact (or equal to float rounding) and tested against the
plain form in ``tests/models/test_xla_cpu.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


@jax.custom_vjp
def materialized_gradient(x: jax.Array) -> jax.Array:
    """Identity; in the backward pass the incoming gradient is written to memory once before it is used.

    Why: in a residual network the gradient of the residual stream is a long sum (one term per later block).
    XLA's CPU fusion pass copies cheap elementwise producers into every consumer, so each layer-norm backward
    and each transposing copy that feeds a weight-gradient matmul recomputed the whole sum, in a transposed
    order. In the ``icl-regression`` transformer five such fusions took 17.5 of the step's ~40 ms. An
    optimization barrier on the gradient stops the duplication; the numbers are unchanged.
    """
    return x


def _materialized_gradient_fwd(x):
    return x, None


def _materialized_gradient_bwd(_, grad):
    return (jax.lax.optimization_barrier(grad),)


materialized_gradient.defvjp(_materialized_gradient_fwd, _materialized_gradient_bwd)
