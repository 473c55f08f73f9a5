"""The maze-search thinking network's training step, mesaopt against plain PyTorch, and its evaluation cost.

    benchmarks/.venv-peers/bin/python benchmarks/bench_thinker.py [--repeats 3] [--steps-per-chunk 20]

Training (steps/s, compile excluded; median of ``--repeats`` chunks, sides interleaved): one training step of
``mesaopt run maze-search``'s recurrent network with its default config, on both sides the same network
(``RecurrentThinker``: width 16, 3×3 convolutions, recall, residual block; 6,826 parameters), the same batch
(30 mazes: 10 each of sides 5, 7, 9 on a 9×9 canvas) and the same progressive loss (``n`` uniform in 0 .. 40 free
iterations without gradient, then 10 with gradient; per-cell cross-entropy against the default's target, dead-end
filling's trace after ``n + 10`` rounds), Adam with gradient clipping at 1.

* mesaopt: ``experiments.maze_search.train.make_trainer(cfg, "recurrent")``, the preset's own step (mazes drawn
  inside the step), ``--steps-per-chunk`` steps in one compiled ``scan``; ``1 seed`` (one device) and ``2 seeds``
  (one per core, as ``train_in_chunks`` splits them; steps/s summed over seeds).
* torch (2 threads): the same module in ``nn.Conv2d`` (NCHW), ``eager``; the mazes are drawn beforehand by
  mesaopt's generator (a pool of 64 batches, cycled), with each cell's dead-end filling round, so torch's steps
  pay neither for maze generation nor for the filling rounds the trace target is read from (mesaopt's do).

Evaluation (``--eval``): milliseconds per maze-iteration of a trained-size network thinking on 100 mazes of side 9,
19 and 37 (forward only), both sides.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h

SIDES = {"mesaopt": ["1 seed", "2 seeds"], "torch": ["eager"]}
EVAL_SIDES, EVAL_MAZES, EVAL_ITERATIONS = (9, 19, 37), 100, 50
SEEDS = {"1 seed": 1, "2 seeds": 2}


def preset_config():
    from mesaopt.experiments.maze_search.config import MazeSearchConfig

    return MazeSearchConfig()


def setup_mesaopt(steps: int):
    from importlib.metadata import version

    import jax
    import numpy as np

    from mesaopt.experiments.maze_search.train import make_trainer
    from mesaopt.optimizers.chunks import make_chunk_runner, run_sharding

    cfg = preset_config()
    trainer = make_trainer(cfg, "recurrent")

    def prepare(variant):
        n = SEEDS[variant]
        start = time.perf_counter()
        keys = jax.random.split(jax.random.key(0), n)
        state = jax.vmap(lambda k: trainer.init(k, None))(keys)
        sharding, _ = run_sharding(n)
        problems = np.zeros(n)
        if sharding is not None:
            state, problems = jax.device_put((state, problems), sharding)
        runner = make_chunk_runner(trainer.step, steps, sharding, sequential_runs=True)
        compiled = runner.lower(state, problems).compile()
        box = [state]

        def run_chunk():
            box[0], metrics = compiled(box[0], problems)
            jax.block_until_ready(metrics)

        return time.perf_counter() - start, run_chunk, steps * n

    n_params = sum(x.size for x in jax.tree_util.tree_leaves(trainer.init(jax.random.key(0), None).params))
    info = {"versions": {n: version(n) for n in ("mesaopt", "jax", "jaxlib", "optax")}, "n_params": int(n_params)}
    return info, h.chunk_handler(prepare)


def torch_thinker(width: int):
    """``RecurrentThinker`` in torch: the same layers, NCHW."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Thinker(nn.Module):
        def __init__(self):
            super().__init__()
            self.project = nn.Conv2d(3, width, 3, padding=1)
            self.recall = nn.Conv2d(width + 3, width, 3, padding=1)
            self.mix = nn.Conv2d(width, width, 3, padding=1)
            self.head = nn.Conv2d(width, width // 2, 3, padding=1)
            self.out = nn.Conv2d(width // 2, 2, 3, padding=1)

        def initial_state(self, x):
            return F.relu(self.project(x))

        def step(self, state, x):
            hidden = F.relu(self.recall(torch.cat([state, x], dim=1)))
            return F.relu(self.mix(hidden)) + hidden

        def readout(self, state):
            return self.out(F.relu(self.head(state)))

    return Thinker()


def maze_pool(cfg, n_batches: int):
    """``n_batches`` training batches from mesaopt's generator, as NCHW numpy arrays."""
    import jax
    import numpy as np

    from mesaopt.tasks.maze_algorithms import dead_end_fill_rounds
    from mesaopt.tasks.maze_paths import sample_mixed_side_batch

    per_side = cfg.train.batch_size // len(cfg.train_sides)
    draw = jax.jit(lambda k: sample_mixed_side_batch(k, cfg.train_sides, per_side))
    rounds = jax.jit(jax.vmap(dead_end_fill_rounds))
    pool = [draw(k) for k in jax.random.split(jax.random.key(1), n_batches)]
    return [(np.asarray(b.images).transpose(0, 3, 1, 2).copy(), np.asarray(b.path).astype(np.int64),
             np.asarray(rounds(b.images)).astype(np.int64)) for b in pool]


def torch_target(images, path, fill_round, iterations: int, trace_rate: float):
    """The cells the loss asks for after ``iterations`` (``maze_search.train.trace_targets``; the path at rate 0)."""
    if trace_rate <= 0:
        return path
    filled = (fill_round > 0) & (fill_round <= int(trace_rate * iterations))
    return ((images[:, 0] > 0.5) & ~filled).long()


def setup_torch(steps: int):
    from importlib.metadata import version

    import torch
    from torch.nn import functional as F

    torch.set_num_threads(2)
    cfg = preset_config()
    pool = [tuple(torch.from_numpy(a) for a in batch) for batch in maze_pool(cfg, 64)]
    t_max, window = cfg.train_iterations, cfg.gradient_window

    def prepare(variant):
        start = time.perf_counter()
        torch.manual_seed(0)
        model = torch_thinker(cfg.width)
        opt = torch.optim.Adam(model.parameters(), lr=cfg.train.learning_rate)
        counter = [0]

        def step():
            x, path, fill_round = pool[counter[0] % len(pool)]
            counter[0] += 1
            n_free = int(torch.randint(0, t_max - window + 1, ()).item())
            y = torch_target(x, path, fill_round, n_free + window, cfg.trace_rate)
            initial = model.initial_state(x)
            with torch.no_grad():
                free = initial.detach()
                for _ in range(n_free):
                    free = model.step(free, x)
            state = initial + (free - initial).detach()
            for _ in range(window):
                state = model.step(state, x)
            loss = F.cross_entropy(model.readout(state), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.train.grad_clip)
            opt.step()

        def run_chunk():
            for _ in range(steps):
                step()

        return time.perf_counter() - start, run_chunk, steps

    n_params = sum(p.numel() for p in torch_thinker(cfg.width).parameters())
    info = {"versions": {"torch": version("torch")}, "threads": torch.get_num_threads(), "n_params": n_params}
    return info, h.chunk_handler(prepare)


SETUPS = {"mesaopt": setup_mesaopt, "torch": setup_torch}


def eval_cost_mesaopt(side: int) -> float:
    """Milliseconds per maze-iteration, forward only, 100 mazes."""
    import jax

    from mesaopt.models.thinking import RecurrentThinker
    from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch

    model = RecurrentThinker(3, width=preset_config().width, key=jax.random.key(0))
    images = sample_maze_batch(jax.random.key(2), MazePathTask(side), EVAL_MAZES).images
    think = jax.jit(lambda m, im: m.readout(m.think(im, EVAL_ITERATIONS)))
    jax.block_until_ready(think(model, images))
    return _best_ms(lambda: jax.block_until_ready(think(model, images)))


def eval_cost_torch(side: int) -> float:
    import jax
    import numpy as np
    import torch

    from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch

    torch.set_num_threads(2)
    model = torch_thinker(preset_config().width)
    images = sample_maze_batch(jax.random.key(2), MazePathTask(side), EVAL_MAZES).images
    x = torch.from_numpy(np.asarray(images).transpose(0, 3, 1, 2).copy())

    def think():
        with torch.no_grad():
            state = model.initial_state(x)
            for _ in range(EVAL_ITERATIONS):
                state = model.step(state, x)
            return model.readout(state)

    think()
    return _best_ms(think)


def _best_ms(call, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1e3 * sorted(times)[len(times) // 2] / (EVAL_MAZES * EVAL_ITERATIONS)


def run_driver(args) -> dict:
    script = Path(__file__).resolve()
    env = {"MESAOPT_BENCH_STEPS": str(args.steps_per_chunk)}
    samples, compile_s, errors, info = h.measure_variant_sides(
        script, SIDES, args.sides, args.repeats, env=env, tag="thinker", prepare_timeout=1200, measure_timeout=1200)
    rows = [{"side": s, "variant": v, "compile_s": compile_s[s, v], **h.summarize(x)}
            for (s, v), x in samples.items() if x]
    return {"machine": h.machine_info(), "args": vars(args), "info": info, "rows": rows,
            "errors": {h.key_name(k): e for k, e in errors.items()}}


def report(result: dict) -> None:
    rows, args = result["rows"], result["args"]
    print(f"\nmaze-search thinker training steps/s (median of {args['repeats']} chunks of {args['steps_per_chunk']} "
          "steps; compile excluded; 2 seeds: summed over both)")
    torch_rate = h.median_of(rows, "torch", "eager")
    h.print_table(["side", "variant", "steps/s", "min", "max", "compile/setup s", "vs torch eager"],
                  [[r["side"], r["variant"], f"{r['median']:.1f}", f"{r['min']:.1f}", f"{r['max']:.1f}",
                    f"{r['compile_s']:.1f}", f"{r['median'] / torch_rate:.2f}x" if torch_rate else "-"] for r in rows])
    params = {side: i.get("n_params") for side, i in result["info"].items()}
    print(f"\nparameters: {params}{' (equal)' if len(set(params.values())) == 1 else ' MISMATCH'}")
    result["ratios"] = {
        "one_seed_vs_torch": h.print_ratio("mesaopt 1 seed vs torch eager", h.median_of(rows, "mesaopt", "1 seed"),
                                           torch_rate, digits=2),
        "two_seeds_vs_torch": h.print_ratio("mesaopt 2 seeds (both cores) vs torch eager",
                                            h.median_of(rows, "mesaopt", "2 seeds"), torch_rate, digits=2)}
    if args.get("eval"):
        costs = {side: {"mesaopt": eval_cost_mesaopt(side), "torch": eval_cost_torch(side)} for side in EVAL_SIDES}
        result["eval_ms_per_maze_iteration"] = costs
        print(f"\nevaluation, ms per maze-iteration ({EVAL_MAZES} mazes x {EVAL_ITERATIONS} iterations, forward only):")
        h.print_table(["maze side", "mesaopt", "torch eager", "ratio (torch / mesaopt time)"],
                      [[str(s), f"{c['mesaopt']:.4f}", f"{c['torch']:.4f}", f"{c['torch'] / c['mesaopt']:.2f}x"]
                       for s, c in costs.items()])
    for side, err in result["errors"].items():
        print(f"  {side}: not measured ({err})")


def main() -> None:
    if "--eval" in sys.argv:  # evaluation cost runs in the driver process (after the workers are done)
        sys.argv.remove("--eval")
        os.environ["MESAOPT_BENCH_EVAL"] = "1"
    h.chunk_benchmark_main(__doc__, SIDES, SETUPS, lambda a: run_driver(_with_eval(a)), report, "thinker.json",
                           repeats=3, chunk_flag="--steps-per-chunk", chunk_default=20,
                           chunk_help="training steps per chunk", env_var="MESAOPT_BENCH_STEPS")


def _with_eval(args):
    args.eval = os.environ.get("MESAOPT_BENCH_EVAL") == "1"
    return args


if __name__ == "__main__":
    main()
