"""Why 8 PPO seeds take more than 3× one seed's wall time on a 2-core CPU: the matmuls alone, measured.

    .venv/bin/python benchmarks/profile_seed_scaling.py [--repeats 7]

Uses mesaopt's own venv (no peers). ``bench_ppo.py``'s mesaopt setting: the 7×7 maze, the MLP actor-critic 64×2,
``PPOConfig()``. The matrix products of one PPO update (``ppo.step``, one seed) are read off its jaxpr
(``_dots.program_dots``: every ``dot_general`` times the scans around it), then timed twice: inside the whole
update, and replayed alone on random operands of the same shapes (``_dots.replay_dots``). Rows, each timed in
turn (round robin) and reported as a median per chunk of 8 updates (``bench_seed_split``'s chunks):

- the whole update: 1 seed on device 0; 4 seeds vmapped on device 0; 1 seed on each of 2 devices; 8 seeds split
  over every device (what ``train_in_chunks`` does);
- the same update's matmuls alone, replayed the same four ways.

If the 8 seeds' matmuls alone take longer than 3× one seed's whole update, no saving elsewhere (environment,
optimizer, overheads) can bring 8 seeds within 3× of one seed on this machine with these matmul kernels. The last
line prices the same FLOPs at the rate of one large (1024²) matmul: the floor for ideal kernels.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp

import mesaopt  # noqa: F401  (sets the XLA flags: one CPU device per core)
from mesaopt.envs import ENVS
from mesaopt.models import MODELS
from mesaopt.optimizers import PPOConfig, make_ppo
from mesaopt.optimizers.chunks import run_sharding

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _dots import program_dots, replay_dots, replay_operands, total_flops
from bench_seed_split import UPDATES_PER_CHUNK, make_row

LAYOUTS = {"1 seed": (1, False), "4 seeds, device 0": (4, False), "2 seeds, 1 per device": (2, True),
           "8 seeds, split": (8, True)}
"""Row name -> (seeds, split over the devices)."""


def build_ppo():
    env = ENVS["maze"](size=7)
    ppo = make_ppo(PPOConfig(), env, lambda k: MODELS["mlp"](env.obs_shape, env.num_actions, width=64, depth=2, key=k),
                   total_steps=200_000)
    return ppo, env.default_params()


def update_row(ppo, env_params, n_seeds: int, split: bool):
    """A callable that runs one chunk of whole PPO updates for ``n_seeds`` seeds (``bench_seed_split.make_row``)."""
    row = make_row(ppo, env_params, n_seeds, split)

    def run():
        row["state"], metrics = row["runner"](row["state"], row["params"])
        jax.block_until_ready(metrics)

    return run


def dots_row(dots, n_seeds: int, split: bool, updates: int):
    """A callable that replays one update's matmuls ``updates`` times for ``n_seeds`` seeds (batched, as vmap does)."""
    keys = jax.random.split(jax.random.key(1), n_seeds)
    operands = jax.vmap(lambda k: replay_operands(k, dots))(keys)
    sharding, _ = run_sharding(n_seeds) if split else (None, n_seeds)
    operands = operands if sharding is None else jax.device_put(operands, sharding)
    replay = jax.jit(jax.vmap(replay_dots(dots)))

    def run():
        for _ in range(updates):
            out = replay(operands)
        jax.block_until_ready(out)

    return run


def timed_rounds(rows: dict, repeats: int) -> dict:
    """Warm every row up, then time them in turn ``repeats`` times; the median seconds per row."""
    for run in rows.values():
        run()
    times = {name: [] for name in rows}
    for _ in range(repeats):
        for name, run in rows.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: sorted(ts)[len(ts) // 2] for name, ts in times.items()}


def large_matmul_rate(n: int = 1024, repeats: int = 7) -> float:
    """GFLOP/s of one ``n``×``n`` float32 matmul on device 0 (XLA may use every core for it): the machine's peak."""
    a = jax.random.normal(jax.random.key(2), (n, n))
    matmul = jax.jit(jnp.dot)
    matmul(a, a).block_until_ready()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        matmul(a, a).block_until_ready()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / sorted(times)[repeats // 2] / 1e9


def report(dots, medians: dict, updates: int, peak_gflops: float) -> None:
    flops = total_flops(dots)
    print(f"{len(dots)} dot_generals, {flops / 1e9:.3f} GFLOP per seed per update; {len(jax.devices())} CPU devices")
    print(f"ms per update (median chunk / {updates}); per seed = that / seeds")
    print(f"  {'':<24}{'whole update':>14}{'per seed':>10}{'matmuls alone':>15}{'per seed':>10}{'GFLOP/s':>9}")
    for name, (n, _) in LAYOUTS.items():
        whole, mm = medians[("update", name)] / updates * 1e3, medians[("dots", name)] / updates * 1e3
        print(f"  {name:<24}{whole:14.2f}{whole / n:10.2f}{mm:15.2f}{mm / n:10.2f}{n * flops / mm / 1e6:9.1f}")
    one = medians[("update", "1 seed")]
    eight, eight_mm = medians[("update", "8 seeds, split")], medians[("dots", "8 seeds, split")]
    print(f"8 seeds / 1 seed wall time: whole updates {eight / one:.2f}x; the 8 seeds' matmuls alone "
          f"{eight_mm / one:.2f}x one seed's whole update (target <= 3x)")
    ideal = 8 * flops / (peak_gflops * 1e9) / (one / updates)
    print(f"a 1024x1024 matmul runs at {peak_gflops:.1f} GFLOP/s here; at that rate the 8 seeds' matmuls would take "
          f"{ideal:.2f}x one seed's whole update")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed chunks per row (median reported)")
    args = parser.parse_args()
    ppo, env_params = build_ppo()
    state = ppo.init(jax.random.key(0), env_params)
    dots, unbounded = program_dots(ppo.step, state, env_params)
    if unbounded:
        print(f"note: {len(unbounded)} while loop(s) in the update; their matmuls are counted once per loop")
    rows = {}
    for name, (n, split) in LAYOUTS.items():
        rows[("update", name)] = update_row(ppo, env_params, n, split)
        rows[("dots", name)] = dots_row(dots, n, split, UPDATES_PER_CHUNK)
    medians = timed_rounds(rows, args.repeats)
    report(dots, medians, UPDATES_PER_CHUNK, large_matmul_rate())


if __name__ == "__main__":
    main()
