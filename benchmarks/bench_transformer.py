"""Transformer training steps per second: mesaopt (JAX) against plain PyTorch, side by side.

    benchmarks/.venv-peers/bin/python benchmarks/bench_transformer.py [--repeats 5] [--steps-per-chunk 100]

One setting for both sides, the ``icl-regression`` defaults: in-context linear regression, d = 5, 14 context
examples + 1 query (15 examples -> 30 interleaved tokens of width 6, causal mask), batch 64 fresh prompts per
step (x, w ~ N(0, I), y = x·w), loss = mean squared error / d at the x tokens; a GPT-2 regressor (pre-LN,
d_model 64, 3 layers, 4 heads, GELU MLP 256, learned positions, linear token embedding, scalar unembedding);
AdamW (lr 1e-3, no weight decay, 200 warm-up steps then cosine to 10 % at 6,000) after global-norm clip 1.0.

* mesaopt: ``GPT2Regressor`` + ``make_supervised`` + ``make_sequence_loss`` (what the CLI runs), a chunk of
  ``--steps-per-chunk`` steps in one jitted ``lax.scan`` of ``trainer.step``; 1 seed, and 4 seeds trained
  together (``make_chunk_runner``: vmap over seeds).
* torch: the same model as a plain ``nn.Module``, batches drawn in torch each step, ``torch.optim.AdamW`` +
  ``clip_grad_norm_``, 2 threads; eager, and ``torch.compile`` of model + loss (optimizer step eager). Torch
  trains seeds one after another, so its 4-seed throughput is its 1-seed throughput.

Steps/s counts gradient steps summed over seeds, compile excluded; medians over ``--repeats`` chunks.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

D, N_CONTEXT, BATCH = 5, 14, 64
D_MODEL, N_LAYERS, N_HEADS, D_MLP = 64, 3, 4, 128  # the icl-regression preset's model
LR, WARMUP, TOTAL_STEPS, GRAD_CLIP = 1e-3, 200, 6000, 1.0
N_EXAMPLES = N_CONTEXT + 1
N_TOKENS = 2 * N_EXAMPLES
SIDES = {"mesaopt": ["1 seed", "1 seed 2 micro-batches", "4 seeds"], "torch": ["eager 1 seed", "compile 1 seed"]}


def n_seeds(variant: str) -> int:
    return 4 if "4 seeds" in variant else 1


def chunk_side(prepare_fn):
    """Worker handler. ``prepare_fn(variant) -> (setup_s, run_chunk(), steps_per_chunk)``."""
    prepared = {}

    def handle(msg):
        variant = msg["variant"]
        if msg["op"] == "prepare":
            setup_s, run_chunk, steps = prepare_fn(variant)
            run_chunk()  # warm-up chunk
            prepared[variant] = (run_chunk, steps)
            return {"compile_s": setup_s}
        run_chunk, steps = prepared[variant]
        return {"steps_per_s": h.time_calls(run_chunk, steps, 0.0)}

    return handle


# ----------------------------------------------------------------------------------------------- mesaopt


def check_mesaopt_defaults(cfg) -> None:
    task, model, train = cfg.task, cfg.model, cfg.train
    got = (task.d, task.n_context, train.batch_size, model.d_model, model.n_layers, model.n_heads,
           model.token_format, train.learning_rate, train.warmup_steps, train.steps, train.grad_clip,
           train.weight_decay, task.noise_std, task.input_dist)
    want = (D, N_CONTEXT, BATCH, D_MODEL, N_LAYERS, N_HEADS, "interleaved", LR, WARMUP, TOTAL_STEPS, GRAD_CLIP,
            0.0, 0.0, "gaussian")
    if got != want:
        raise ValueError(f"icl-regression defaults changed ({got} != {want}); update bench_transformer.py")


def setup_mesaopt(steps: int):
    from importlib.metadata import version

    import equinox as eqx
    import jax

    from mesaopt.experiments.icl_regression.run import IclRegressionConfig, make_trainer
    from mesaopt.optimizers.chunks import make_chunk_runner

    cfg = IclRegressionConfig()
    check_mesaopt_defaults(cfg)
    trainer = make_trainer(cfg)  # exactly what `mesaopt run icl-regression` trains
    # the same step as 2 sequential micro-batches of 32 (``--train.microbatches 2``): same math, less memory at once
    split = make_trainer(dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, microbatches=2)))
    model = cfg.model.build(cfg.task, jax.random.key(0))
    if model.blocks[0].mlp.W_in.shape[1] != D_MLP or model.n_ctx != N_TOKENS:
        raise ValueError("GPT2Regressor's d_mlp or context length changed; update bench_transformer.py")

    def prepare(variant):
        n = n_seeds(variant)
        start = time.perf_counter()
        if n == 1:
            tr = split if "micro-batches" in variant else trainer
            state = jax.jit(tr.init)(jax.random.key(0))
            scan = jax.jit(lambda s: jax.lax.scan(lambda s, _: tr.step(s, None), s, None, length=steps))
            runner = scan.lower(state).compile()
        else:  # what the CLI runs for several seeds: lax.map init, a vmapped chunk runner
            keys = jax.random.split(jax.random.key(0), n)
            state = jax.jit(lambda ks: jax.lax.map(trainer.init, ks))(keys)
            chunk = make_chunk_runner(trainer.step, steps).lower(state, None).compile()
            runner = lambda s: chunk(s, None)
        setup_s = time.perf_counter() - start
        box = [state]

        def run_chunk():
            box[0], metrics = runner(box[0])
            jax.block_until_ready(metrics)

        return setup_s, run_chunk, n * steps

    n_params = sum(x.size for x in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array)))
    info = {"versions": {n: version(n) for n in ("mesaopt", "jax", "jaxlib", "equinox", "optax")},
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", ""), "n_params": int(n_params)}
    return info, chunk_side(prepare)


# ----------------------------------------------------------------------------------------------- torch


def torch_model():
    """A plain ``nn.Module`` with GPT2Regressor's architecture: ``model(tokens (B, T, d+1)) -> (B, T)``."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(D_MODEL), nn.LayerNorm(D_MODEL)
            self.qkv, self.proj = nn.Linear(D_MODEL, 3 * D_MODEL), nn.Linear(D_MODEL, D_MODEL)
            self.mlp = nn.Sequential(nn.Linear(D_MODEL, D_MLP), nn.GELU(approximate="tanh"),
                                     nn.Linear(D_MLP, D_MODEL))  # jax.nn.gelu is the tanh approximation

        def forward(self, x):
            b, t, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, N_HEADS, D_MODEL // N_HEADS).permute(2, 0, 3, 1, 4)
            z = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # the interleaved format's causal mask
            x = x + self.proj(z.transpose(1, 2).reshape(b, t, D_MODEL))
            return x + self.mlp(self.ln2(x))

    class GPT2Regressor(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Linear(D + 1, D_MODEL)
            self.pos = nn.Parameter(0.02 * torch.randn(N_TOKENS, D_MODEL))
            self.blocks = nn.Sequential(*(Block() for _ in range(N_LAYERS)))
            self.ln_final, self.unembed = nn.LayerNorm(D_MODEL), nn.Linear(D_MODEL, 1)

        def forward(self, tokens):
            resid = self.embed(tokens) + self.pos[: tokens.shape[1]]
            return self.unembed(self.ln_final(self.blocks(resid)))[..., 0]

    return GPT2Regressor()


def torch_batch(torch):
    """Fresh prompts, interleaved ``(x_0, 0), (0, y_0), ...``: ``(tokens (B, 2n, d+1), ys (B, n))``."""
    xs, ws = torch.randn(BATCH, N_EXAMPLES, D), torch.randn(BATCH, D)
    ys = torch.einsum("bnd,bd->bn", xs, ws)
    tokens = torch.zeros(BATCH, N_TOKENS, D + 1)
    tokens[:, 0::2, :D] = xs
    tokens[:, 1::2, D] = ys
    return tokens, ys


def lr_factor(step: int) -> float:
    """mesaopt's schedule (``make_schedule``): linear warm-up, then cosine to 10 % of the peak."""
    if step < WARMUP:
        return step / WARMUP
    t = min(step - WARMUP, TOTAL_STEPS - WARMUP) / (TOTAL_STEPS - WARMUP)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))


def setup_torch(steps: int):
    from importlib.metadata import version

    import torch

    torch.set_num_threads(2)

    def prepare(variant):
        start = time.perf_counter()
        torch.manual_seed(0)
        model = torch_model()
        opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)

        def loss_fn(tokens, ys):  # mean squared error / d at the x tokens (where y_i is read)
            return ((model(tokens)[:, 0::2] - ys) ** 2).mean() / D

        loss = torch.compile(loss_fn) if variant.startswith("compile") else loss_fn

        def step():
            opt.zero_grad(set_to_none=True)
            loss(*torch_batch(torch)).backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
            opt.step()
            sched.step()

        for _ in range(3):  # torch.compile compiles here (forward and backward)
            step()

        def run_chunk():
            for _ in range(steps):
                step()

        return time.perf_counter() - start, run_chunk, steps

    n_params = sum(p.numel() for p in torch_model().parameters())
    info = {"versions": {"torch": version("torch")}, "threads": torch.get_num_threads(), "n_params": n_params}
    return info, chunk_side(prepare)


SETUPS = {"mesaopt": setup_mesaopt, "torch": setup_torch}


# ----------------------------------------------------------------------------------------------- driver


def run_driver(args) -> dict:
    script = Path(__file__).resolve()
    env = {"MESAOPT_BENCH_STEPS": str(args.steps_per_chunk)}
    workers, compile_s, errors, info = {}, {}, {}, {}
    for side in args.sides:
        worker, compiled, failed = h.prepare_side(script, side, [{"variant": v} for v in SIDES[side]], env=env,
                                                  tag="transformer")
        compile_s.update(compiled)
        errors.update(failed)
        if worker is not None:
            workers[side] = worker
            info[side] = {k: v for k, v in worker.info.items() if k != "ready"}
    items = {key: {"variant": key[1]} for key in compile_s if key[0] in workers}
    samples = h.measure_round_robin(workers, items, args.repeats, errors, tag="transformer")
    for worker in workers.values():
        worker.close()
    rows = [{"side": s, "variant": v, "seeds": n_seeds(v), "compile_s": compile_s[s, v], **h.summarize(x)}
            for (s, v), x in samples.items() if x]
    return {"machine": h.machine_info(), "args": vars(args), "info": info, "rows": rows,
            "errors": {h.key_name(k): e for k, e in errors.items()}}


def get(rows, side, variant):
    return next((r["median"] for r in rows if r["side"] == side and r["variant"] == variant), None)


def ratio_line(label, ours, theirs):
    if ours is None or theirs is None:
        print(f"  {label}: n/a")
        return None
    print(f"  {label}: {ours:.1f}/s vs {theirs:.1f}/s = {ours / theirs:.2f}x")
    return ours / theirs


def report(result: dict) -> None:
    rows, args = result["rows"], result["args"]
    torch_rates = {v: get(rows, "torch", v) for v in SIDES["torch"] if get(rows, "torch", v) is not None}
    best = max(torch_rates, key=torch_rates.get) if torch_rates else None
    best_rate = torch_rates.get(best)
    print()
    print(f"Transformer training steps/s, summed over seeds (median of {args['repeats']} chunks of "
          f"{args['steps_per_chunk']} steps per seed; compile excluded)")
    h.print_table(
        ["side", "variant", "steps/s", "min", "max", "compile/setup s", "mesaopt/torch"],
        [[r["side"], r["variant"], f"{r['median']:.1f}", f"{r['min']:.1f}", f"{r['max']:.1f}",
          f"{r['compile_s']:.1f}",
          f"{r['median'] / best_rate:.2f}x" if r["side"] == "mesaopt" and best_rate else "-"] for r in rows],
    )
    params = {side: i.get("n_params") for side, i in result["info"].items()}
    same = len(set(params.values())) == 1
    print(f"\nparameters: {', '.join(f'{s} {n:,}' for s, n in params.items())}"
          f"{' (equal)' if same else ' MISMATCH'}")
    m1, m4 = get(rows, "mesaopt", "1 seed"), get(rows, "mesaopt", "4 seeds")
    m1_split = get(rows, "mesaopt", "1 seed 2 micro-batches")
    print(f"\nRatios (mesaopt / torch; headline against the faster torch variant, {best}):")
    result["ratios"] = {
        "1_seed_vs_eager": ratio_line("1 seed  vs torch eager", m1, torch_rates.get("eager 1 seed")),
        "1_seed_vs_compile": ratio_line("1 seed  vs torch.compile", m1, torch_rates.get("compile 1 seed")),
        "1_seed": ratio_line(f"1 seed  vs torch {best} (headline)", m1, best_rate),
        "1_seed_2_microbatches": ratio_line(f"1 seed, 2 micro-batches vs torch {best}", m1_split, best_rate),
        "4_seeds": ratio_line("4 seeds vs torch, 4 models one after another", m4, best_rate),
    }
    result["params_equal"] = same
    if m1 and m4:
        print(f"  mesaopt 4 seeds / 1 seed: {m4 / m1:.2f}x (vmap over seeds)")
    for side, err in result["errors"].items():
        print(f"  {side}: not measured ({err})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=5, help="timed chunks per row (median reported)")
    parser.add_argument("--steps-per-chunk", type=int, default=100, help="training steps per seed per chunk")
    parser.add_argument("--sides", type=lambda s: s.split(","), default=list(SIDES))
    args = parser.parse_args()
    if args.worker:
        steps = int(os.environ.get("MESAOPT_BENCH_STEPS", "100"))
        h.serve(lambda: SETUPS[args.worker](steps))
        return
    h.run_benchmark(args, SIDES, run_driver, report, "transformer.json", parser)


if __name__ == "__main__":
    main()
