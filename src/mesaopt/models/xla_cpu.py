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


def conv2d_same(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """A stride-1, 'SAME'-padded 2-D convolution of one image, as patch extraction and one matrix multiply.

    ``x`` (H, W, C_in), ``w`` (kh, kw, C_in, C_out) with odd ``kh`` and ``kw``, ``b`` (C_out,) -> (H, W, C_out);
    equal to :func:`conv2d_same_lax` to float rounding. The image is zero-padded by ``kh // 2`` and ``kw // 2``,
    its ``kh * kw`` shifted copies are stacked along the channel axis (rows ordered kernel row, kernel column,
    channel, as ``w.reshape`` orders them), and ``patches (H*W, kh*kw*C_in) @ w (kh*kw*C_in, C_out)`` is one
    matmul. Under ``vmap`` over a batch the weight is shared, so the batch folds into the rows of that matmul.

    Why: XLA's CPU convolution is slow for small images and channel counts, and the matmul form is not.
    Measured in benchmarks/bench_conv.py.
    """
    kh, kw, c_in, c_out = w.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"conv2d_same needs an odd kernel size, got {kh}x{kw}")
    if x.ndim != 3 or x.shape[-1] != c_in:
        raise ValueError(f"conv2d_same needs x of shape (H, W, {c_in}), got {x.shape}")
    height, width, _ = x.shape
    padded = jnp.pad(x, ((kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    patches = jnp.concatenate([padded[i : i + height, j : j + width] for i in range(kh) for j in range(kw)], axis=-1)
    out = patches.reshape(height * width, kh * kw * c_in) @ w.reshape(kh * kw * c_in, c_out)
    return out.reshape(height, width, c_out) + b


def conv2d_same_lax(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """The plain form of :func:`conv2d_same`: ``jax.lax.conv_general_dilated`` (NHWC / HWIO, stride 1, 'SAME').

    ``x`` (H, W, C_in), ``w`` (kh, kw, C_in, C_out), ``b`` (C_out,) -> (H, W, C_out). The reference the fast form
    is tested against. Measured in benchmarks/bench_conv.py.
    """
    out = jax.lax.conv_general_dilated(x[None], w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return out[0] + b


@jax.custom_vjp
def dense(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """``x @ w + b`` for ``x`` of shape ``(..., d_in)``, ``w`` ``(d_in, d_out)``, ``b`` ``(d_out,)``.

    Why: the weight gradient of ``x @ w`` contracts the rows of both ``x`` and the output gradient. Left to
    itself, XLA's CPU backend lays that product out as a matmul with a transposed left operand, which its fast
    matmul library (YNNPACK) does not take: it ran on the slower Eigen path after transposing copies of the
    activations. Here the backward pass writes it as ``x.T @ grad`` over the flattened rows, and the bias
    gradient as one sum, which XLA runs through YNNPACK. Values and gradients equal the plain form's.
    """
    return x @ w + b


def _dense_fwd(x, w, b):
    return x @ w + b, (x, w)


def _dense_bwd(residuals, grad):
    x, w = residuals
    rows, grad_rows = x.reshape(-1, x.shape[-1]), grad.reshape(-1, grad.shape[-1])
    return grad @ w.T, rows.T @ grad_rows, grad_rows.sum(0)


dense.defvjp(_dense_fwd, _dense_bwd)
