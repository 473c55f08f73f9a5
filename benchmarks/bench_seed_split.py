"""PPO agents split over the JAX CPU devices (one per core) against the same agents on one device, interleaved.

    .venv/bin/python benchmarks/bench_seed_split.py [--agents 15] [--repeats 7]

Uses mesaopt's own venv (no peers). The maze-misgen environment (5×5, egocentric observations), mesaopt's default MLP
actor-critic, ``PPOConfig()`` sizes. Rows:
- 1 agent;
- ``--agents`` agents vmapped on device 0;
- the same agents padded and split over every device, as ``train_in_chunks`` does.

Each row's chunk of 8 updates is timed in turn (round robin), the median is printed, compile is excluded.
"""

from __future__ import annotations

import argparse
import time

import jax
import jax.numpy as jnp

import mesaopt  # noqa: F401  (sets the XLA flags: one CPU device per core)
from mesaopt.envs import ENVS
from mesaopt.models import MODELS
from mesaopt.optimizers import PPOConfig, make_ppo
from mesaopt.optimizers.chunks import _pad_runs, make_chunk_runner, run_sharding

UPDATES_PER_CHUNK = 8


def make_row(ppo, env_params, n_agents: int, split: bool):
    """A compiled chunk runner and its state for ``n_agents`` agents, split over the devices or on device 0."""
    keys = jax.random.split(jax.random.key(0), n_agents)
    params = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (n_agents, *x.shape)), env_params)
    sharding, padded = run_sharding(n_agents) if split else (None, n_agents)
    keys, params = _pad_runs((keys, params), padded)
    state = jax.jit(lambda ks: jax.lax.map(lambda k: ppo.init(k, env_params), ks))(keys)
    if sharding is not None:
        state, params = jax.device_put((state, params), sharding)
    runner = make_chunk_runner(ppo.step, UPDATES_PER_CHUNK, sharding)
    state, metrics = runner(state, params)  # compile + warm-up
    jax.block_until_ready(metrics)
    return {"runner": runner, "state": state, "params": params, "agents": n_agents, "times": []}


def time_chunk(row) -> None:
    start = time.perf_counter()
    row["state"], metrics = row["runner"](row["state"], row["params"])
    jax.block_until_ready(metrics)
    row["times"].append(time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=15, help="agents in the multi-agent rows")
    parser.add_argument("--repeats", type=int, default=7, help="timed chunks per row (median reported)")
    args = parser.parse_args()
    env = ENVS["maze"](size=5, obs_format="egocentric")
    cfg = PPOConfig()
    ppo = make_ppo(cfg, env, lambda k: MODELS["mlp"](env.obs_shape, env.num_actions, key=k), total_steps=10**6)
    env_params = env.default_params()
    rows = {"1 agent": make_row(ppo, env_params, 1, False),
            f"{args.agents} agents, device 0": make_row(ppo, env_params, args.agents, False),
            f"{args.agents} agents, split over {len(jax.devices())} devices": make_row(ppo, env_params, args.agents, True)}
    for _ in range(args.repeats):
        for row in rows.values():
            time_chunk(row)
    steps = UPDATES_PER_CHUNK * cfg.steps_per_update
    print(f"PPO env steps/s summed over agents (median of {args.repeats} chunks of {steps:,} steps per agent)")
    for name, row in rows.items():
        median = sorted(row["times"])[len(row["times"]) // 2]
        print(f"  {name:<32} {row['agents'] * steps / median / 1e3:8.1f} k")


if __name__ == "__main__":
    main()
