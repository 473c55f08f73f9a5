"""Forward-only cost of the thinker's 3×3 convolution in four forms, mesaopt alone (its own venv is enough).

    .venv/bin/python benchmarks/profile_conv_forward.py [--repeats 5]

One recall convolution of ``maze-search``'s thinker (state of width 16 ‖ 3 image channels -> 16, ReLU) iterated
20 times in a ``lax.scan`` over 100 images of side 9 and 37, jitted; milliseconds per convolution-iteration,
median of ``--repeats`` calls, the forms interleaved. Forms: ``lax.conv`` (XLA's convolution,
``models.xla_cpu.conv2d_same_lax``), ``patches`` (9 shifted copies concatenated, one matmul: the backward form of
``conv2d_same``), ``taps`` (9 per-tap matmuls accumulated), ``rows3`` (3 column-shifted copies, 3 row-offset
matmuls). Every form is checked against ``lax.conv`` first.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.models.xla_cpu import conv2d_same_patches, conv2d_same_lax

SIDES, IMAGES, ITERATIONS, WIDTH, IMAGE_CHANNELS = (9, 37), 100, 20, 16, 3


def taps(x, w, b):
    height, width = x.shape[-3:-1]
    padded = jnp.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    out = b
    for i in range(3):
        for j in range(3):
            out = out + padded[:, i:i + height, j:j + width, :] @ w[i, j]
    return out


def rows3(x, w, b):
    height, width = x.shape[-3:-1]
    padded = jnp.pad(x, [(0, 0), (1, 1), (1, 1), (0, 0)])
    wide = jnp.concatenate([padded[:, :, j:j + width, :] for j in range(3)], axis=-1)
    out = b
    for i in range(3):
        out = out + wide[:, i:i + height, :, :] @ w[i].reshape(-1, w.shape[-1])
    return out


FORMS = {"lax.conv": conv2d_same_lax, "patches": conv2d_same_patches, "taps": taps, "rows3": rows3}


def iterated(conv, image, w, b):
    def body(state, _):
        return jax.nn.relu(conv(jnp.concatenate([state, image], axis=-1), w, b)), None

    return jax.jit(lambda state: jax.lax.scan(body, state, None, length=ITERATIONS)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    k_state, k_image, k_w = jax.random.split(jax.random.key(0), 3)
    w = 0.05 * jax.random.normal(k_w, (3, 3, WIDTH + IMAGE_CHANNELS, WIDTH))
    b = jnp.zeros(WIDTH)
    for side in SIDES:
        state = jax.random.normal(k_state, (IMAGES, side, side, WIDTH))
        image = jax.random.normal(k_image, (IMAGES, side, side, IMAGE_CHANNELS))
        runs = {name: iterated(form, image, w, b) for name, form in FORMS.items()}
        reference = np.asarray(runs["lax.conv"](state))
        for name, run in runs.items():
            np.testing.assert_allclose(np.asarray(run(state)), reference, rtol=1e-3, atol=1e-3, err_msg=name)
        times = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, run in runs.items():
                started = time.perf_counter()
                jax.block_until_ready(run(state))
                times[name].append(time.perf_counter() - started)
        cells = "  ".join(f"{name} {np.median(t) * 1000 / ITERATIONS:.3f}" for name, t in times.items())
        print(f"side {side}: ms per convolution-iteration ({IMAGES} images): {cells}")


if __name__ == "__main__":
    main()
