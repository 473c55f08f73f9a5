"""Recurrent convolutional network training steps per second: mesaopt (JAX) against plain PyTorch, side by side.

    benchmarks/.venv-peers/bin/python benchmarks/bench_conv.py [--repeats 3] [--steps-per-chunk 4]

The network is a stand-in for the recurrent "deep thinking" maze solver (Bansal et al. 2022, recall variant),
the same on both sides. Per example (channels-last on the JAX side, NCHW in torch):

* input: a 13×13 image with 3 channels, entries 0 or 1 (Bernoulli 0.5), batch 32 fresh images per step;
* ``p = relu(conv_in(x))``: a 3×3 convolution 3 -> 32 channels (the projection);
* ``h = p``, then one weight-tied block applied 20 times: ``h = relu(conv_a(concat([h, p])))`` (64 -> 32, the
  input "recall"), then ``h = relu(conv_b(h)) + h`` (32 -> 32, residual);
* ``logits = conv_head(h)``: a 3×3 convolution 32 -> 2 channels; loss = per-pixel cross-entropy against random
  0/1 targets (Bernoulli 0.5, drawn with the images), mean over pixels and batch.

Every convolution is 3×3, stride 1, zero 'SAME' padding, with a bias: 29,186 parameters on both sides. One
training step = forward + backward + an Adam update (lr 1e-3; ``optax.adam`` / ``torch.optim.Adam``).

* mesaopt: the model applied to the whole batch (``(B, H, W, C)`` arrays), the 20 iterations a ``lax.scan``;
  a chunk of ``--steps-per-chunk`` steps in one jitted ``lax.scan``, each step drawing its batch with
  ``jax.random``. Two variants, differing only in the convolution: ``lax.conv``
  (``models.xla_cpu.conv2d_same_lax``, XLA's convolution) and ``patch matmul`` (``models.xla_cpu.conv2d_same``:
  the 9 shifted copies stacked along the channel axis, then one matmul); and ``patch matmul, split batch``:
  the same with each step's batch split across the JAX CPU devices (one per core; a ``NamedSharding`` on the
  images and targets, the parameters replicated), as every JAX side of these benchmarks uses the machine's cores;
  and ``lax.conv, no loop``: XLA's convolution with the 20 iterations unrolled in Python and one jitted step per
  call, so that no while loop encloses a convolution (XLA's CPU backend runs the backward convolutions about 20x
  slower inside one: ``profile_conv_loop.py``), as torch does and unlike mesaopt's experiments, which train in
  scanned chunks; and ``lax.conv, no loop, split batch``, both.
* torch: the same network as an ``nn.Module`` of ``nn.Conv2d`` (NCHW), batch drawn with ``torch.randint`` each
  step, ``torch.optim.Adam``, ``torch.set_num_threads(2)``; ``eager``, and ``compile`` (``torch.compile`` of
  model + loss: forward and backward compiled, the 20 iterations unrolled; optimizer step eager).

Steps/s counts training steps, compile excluded; medians over ``--repeats`` chunks, sides interleaved. GFLOP/s
counts only the convolutions, analytically: ``2·H·W·kh·kw·C_in·C_out`` per convolution per example, times 3 for
forward + backward (the same count on every side, so it is steps/s in other units).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SIZE, IN_CHANNELS, WIDTH, OUT_CHANNELS = 13, 3, 32, 2
BATCH, ITERATIONS, KERNEL, LR = 32, 20, 3, 1e-3
LAYERS = {  # name: (C_in, C_out, times applied per forward pass)
    "conv_in": (IN_CHANNELS, WIDTH, 1),
    "conv_a": (2 * WIDTH, WIDTH, ITERATIONS),
    "conv_b": (WIDTH, WIDTH, ITERATIONS),
    "conv_head": (WIDTH, OUT_CHANNELS, 1),
}
N_PARAMS = sum(KERNEL * KERNEL * c_in * c_out + c_out for c_in, c_out, _ in LAYERS.values())
FLOPS_PER_STEP = 3 * BATCH * sum(2 * SIZE * SIZE * KERNEL * KERNEL * c_in * c_out * n
                                 for c_in, c_out, n in LAYERS.values())
SIDES = {"mesaopt": ["lax.conv", "patch matmul", "patch matmul, split batch", "lax.conv, no loop",
                     "lax.conv, no loop, split batch"],
         "torch": ["eager", "compile"]}



def check_n_params(n_params: int) -> int:
    if n_params != N_PARAMS:
        raise ValueError(f"the network has {n_params} parameters, not {N_PARAMS}; update bench_conv.py")
    return n_params


# ----------------------------------------------------------------------------------------------- mesaopt


def jax_init_params(key):
    """torch's default ``Conv2d`` initialisation: weight and bias ~ U(±1/sqrt(fan_in)); weights HWIO."""
    import jax

    params = {}
    for k, (name, (c_in, c_out, _)) in zip(jax.random.split(key, len(LAYERS)), LAYERS.items()):
        kw, kb = jax.random.split(k)
        bound = 1 / (KERNEL * KERNEL * c_in) ** 0.5
        params[name] = (jax.random.uniform(kw, (KERNEL, KERNEL, c_in, c_out), minval=-bound, maxval=bound),
                        jax.random.uniform(kb, (c_out,), minval=-bound, maxval=bound))
    return params


def jax_forward(conv, params, x, unrolled: bool = False):
    """A batch: ``x`` (B, H, W, 3) -> logits (B, H, W, 2); ``conv(x, w, b)`` is one of ``models.xla_cpu``'s.
    The iterations are a ``lax.scan``, or with ``unrolled`` a Python loop (no while loop in the program)."""
    import jax
    import jax.numpy as jnp

    p = jax.nn.relu(conv(x, *params["conv_in"]))

    def iteration(hidden, _):
        hidden = jax.nn.relu(conv(jnp.concatenate([hidden, p], axis=-1), *params["conv_a"]))
        return jax.nn.relu(conv(hidden, *params["conv_b"])) + hidden, None

    if unrolled:
        hidden = p
        for _ in range(ITERATIONS):
            hidden, _ = iteration(hidden, None)
    else:
        hidden, _ = jax.lax.scan(iteration, p, None, length=ITERATIONS)
    return conv(hidden, *params["conv_head"])


def setup_mesaopt(steps: int):
    from importlib.metadata import version

    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax

    from mesaopt.models.xla_cpu import conv2d_same, conv2d_same_lax

    convs = {"lax.conv": conv2d_same_lax, "patch matmul": conv2d_same, "patch matmul, split batch": conv2d_same,
             "lax.conv, no loop": conv2d_same_lax, "lax.conv, no loop, split batch": conv2d_same_lax}
    mesh = jax.sharding.Mesh(np.array(jax.devices()), ("batch",))
    split, replicated = (jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec(*spec)) for spec in
                         (("batch",), ()))
    optimizer = optax.adam(LR)

    def prepare(variant):
        conv = convs[variant]
        shard = variant.endswith("split batch")
        no_loop = "no loop" in variant

        def batch(key):
            kx, ky = jax.random.split(key)
            x = jax.random.bernoulli(kx, 0.5, (BATCH, SIZE, SIZE, IN_CHANNELS)).astype(jnp.float32)
            y = jax.random.bernoulli(ky, 0.5, (BATCH, SIZE, SIZE)).astype(jnp.int32)
            if shard:  # half the batch per core; XLA sums the gradients across the devices
                x, y = (jax.lax.with_sharding_constraint(a, split) for a in (x, y))
            return x, y

        def loss_fn(params, x, y):
            logits = jax_forward(conv, params, x, unrolled=no_loop)  # the whole batch at once
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        def train_step(carry, _):
            params, opt_state, key = carry
            key, sub = jax.random.split(key)
            loss, grads = jax.value_and_grad(loss_fn)(params, *batch(sub))
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, key), loss

        start = time.perf_counter()
        params = jax_init_params(jax.random.key(0))
        state = (params, optimizer.init(params), jax.random.key(1))
        if shard:
            state = jax.device_put(state, replicated)
        if no_loop:  # one jitted step per call: no while loop around XLA's convolutions
            one_step = jax.jit(lambda s: train_step(s, None), donate_argnums=0).lower(state).compile()

            def runner(s):
                losses = []
                for _ in range(steps):
                    s, loss = one_step(s)
                    losses.append(loss)
                return s, losses[-1]
        else:
            chunk = jax.jit(lambda s: jax.lax.scan(train_step, s, None, length=steps), donate_argnums=0)
            runner = chunk.lower(state).compile()
        setup_s = time.perf_counter() - start
        box = [state]

        def run_chunk():
            box[0], losses = runner(box[0])
            jax.block_until_ready(losses)

        return setup_s, run_chunk, steps

    n_params = sum(x.size for x in jax.tree_util.tree_leaves(jax_init_params(jax.random.key(0))))
    info = {"versions": {n: version(n) for n in ("mesaopt", "jax", "jaxlib", "optax")},
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""), "n_params": check_n_params(int(n_params))}
    return info, h.chunk_handler(prepare)


# ----------------------------------------------------------------------------------------------- torch


def torch_model():
    """The same network as a plain ``nn.Module``: ``model(x (B, 3, H, W)) -> logits (B, 2, H, W)``."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class RecurrentConvNet(nn.Module):
        def __init__(self):
            super().__init__()
            for name, (c_in, c_out, _) in LAYERS.items():
                setattr(self, name, nn.Conv2d(c_in, c_out, KERNEL, padding=KERNEL // 2))

        def forward(self, x):
            p = F.relu(self.conv_in(x))
            hidden = p
            for _ in range(ITERATIONS):
                hidden = F.relu(self.conv_a(torch.cat([hidden, p], dim=1)))
                hidden = F.relu(self.conv_b(hidden)) + hidden
            return self.conv_head(hidden)

    return RecurrentConvNet()


def setup_torch(steps: int):
    from importlib.metadata import version

    import torch
    from torch.nn import functional as F

    torch.set_num_threads(2)

    def prepare(variant):
        start = time.perf_counter()
        torch.manual_seed(0)
        model = torch_model()
        opt = torch.optim.Adam(model.parameters(), lr=LR)

        def loss_fn(x, y):  # per-pixel cross-entropy, mean over pixels and batch
            return F.cross_entropy(model(x), y)

        loss = torch.compile(loss_fn) if variant == "compile" else loss_fn

        def step():
            x = torch.randint(0, 2, (BATCH, IN_CHANNELS, SIZE, SIZE)).float()
            y = torch.randint(0, 2, (BATCH, SIZE, SIZE))
            opt.zero_grad(set_to_none=True)
            loss(x, y).backward()
            opt.step()

        for _ in range(2):  # torch.compile compiles here (forward and backward)
            step()

        def run_chunk():
            for _ in range(steps):
                step()

        return time.perf_counter() - start, run_chunk, steps

    n_params = sum(p.numel() for p in torch_model().parameters())
    info = {"versions": {"torch": version("torch")}, "threads": torch.get_num_threads(),
            "n_params": check_n_params(n_params)}
    return info, h.chunk_handler(prepare)


SETUPS = {"mesaopt": setup_mesaopt, "torch": setup_torch}


# ----------------------------------------------------------------------------------------------- driver


def run_driver(args) -> dict:
    script = Path(__file__).resolve()
    env = {"MESAOPT_BENCH_STEPS": str(args.steps_per_chunk)}
    timeout = max(600.0, 60.0 * args.steps_per_chunk)  # a slow convolution can take seconds per step
    samples, compile_s, errors, info = h.measure_variant_sides(
        script, SIDES, args.sides, args.repeats, env=env, tag="conv", prepare_timeout=timeout + 300,
        measure_timeout=timeout)
    rows = [{"side": s, "variant": v, "compile_s": compile_s[s, v], **h.summarize(x)}
            for (s, v), x in samples.items() if x]
    for row in rows:
        row["gflop_per_s"] = FLOPS_PER_STEP * row["median"] / 1e9
    return {"machine": h.machine_info(), "args": vars(args), "info": info, "rows": rows,
            "network": {"size": SIZE, "batch": BATCH, "width": WIDTH, "iterations": ITERATIONS,
                        "n_params": N_PARAMS, "gflop_per_step": FLOPS_PER_STEP / 1e9},
            "errors": {h.key_name(k): e for k, e in errors.items()}}



def best_of(rows, side):
    rates = {v: h.median_of(rows, side, v) for v in SIDES[side] if h.median_of(rows, side, v) is not None}
    best = max(rates, key=rates.get) if rates else None
    return best, rates.get(best)



def ratio_line(label, ours, theirs):
    return h.print_ratio(label, ours, theirs, digits=2)


def report(result: dict) -> None:
    rows, args = result["rows"], result["args"]
    best_m, best_m_rate = best_of(rows, "mesaopt")
    best_t, best_t_rate = best_of(rows, "torch")
    print()
    print(f"Recurrent conv net training steps/s (batch {BATCH}, {SIZE}x{SIZE}, width {WIDTH}, {ITERATIONS} "
          f"iterations; {FLOPS_PER_STEP / 1e9:.2f} GFLOP of convolutions per step; median of {args['repeats']} "
          f"chunks of {args['steps_per_chunk']} steps; compile excluded)")
    h.print_table(
        ["side", "variant", "steps/s", "min", "max", "GFLOP/s", "compile/setup s", "vs torch best"],
        [[r["side"], r["variant"], f"{r['median']:.2f}", f"{r['min']:.2f}", f"{r['max']:.2f}",
          f"{r['gflop_per_s']:.1f}", f"{r['compile_s']:.1f}",
          f"{r['median'] / best_t_rate:.2f}x" if best_t_rate else "-"] for r in rows],
    )
    params = {side: i.get("n_params") for side, i in result["info"].items()}
    same = len(set(params.values())) == 1
    print(f"\nparameters: {', '.join(f'{s} {n:,}' for s, n in params.items())}"
          f"{' (equal)' if same else ' MISMATCH'}")
    patch, lax = h.median_of(rows, "mesaopt", "patch matmul"), h.median_of(rows, "mesaopt", "lax.conv")
    split = h.median_of(rows, "mesaopt", "patch matmul, split batch")
    print(f"\nRatios (headline: the faster mesaopt variant, {best_m}, against the faster torch variant, {best_t}):")
    result["ratios"] = {
        "mesaopt_best_vs_torch_best": ratio_line(f"mesaopt {best_m} vs torch {best_t} (headline)", best_m_rate,
                                                 best_t_rate),
        "patch_vs_torch_eager": ratio_line("patch matmul vs torch eager", patch, h.median_of(rows, "torch", "eager")),
        "patch_vs_torch_compile": ratio_line("patch matmul vs torch.compile", patch,
                                             h.median_of(rows, "torch", "compile")),
        "split_batch_vs_torch_compile": ratio_line("patch matmul, split batch vs torch.compile", split,
                                                   h.median_of(rows, "torch", "compile")),
        "lax_vs_torch_best": ratio_line(f"lax.conv vs torch {best_t}", lax, best_t_rate),
        "no_loop_vs_torch_compile": ratio_line("lax.conv, no loop vs torch.compile",
                                               h.median_of(rows, "mesaopt", "lax.conv, no loop"),
                                               h.median_of(rows, "torch", "compile")),
        "no_loop_split_vs_torch_compile": ratio_line("lax.conv, no loop, split batch vs torch.compile",
                                                     h.median_of(rows, "mesaopt", "lax.conv, no loop, split batch"),
                                                     h.median_of(rows, "torch", "compile")),
        "patch_vs_lax": ratio_line("patch matmul / lax.conv (mesaopt)", patch, lax),
    }
    result["params_equal"] = same
    for side, err in result["errors"].items():
        print(f"  {side}: not measured ({err})")


def main() -> None:
    h.chunk_benchmark_main(__doc__, SIDES, SETUPS, run_driver, report, "conv.json", repeats=3,
                           chunk_flag="--steps-per-chunk", chunk_default=4, chunk_help="training steps per chunk",
                           env_var="MESAOPT_BENCH_STEPS")


if __name__ == "__main__":
    main()
