"""Transformer training steps per second: mesaopt (JAX) against plain PyTorch, side by side.

    benchmarks/.venv-peers/bin/python benchmarks/bench_transformer.py [--repeats 5] [--steps-per-chunk 100]

One setting for both sides, the ``icl-regression`` defaults: in-context linear regression, d = 5, 14 context
examples + 1 query (15 examples -> 30 interleaved tokens of width 6, causal mask), batch 64 fresh prompts per
step (x, w ~ N(0, I), y = x·w), loss = mean squared error / d at the x tokens; a GPT-2 regressor (pre-LN,
d_model 64, 3 layers, 4 heads, GELU MLP 128, learned positions, linear token embedding, scalar unembedding);
AdamW (lr 1e-3, no weight decay, 200 warm-up steps then cosine to 10 % at 6,000) after global-norm clip 1.0.

* mesaopt: ``GPT2Regressor`` + ``make_supervised`` + ``make_sequence_loss`` (what the CLI runs), a chunk of
  ``--steps-per-chunk`` steps in one jitted ``lax.scan`` of ``trainer.step``; 1 seed, and 2 seeds (the preset's
  count) and 4 seeds trained together as ``train_in_chunks`` does (split over the CPU devices, one per core:
  ``make_chunk_runner`` with the ``run_sharding``).
* torch: the same model as a plain ``nn.Module``, batches drawn in torch each step, ``torch.optim.AdamW`` +
  ``clip_grad_norm_``; eager, and ``torch.compile`` of model + loss (optimizer step eager). Two ways to train
  several seeds: one after another in one process at 2 threads (its seeds/s is its 1-seed rate), or side by side,
  one process per core at 1 thread each (a pool of 2 processes; steps/s summed). The multi-seed ratios use the
  faster way.

Steps/s counts gradient steps summed over seeds, compile excluded; medians over ``--repeats`` chunks.
"""

from __future__ import annotations

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
PRESET_SEEDS = 2  # IclRegressionConfig().n_seeds, checked by the mesaopt worker
SIDES = {"mesaopt": ["1 seed", f"{PRESET_SEEDS} seeds", "4 seeds"],
         "torch": ["eager 1 seed", "compile 1 seed", "eager 2 processes x 1 thread", "compile 2 processes x 1 thread"]}


def n_seeds(variant: str) -> int:
    """Seeds trained at once by a variant (torch's process variants train one seed per process)."""
    if "processes" in variant:
        return 2
    return int(variant.split()[0]) if variant[0].isdigit() else 1



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
    from mesaopt.optimizers.chunks import _pad_runs, make_chunk_runner, run_sharding

    cfg = IclRegressionConfig()
    check_mesaopt_defaults(cfg)
    if cfg.n_seeds != PRESET_SEEDS:
        raise ValueError(f"icl-regression now trains {cfg.n_seeds} seeds; update PRESET_SEEDS")
    trainer = make_trainer(cfg)  # exactly what `mesaopt run icl-regression` trains
    model = cfg.model.build(cfg.task, jax.random.key(0))
    if model.blocks[0].mlp.W_in.shape[1] != D_MLP or model.n_ctx != N_TOKENS:
        raise ValueError("GPT2Regressor's d_mlp or context length changed; update bench_transformer.py")

    def prepare(variant):
        n = n_seeds(variant)
        start = time.perf_counter()
        if n == 1:
            state = jax.jit(trainer.init)(jax.random.key(0))
            scan = jax.jit(lambda s: jax.lax.scan(lambda s, _: trainer.step(s, None), s, None, length=steps))
            runner = scan.lower(state).compile()
        else:  # what the CLI (train_in_chunks) runs: lax.map init, seeds split over the CPU devices
            sharding, n_padded = run_sharding(n)
            keys = _pad_runs(jax.random.split(jax.random.key(0), n), n_padded)
            state = jax.jit(lambda ks: jax.lax.map(trainer.init, ks))(keys)
            state = state if sharding is None else jax.device_put(state, sharding)
            chunk = make_chunk_runner(trainer.step, steps, sharding).lower(state, None).compile()
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
    return info, h.chunk_handler(prepare)


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


def torch_train_step(compiled: bool):
    """One seed's training step as a closure (model, AdamW, schedule); ``compiled``: ``torch.compile`` of model +
    loss. Three steps are run here, so ``torch.compile`` has compiled forward and backward when it returns."""
    import torch

    torch.manual_seed(0)
    model = torch_model()
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)

    def loss_fn(tokens, ys):  # mean squared error / d at the x tokens (where y_i is read)
        return ((model(tokens)[:, 0::2] - ys) ** 2).mean() / D

    loss = torch.compile(loss_fn) if compiled else loss_fn

    def step():
        opt.zero_grad(set_to_none=True)
        loss(*torch_batch(torch)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()
        sched.step()

    for _ in range(3):
        step()
    return step


_PROCESS_STEP = []  # in each process of the torch process pool: that process's training step


def _torch_process_init(compiled: bool) -> None:
    import torch

    torch.set_num_threads(1)
    _PROCESS_STEP.append(torch_train_step(compiled))


def _torch_process_chunk(steps: int) -> int:
    for _ in range(steps):
        _PROCESS_STEP[0]()
    return steps


def setup_torch(steps: int):
    """Torch variants: one seed in this process at 2 threads (seeds trained one after another), or one seed per
    core in a pool of 2 processes at 1 thread each (seeds trained side by side; steps/s summed over both)."""
    import multiprocessing
    from importlib.metadata import version

    import torch

    torch.set_num_threads(2)
    pools = []

    def prepare(variant):
        start = time.perf_counter()
        compiled = variant.startswith("compile")
        if "processes" in variant:
            pool = multiprocessing.get_context("spawn").Pool(2, _torch_process_init, (compiled,))
            pools.append(pool)
            pool.map(_torch_process_chunk, [1, 1])  # both processes started and compiled
            return time.perf_counter() - start, lambda: pool.map(_torch_process_chunk, [steps, steps]), 2 * steps
        step = torch_train_step(compiled)

        def run_chunk():
            for _ in range(steps):
                step()

        return time.perf_counter() - start, run_chunk, steps

    n_params = sum(p.numel() for p in torch_model().parameters())
    info = {"versions": {"torch": version("torch")}, "threads": torch.get_num_threads(), "n_params": n_params}
    return info, h.chunk_handler(prepare)


SETUPS = {"mesaopt": setup_mesaopt, "torch": setup_torch}


# ----------------------------------------------------------------------------------------------- driver


def run_driver(args) -> dict:
    script = Path(__file__).resolve()
    env = {"MESAOPT_BENCH_STEPS": str(args.steps_per_chunk)}
    samples, compile_s, errors, info = h.measure_variant_sides(
        script, SIDES, args.sides, args.repeats, env=env, tag="transformer")
    rows = [{"side": s, "variant": v, "seeds": n_seeds(v), "compile_s": compile_s[s, v], **h.summarize(x)}
            for (s, v), x in samples.items() if x]
    return {"machine": h.machine_info(), "args": vars(args), "info": info, "rows": rows,
            "errors": {h.key_name(k): e for k, e in errors.items()}}




def report(result: dict) -> None:
    rows, args = result["rows"], result["args"]
    rate = {v: h.median_of(rows, "torch", v) for v in SIDES["torch"] if h.median_of(rows, "torch", v) is not None}
    one_proc = {v: r for v, r in rate.items() if "processes" not in v}
    best1 = max(one_proc, key=one_proc.get) if one_proc else None
    many = {v: r for v, r in rate.items() if "processes" in v}
    if best1:
        many[f"{best1}, seeds one after another"] = one_proc[best1]
    best_many = max(many, key=many.get) if many else None
    print()
    print(f"Transformer training steps/s, summed over seeds (median of {args['repeats']} chunks of "
          f"{args['steps_per_chunk']} steps per seed; compile excluded)")
    h.print_table(
        ["side", "variant", "seeds", "steps/s", "min", "max", "compile/setup s", "vs torch (1 seed: best 1 process)"],
        [[r["side"], r["variant"], r["seeds"], f"{r['median']:.1f}", f"{r['min']:.1f}", f"{r['max']:.1f}",
          f"{r['compile_s']:.1f}", f"{r['median'] / (one_proc[best1] if r['seeds'] == 1 else many[best_many]):.2f}x"
          if r["side"] == "mesaopt" and best1 else "-"] for r in rows],
    )
    params = {side: i.get("n_params") for side, i in result["info"].items()}
    same = len(set(params.values())) == 1
    print(f"\nparameters: {', '.join(f'{s} {n:,}' for s, n in params.items())}"
          f"{' (equal)' if same else ' MISMATCH'}")
    m1, mp, m4 = (h.median_of(rows, "mesaopt", v) for v in SIDES["mesaopt"])
    print("\nRatios (mesaopt / torch):")
    result["ratios"] = {
        "1_seed_vs_eager": h.print_ratio("1 seed vs torch eager", m1, rate.get("eager 1 seed")),
        "1_seed_vs_compile": h.print_ratio("1 seed vs torch.compile (target >= 1.0x)", m1, rate.get("compile 1 seed")),
        "1_seed": h.print_ratio(f"1 seed vs torch {best1} (headline)", m1, one_proc.get(best1)),
        "preset_seeds": h.print_ratio(f"{PRESET_SEEDS} seeds (the preset) vs torch's fastest way, {best_many} "
                                   "(target >= 1.5x)", mp, many.get(best_many)),
        "4_seeds": h.print_ratio(f"4 seeds vs torch's fastest way, {best_many}", m4, many.get(best_many)),
    }
    result["params_equal"] = same
    if m1 and mp:
        print(f"  mesaopt {PRESET_SEEDS} seeds / 1 seed: {mp / m1:.2f}x (one seed per CPU device)")
    for side, err in result["errors"].items():
        print(f"  {side}: not measured ({err})")


def main() -> None:
    h.chunk_benchmark_main(__doc__, SIDES, SETUPS, run_driver, report, "transformer.json", repeats=5,
                           chunk_flag="--steps-per-chunk", chunk_default=100,
                           chunk_help="training steps per seed per chunk", env_var="MESAOPT_BENCH_STEPS")


if __name__ == "__main__":
    main()
