"""Where XLA's CPU convolution is slow: forward and backward of a 3×3 convolution, alone and inside loops.

    .venv/bin/python benchmarks/profile_conv_loop.py [--repeats 5]

mesaopt alone (its own venv is enough). One convolution of ``bench_conv.py``'s block (width 32 -> 32, 13×13,
batch 32, 'SAME', bias), in three forms:

* ``lax.conv``: ``models.xla_cpu.conv2d_same_lax`` (XLA's convolution; its gradients are XLA's own, whose
  convolutions carry other dimension labels than the forward one);
* ``conv2d_same``: ``models.xla_cpu.conv2d_same`` (XLA's convolution forward, patches and one matmul backward);
* ``canonical``: XLA's convolution forward, and a custom VJP whose two backward convolutions are written with the
  forward's labels (NHWC / HWIO): the input gradient as the convolution of the output gradient with the flipped,
  transposed kernel, the weight gradient as a 'VALID' convolution with the channels as the batch and the images
  as the features.

Timed, GFLOP/s of the convolutions (2·H·W·9·C_in·C_out per image; forward + backward = 3×):

1. ``pieces``: the forward, the input gradient and the weight gradient, each alone in its own jitted program;
   and the patches' matmul alone (5,408 × 288 by 288 × 32), the kernel every matmul form leans on;
2. ``chain``: 20 convolutions with ReLU, forward and backward, in four contexts: unrolled in Python, a
   ``lax.scan``, and each of those inside a ``lax.scan`` over 2 steps (a loop around the whole program, as every
   training chunk of mesaopt has); and forward only, in a ``lax.scan``.

Medians of ``--repeats`` calls. Every form's gradients are checked against ``lax.conv``'s first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

from mesaopt.models.xla_cpu import conv2d_same, conv2d_same_lax  # noqa: E402

BATCH, SIDE, WIDTH, CHAIN = 32, 13, 32, 20
LABELS = ("NHWC", "HWIO", "NHWC")
GFLOP = 2 * BATCH * SIDE * SIDE * 9 * WIDTH * WIDTH / 1e9  # one forward convolution


def _conv(x, w, padding):
    return jax.lax.conv_general_dilated(x, w, (1, 1), padding, dimension_numbers=LABELS)


@jax.custom_vjp
def canonical(x, w, b):
    return _conv(x, w, "SAME") + b


def _canonical_fwd(x, w, b):
    return canonical(x, w, b), (x, w)


def _canonical_bwd(residuals, grad):
    x, w = residuals
    grad_x = _conv(grad, jnp.flip(w, (0, 1)).transpose(0, 1, 3, 2), "SAME")
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    grad_w = _conv(padded.transpose(3, 1, 2, 0), grad.transpose(1, 2, 0, 3), "VALID").transpose(1, 2, 0, 3)
    return grad_x, grad_w, grad.sum((0, 1, 2))


canonical.defvjp(_canonical_fwd, _canonical_bwd)
FORMS = {"lax.conv": conv2d_same_lax, "conv2d_same": conv2d_same, "canonical": canonical}


def pieces(conv):
    """Jitted forward, input gradient and weight gradient of one convolution, each its own program."""
    def vjp_of(x, w, b, grad):
        return jax.vjp(conv, x, w, b)[1](grad)

    return {"forward": jax.jit(conv),
            "input gradient": jax.jit(lambda x, w, b, grad: vjp_of(x, w, b, grad)[0]),
            "weight gradient": jax.jit(lambda x, w, b, grad: vjp_of(x, w, b, grad)[1])}


def chain_gradient(conv, context):
    """Gradient of 20 chained convolutions (ReLU between) with respect to the weight, in one context."""
    def loss(w, b, x):
        step = lambda h, _: (jax.nn.relu(conv(h, w, b)), None)  # noqa: E731
        if context.startswith("scan"):
            h = jax.lax.scan(step, x, None, length=CHAIN)[0]
        else:
            h = x
            for _ in range(CHAIN):
                h = step(h, None)[0]
        return jnp.sum(h * h)

    grad = jax.grad(loss, (0, 1))
    if not context.endswith("in a loop"):
        return jax.jit(grad)

    def twice(w, b, x):  # a loop around the whole program (two steps), as a training chunk's scan
        def step(carry, _):  # each step's input depends on the last step's result: nothing to hoist
            grads = grad(w, b, x + carry)
            return carry + 1e-6 * jnp.mean(grads[0]), grads

        return jax.lax.scan(step, jnp.zeros(()), None, length=2)[1]

    return jax.jit(twice)


def chain_forward(conv):
    """20 chained convolutions (ReLU between) in a ``lax.scan``, forward only."""
    def forward(w, b, x):
        return jax.lax.scan(lambda h, _: (jax.nn.relu(conv(h, w, b)), None), x, None, length=CHAIN)[0]

    return jax.jit(forward)


def check(x, w, b, grad):
    reference = jax.vjp(conv2d_same_lax, x, w, b)[1](grad)
    for name, conv in FORMS.items():
        for got, want in zip(jax.vjp(conv, x, w, b)[1](grad), reference):
            np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-3, atol=1e-2, err_msg=name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    k_x, k_w, k_g = jax.random.split(jax.random.key(0), 3)
    x = jax.random.normal(k_x, (BATCH, SIDE, SIDE, WIDTH))
    w = jax.random.normal(k_w, (3, 3, WIDTH, WIDTH)) / (3 * WIDTH ** 0.5)
    b = jnp.zeros(WIDTH)
    grad = jax.random.normal(k_g, (BATCH, SIDE, SIDE, WIDTH))
    check(x, w, b, grad)
    print(f"{jax.devices()[0].platform}, jax {jax.__version__}; GFLOP/s of the convolutions, median of {args.repeats}")
    patches = jax.random.normal(k_x, (BATCH * SIDE * SIDE, 9 * WIDTH))
    seconds = _harness.median_seconds(lambda p, m: p @ m, patches, w.reshape(-1, WIDTH), repeats=args.repeats)
    print(f"pieces  the patches' matmul alone          {GFLOP / seconds:6.1f}")
    for name, conv in FORMS.items():
        for piece, fn in pieces(conv).items():
            call_args = (x, w, b) if piece == "forward" else (x, w, b, grad)
            seconds = _harness.median_seconds(fn, *call_args, repeats=args.repeats)
            print(f"pieces  {name:12s} {piece:17s}      {GFLOP / seconds:6.1f}")
    contexts = ("unrolled", "scan", "unrolled, in a loop", "scan, in a loop")
    for name, conv in FORMS.items():
        for context in contexts:
            steps = 2 if context.endswith("in a loop") else 1
            seconds = _harness.median_seconds(chain_gradient(conv, context), w, b, x, repeats=args.repeats)
            print(f"chain   {name:12s} {context:22s} {3 * CHAIN * steps * GFLOP / seconds:6.1f}", flush=True)
        seconds = _harness.median_seconds(chain_forward(conv), w, b, x, repeats=args.repeats)
        print(f"chain   {name:12s} {'scan, forward only':22s} {CHAIN * GFLOP / seconds:6.1f}", flush=True)


if __name__ == "__main__":
    main()
