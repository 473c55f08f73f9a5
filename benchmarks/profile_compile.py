"""Where PPO's compile time goes: trace, lower and XLA compile of the init program and of the chunk runner.

    .venv/bin/python benchmarks/profile_compile.py [--seeds 1] [--cache DIR]

Uses mesaopt's own venv (no peers). The same programs as ``bench_ppo.py``'s mesaopt side (7×7 maze, MLP 64×2,
``PPOConfig()`` defaults, 8 updates per chunk, seeds split over the CPU devices). Without ``--cache`` the persistent
compilation cache is a fresh directory (a cold compile); run it twice with the same ``--cache`` for a warm one.
XLA flags can be tried through ``XLA_FLAGS`` (mesaopt adds its own unless they are already there).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import jax
import jax.numpy as jnp

import mesaopt  # noqa: F401  (mesaopt's XLA flags, as in every benchmark)
from mesaopt.envs import ENVS
from mesaopt.models import MODELS
from mesaopt.optimizers import PPOConfig, make_ppo
from mesaopt.optimizers.chunks import make_chunk_runner, run_sharding


def timed(label: str, times: dict, fn, *args):
    start = time.perf_counter()
    out = fn(*args)
    times[label] = time.perf_counter() - start
    return out


def profile(n_seeds: int) -> dict:
    """Seconds per phase, in the order ``bench_ppo.py`` runs them (setup is outside its timed region)."""
    times = {}
    env = ENVS["maze"](size=7)
    env_params = env.default_params()

    def model_factory(key):
        return MODELS["mlp"](env.obs_shape, env.num_actions, width=64, depth=2, key=key)

    ppo = timed("setup (make_ppo)", times, make_ppo, PPOConfig(), env, model_factory, 200_000)
    keys = jax.random.split(jax.random.key(0), n_seeds)
    params = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (n_seeds, *x.shape)), env_params)
    init = jax.jit(lambda ks: jax.lax.map(lambda k: ppo.init(k, env_params), ks))
    traced = timed("init: trace", times, init.trace, keys)
    lowered = timed("init: lower", times, traced.lower)
    compiled = timed("init: XLA compile", times, lowered.compile)
    state = jax.block_until_ready(timed("init: run", times, compiled, keys))
    sharding, _ = run_sharding(n_seeds)
    if sharding is not None:
        state, params = jax.device_put((state, params), sharding)
    runner = make_chunk_runner(ppo.step, 8, sharding)
    traced = timed("runner: trace", times, runner.trace, state, params)
    lowered = timed("runner: lower", times, traced.lower)
    timed("runner: XLA compile", times, lowered.compile)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--cache", help="persistent cache directory (default: a fresh one, i.e. a cold compile)")
    args = parser.parse_args()
    jax.config.update("jax_compilation_cache_dir", args.cache or tempfile.mkdtemp(prefix="mesaopt-compile-"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    times = profile(args.seeds)
    for label, seconds in times.items():
        print(f"  {label:<22} {seconds:6.2f} s")
    counted = sum(v for k, v in times.items() if not k.startswith("setup"))
    print(f"  {'total (as bench_ppo)':<22} {counted:6.2f} s")


if __name__ == "__main__":
    main()
