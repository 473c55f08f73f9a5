"""``evolved-reward``'s evolution: mesaopt against a vectorized NumPy learner with pycma's CMA-ES, side by side.

    benchmarks/.venv-peers/bin/python benchmarks/bench_evolution.py [--repeats 5] [--generations 5]

Both sides run one generation of the preset's defaults for all its runs at once: 20 evolutionary runs (4 delays x 5
seeds), CMA-ES with population 16, each genome scored on 8 fresh lifetimes of 200 meals (6 kinds of food, ancestral
correlation 0.9): 2,560 lifetimes, 512,000 learner steps per generation.

- **mesaopt**: ``experiments.evolved_reward.run``'s fitness and ``optimizers.evolution.make_evolution`` (evosax
  CMA-ES), the runs split over the CPU devices as ``train_in_chunks`` does; a chunk of ``--generations``
  generations per call, compile excluded.
- **NumPy + pycma**: the same world sampling, the same learner (values, epsilon-greedy with random ties, delayed
  nutrition through a ring buffer of recent meals) vectorized over all 2,560 lifetimes with NumPy arrays, a Python
  loop over the 200 steps; one ``cma.CMAEvolutionStrategy`` per run (ask / tell), as a NumPy user would write it.

Rows are timed in turn (round robin, ``--repeats`` times) and the medians compared (target: mesaopt >= 10x).
Results: ``benchmarks/results/evolution.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import _harness  # noqa: E402

from mesaopt.experiments.evolved_reward import EvolvedRewardConfig  # noqa: E402
from mesaopt.experiments.evolved_reward.run import lifetime_fitness  # noqa: E402
from mesaopt.optimizers.chunks import _pad_runs, make_chunk_runner, run_sharding  # noqa: E402
from mesaopt.optimizers.evolution import make_evolution  # noqa: E402

CFG = EvolvedRewardConfig()


def steps_per_generation(cfg: EvolvedRewardConfig) -> int:
    """Learner steps in one generation of every run."""
    runs = len(cfg.levels) * cfg.n_seeds
    return runs * cfg.evolution.population_size * cfg.lifetimes_per_evaluation * cfg.task.lifetime


def mesaopt_side(cfg: EvolvedRewardConfig, generations: int):
    """``run_once()`` for a chunk of ``generations`` generations of every run, compiled and warmed up."""
    evolution = make_evolution(cfg.evolution, lambda k: jnp.zeros(2), lifetime_fitness(cfg))
    problems = jax.tree.map(jnp.asarray, cfg.run_problems())
    keys = jax.random.split(jax.random.key(0), problems.delay.shape[0])
    sharding, padded = run_sharding(problems.delay.shape[0])
    keys, problems = _pad_runs((keys, problems), padded)
    state = jax.jit(lambda ks, ps: jax.lax.map(lambda kp: evolution.init(*kp), (ks, ps)))(keys, problems)
    if sharding is not None:
        state, problems = jax.device_put((state, problems), sharding)
    runner = jax.jit(make_chunk_runner(evolution.step, generations, sharding))
    holder = {"state": state}

    def run_once():
        holder["state"], metrics = runner(holder["state"], problems)
        jax.block_until_ready(metrics)

    run_once()  # compiles
    run_once()  # the state now has the runner's output layout: a second compile, if any, happens here
    return run_once


def numpy_fitness(weights: np.ndarray, delays: np.ndarray, rho: np.ndarray, cfg: EvolvedRewardConfig, rng):
    """Mean lifetime nutrition of every genome ``weights [genomes, 2]`` (delay and correlation per genome)."""
    lives = cfg.lifetimes_per_evaluation
    w = np.repeat(weights, lives, axis=0)
    delay, rho = np.repeat(delays, lives), np.repeat(rho, lives)[:, None]
    n, types, steps = len(w), cfg.task.n_types, cfg.task.lifetime
    sweet = rng.uniform(size=(n, types))
    nutrition = rho * (sweet - 0.5) * np.sqrt(12.0) + np.sqrt(1.0 - rho**2) * rng.normal(size=(n, types))
    first = rng.integers(0, types, size=(n, steps))
    second = (first + 1 + rng.integers(0, types - 1, size=(n, steps))) % types
    explore = rng.uniform(size=(n, steps)) < cfg.learner.exploration
    coin, tie = rng.integers(0, 2, size=(n, steps)), rng.integers(0, 2, size=(n, steps))
    memory = cfg.learner.max_delay + 1
    values, recent, total = np.zeros((n, types)), np.zeros((n, memory), np.int64), np.zeros(n)
    lane = np.arange(n)
    for t in range(steps):
        a, b = first[:, t], second[:, t]
        va, vb = values[lane, a], values[lane, b]
        pick = np.where(explore[:, t], coin[:, t], np.where(va == vb, tie[:, t], vb > va))
        meal = np.where(pick == 1, b, a)
        recent[:, t % memory] = meal
        felt = np.where(t >= delay, nutrition[lane, recent[lane, (t - delay) % memory]], 0.0)
        reward = w[:, 0] * sweet[lane, meal] + w[:, 1] * felt
        values[lane, meal] += cfg.learner.learning_rate * (reward - values[lane, meal])
        total += nutrition[lane, meal]
    return total.reshape(-1, lives).mean(axis=1)


def numpy_side(cfg: EvolvedRewardConfig, generations: int):
    """``run_once()`` for ``generations`` generations of every run with pycma and the NumPy learner."""
    import cma

    conditions = cfg.run_problems()
    delays, correlations = conditions.delay, conditions.correlation
    size = cfg.evolution.population_size
    strategies = [cma.CMAEvolutionStrategy(np.zeros(2), cfg.evolution.mutation_scale,
                                           {"popsize": size, "seed": i + 1, "verbose": -9})
                  for i in range(len(delays))]
    rng = np.random.default_rng(0)

    def run_once():
        for _ in range(generations):
            asked = [np.asarray(es.ask()) for es in strategies]
            fitness = numpy_fitness(np.concatenate(asked), np.repeat(delays, size), np.repeat(correlations, size),
                                    cfg, rng).reshape(len(strategies), size)
            for es, x, f in zip(strategies, asked, fitness):
                es.tell(list(x), list(-f))

    return run_once


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--generations", type=int, default=5, help="generations per timed call")
    args = parser.parse_args()
    sides = {"mesaopt": mesaopt_side(CFG, args.generations), "numpy+pycma": numpy_side(CFG, args.generations)}
    samples = {name: [] for name in sides}
    for _ in range(args.repeats):
        for name, run_once in sides.items():
            start = time.perf_counter()
            run_once()
            samples[name].append(args.generations / (time.perf_counter() - start))
    per_gen = steps_per_generation(CFG)
    rows = []
    for name, values in samples.items():
        s = _harness.summarize(values)
        rows.append({"side": name, "variant": "generations", **s})
        print(f"{name:12s} {s['median']:8.2f} generations/s (min {s['min']:.2f}, max {s['max']:.2f}) = "
              f"{_harness.fmt_rate(s['median'] * per_gen)} learner steps/s")
    ratio = samples["mesaopt"] and (np.median(samples["mesaopt"]) / np.median(samples["numpy+pycma"]))
    print(f"mesaopt / NumPy+pycma: {ratio:.2f}x ({_harness.verdict(ratio, 10.0)})")
    info = _harness.machine_info()
    print(f"CPU: {info['cpu']['model']}, {info['cpu_count']} cores; {' '.join(info['cpu']['vector_features'])}")
    path = _harness.write_json("evolution.json", {"machine": info, "rows": rows, "ratio": ratio,
                                                  "learner_steps_per_generation": per_gen,
                                                  "generations_per_call": args.generations})
    print(f"results: {path}")


if __name__ == "__main__":
    main()
