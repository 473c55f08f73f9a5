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
    order. In the ``icl-regression`` transformer such fusions took 19.8 of the 43.2 ms summed over a step's
    operations (``benchmarks/profile_transformer.py --plain``, 2026-12-04). An
    optimization barrier on the gradient stops the duplication; the numbers are unchanged.
    """
    return x


def _materialized_gradient_fwd(x):
    return x, None


def _materialized_gradient_bwd(_, grad):
    return (jax.lax.optimization_barrier(grad),)


materialized_gradient.defvjp(_materialized_gradient_fwd, _materialized_gradient_bwd)


def conv2d_same(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """A stride-1, zero-padded ('SAME') 2-D convolution: XLA's convolution forward, patches in the backward pass.

    ``x`` (..., H, W, C_in) (leading batch dimensions optional), ``w`` (kh, kw, C_in, C_out) with odd ``kh`` and
    ``kw``, ``b`` (C_out,) -> (..., H, W, C_out). The value is :func:`conv2d_same_lax`'s; the gradients (a custom
    VJP) are those of :func:`conv2d_same_patches`, equal to the plain ones to float rounding: the images are
    zero-padded by ``kh // 2`` and ``kw // 2``, their ``kh * kw`` shifted copies stacked along the channel axis
    (kernel row, kernel column, channel: the order of ``w.reshape``), and ``patches (rows, kh*kw*C_in) @ w`` is
    one :func:`dense` product over every pixel of every image. Call it on the whole batch, not under ``vmap`` (see
    :func:`dense`). The patches exist only inside the backward pass; they are never stored across iterations.

    Why: XLA's CPU convolution ran the ``bench_conv.py`` network (forward and backward) at 4.2 GFLOP/s, the
    patches form at 64 (2026-12-04, ``benchmarks/README.md``). That slowness is the convolution's backward pass:
    forward only, XLA's convolution took 16.2 ms against the patches' 24.8 on 100 37×37 images (though 1.06 against
    0.79 on 9×9; ``benchmarks/profile_conv_forward.py``). With this split the ``maze-search`` thinker's whole
    training step ran at 54.8 steps/s on 2 seeds against 49.3 all-patches (torch eager: 54.6;
    ``benchmarks/bench_thinker.py``, 2026-12-05).
    """
    kh, kw, c_in, c_out = w.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"conv2d_same needs an odd kernel size, got {kh}x{kw}")
    if x.ndim < 3 or x.shape[-1] != c_in:
        raise ValueError(f"conv2d_same needs x of shape (..., H, W, {c_in}), got {x.shape}")
    return _conv2d_same_fast(x, w, b)


@jax.custom_vjp
def _conv2d_same_fast(x, w, b):
    return conv2d_same_lax(x, w, b)


def _conv2d_same_fast_fwd(x, w, b):
    return conv2d_same_lax(x, w, b), (x, w, b)


def _conv2d_same_fast_bwd(residuals, grad):
    return jax.vjp(conv2d_same_patches, *residuals)[1](grad)


_conv2d_same_fast.defvjp(_conv2d_same_fast_fwd, _conv2d_same_fast_bwd)


@jax.checkpoint
def conv2d_same_patches(x, w, b):
    """:func:`conv2d_same` as patch extraction and one :func:`dense` product (no checks): the form its backward
    pass differentiates; the patches are recomputed there rather than stored (``jax.checkpoint``)."""
    kh, kw, c_in, c_out = w.shape
    height, width = x.shape[-3:-1]
    padded = jnp.pad(x, [(0, 0)] * (x.ndim - 3) + [(kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)])
    patches = jnp.concatenate([padded[..., i:i + height, j:j + width, :] for i in range(kh) for j in range(kw)],
                              axis=-1)
    return dense(patches, w.reshape(kh * kw * c_in, c_out), b)


def conv2d_same_lax(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """The plain form of :func:`conv2d_same`: ``jax.lax.conv_general_dilated`` (NHWC / HWIO, stride 1, 'SAME').

    ``x`` (..., H, W, C_in), ``w`` (kh, kw, C_in, C_out), ``b`` (C_out,) -> (..., H, W, C_out). The reference the
    fast form is tested against, and the slow side of ``benchmarks/bench_conv.py``.
    """
    images = x.reshape(-1, *x.shape[-3:])
    out = jax.lax.conv_general_dilated(images, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return out.reshape(*x.shape[:-1], w.shape[-1]) + b


@jax.custom_vjp
def dense(x: jax.Array, w: jax.Array, b: jax.Array) -> jax.Array:
    """``x @ w + b`` for ``x`` of shape ``(..., d_in)``, ``w`` ``(d_in, d_out)``, ``b`` ``(d_out,)``.

    Why: the weight gradient of ``x @ w`` contracts the rows of both ``x`` and the output gradient. Left to
    itself, XLA's CPU backend lays that product out as a matmul with a transposed left operand, which its fast
    matmul library (YNNPACK) does not take: it ran on the slower Eigen path after transposing copies of the
    activations. Here the backward pass writes it as ``x.T @ grad`` over the flattened rows, and the bias
    gradient as one sum, which XLA runs through YNNPACK. Values and gradients equal the plain form's.
    Reverse mode only (a custom VJP): ``jax.jvp`` or ``jax.jacfwd`` through it raise; use ``x @ w + b`` there.
    """
    return x @ w + b


def _dense_fwd(x, w, b):
    return x @ w + b, (x, w)


def _dense_bwd(residuals, grad):
    x, w = residuals
    rows, grad_rows = x.reshape(-1, x.shape[-1]), grad.reshape(-1, grad.shape[-1])
    return grad @ w.T, rows.T @ grad_rows, grad_rows.sum(0)


dense.defvjp(_dense_fwd, _dense_bwd)
