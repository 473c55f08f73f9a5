"""Where the buffered maze's time goes: bare steps, buffered steps, buffered steps with the spares refreshed.

    .venv/bin/python benchmarks/profile_maze.py [--batch 1024] [--steps-per-refresh 32] [--spares 2]

Uses mesaopt's own venv (no peers). The 7×7 perfect maze, random actions, observations and rewards folded into
a checksum (as ``bench_envs.py`` does), compile excluded, median of 5 windows of 1 s per mode.
"""

from __future__ import annotations

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp

import mesaopt  # noqa: F401  (mesaopt's XLA flags, as in every benchmark)
from mesaopt.envs import BufferedAutoReset, Maze

MODES = ("bare", "buffered, no refresh", "buffered")


def make_rollout(mode: str, batch: int, per_refresh: int, n_spares: int):
    """``(init(key), run(carry))``: one call steps every env ``16 * per_refresh`` times in ``mode``."""
    maze = Maze(size=7)
    params = maze.default_params()
    env = BufferedAutoReset(maze, n_spares=n_spares)

    def step(carry, _):
        state, key, acc = carry
        key, k_act, k_env = jax.random.split(key, 3)
        action = jax.random.randint(k_act, (batch,), 0, 4)
        keys = jax.random.split(k_env, batch)
        if mode == "bare":
            obs, env_state, reward, *_ = jax.vmap(maze.step, (0, 0, 0, None))(keys, state.env_state, action, params)
            state = eqx.tree_at(lambda s: s.env_state, state, env_state)
        else:
            obs, state, reward, *_ = jax.vmap(env.step, (0, 0, 0, None))(keys, state, action, params)
        return (state, key, acc + reward.sum() + obs.sum(dtype=jnp.float32)), None

    def chunk(carry, _):
        state, key, acc = carry
        if mode == "buffered":
            key, k_refresh = jax.random.split(key)
            state = env.refresh_batch(jax.random.split(k_refresh, batch), state, params)
        return jax.lax.scan(step, (state, key, acc), None, per_refresh)[0], None

    def init(key):
        state = jax.vmap(env.reset, (0, None))(jax.random.split(key, batch), params)[1]
        return state, jax.random.key(1), jnp.zeros((), jnp.float32)

    return jax.jit(init), jax.jit(lambda carry: jax.lax.scan(chunk, carry, None, 16)[0])


def steps_per_second(run, carry, steps_per_call: int) -> float:
    carry = jax.block_until_ready(run(carry))  # compile + warm-up
    rates = []
    for _ in range(5):
        start, calls = time.perf_counter(), 0
        while time.perf_counter() - start < 1.0:
            carry = jax.block_until_ready(run(carry))
            calls += 1
        rates.append(calls * steps_per_call / (time.perf_counter() - start))
    return sorted(rates)[2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps-per-refresh", type=int, default=32)
    parser.add_argument("--spares", type=int, default=2)
    args = parser.parse_args()
    print(f"7×7 maze, batch {args.batch}, refresh every {args.steps_per_refresh} steps, {args.spares} spares")
    for mode in MODES:
        init, run = make_rollout(mode, args.batch, args.steps_per_refresh, args.spares)
        rate = steps_per_second(run, init(jax.random.key(0)), 16 * args.steps_per_refresh * args.batch)
        print(f"  {mode:<22} {rate / 1e6:6.2f} M steps/s")


if __name__ == "__main__":
    main()
