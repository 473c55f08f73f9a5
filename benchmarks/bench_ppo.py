"""PPO training steps per second: mesaopt against Stable-Baselines3 and rejax, side by side.

    benchmarks/.venv-peers/bin/python benchmarks/bench_ppo.py [--repeats 3] [--updates-per-chunk 8]

One setting for every side: the 7×7 maze, 64 envs × 32 steps per update (2,048 steps), 4 epochs × 4 minibatches,
separate actor and critic MLPs 64×2 (tanh), Adam 5e-4, γ 0.97, λ 0.95, clip 0.2, entropy 0.01, value 0.5, grad
clip 0.5 (mesaopt's ``PPOConfig()`` defaults).

* mesaopt: ``make_ppo`` + ``make_chunk_runner`` (what the CLI runs), one chunk of ``--updates-per-chunk`` updates
  per timed call, for 1 seed and for 8 seeds trained together (vmap). Compile time is measured apart: cold (a
  fresh persistent-cache directory) and warm (a fresh process reusing that directory).
* Stable-Baselines3: the same maze re-implemented in vectorized NumPy (``maze_numpy.py``), torch at 1 and at
  2 threads. SB3 trains seeds one after another, so its 8-seed throughput equals its 1-seed throughput.
* rejax: on the same maze through a gymnax adapter (``maze_gymnax.py``; gymnax's contract resets eagerly) and on
  gymnax's own ``FourRooms-misc`` (13×13, 4-float observation: rejax's fastest comparable path), 1 and 8 seeds
  (vmap, as rejax documents).

Steps/s counts environment steps summed over seeds, compile excluded; medians over ``--repeats`` chunks.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

N_ENVS, N_STEPS, N_EPOCHS, N_MINIBATCHES = 64, 32, 4, 4
STEPS_PER_UPDATE = N_ENVS * N_STEPS
HYPER = dict(learning_rate=5e-4, gamma=0.97, gae_lambda=0.95, clip_eps=0.2, ent_coef=0.01, vf_coef=0.5,
             max_grad_norm=0.5)
SIDES = {
    "mesaopt": ["maze7 1 seed", "maze7 8 seeds"],
    "sb3": ["maze7 1 seed, torch 1 thread", "maze7 1 seed, torch 2 threads"],
    "rejax": ["maze7 1 seed", "maze7 8 seeds", "FourRooms-misc 1 seed", "FourRooms-misc 8 seeds"],
}


def n_seeds(variant: str) -> int:
    return 8 if "8 seeds" in variant else 1


# ----------------------------------------------------------------------------------------------- mesaopt


def enable_persistent_cache():
    import jax

    cache = os.environ.get("MESAOPT_BENCH_CACHE_DIR")
    if cache:
        jax.config.update("jax_compilation_cache_dir", cache)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return cache



def setup_mesaopt(updates_per_chunk: int):
    import jax
    import jax.numpy as jnp
    from importlib.metadata import version

    from mesaopt.envs import ENVS
    from mesaopt.models import MODELS
    from mesaopt.optimizers import PPOConfig, make_ppo
    from mesaopt.optimizers.chunks import make_chunk_runner, run_sharding

    cache = enable_persistent_cache()
    env = ENVS["maze"](size=7)
    env_params = env.default_params()
    cfg = PPOConfig()
    if (cfg.n_envs, cfg.n_steps, cfg.n_epochs, cfg.n_minibatches) != (N_ENVS, N_STEPS, N_EPOCHS, N_MINIBATCHES):
        raise ValueError(f"PPOConfig() defaults changed ({cfg}); update the peers' settings in bench_ppo.py to match")

    def model_factory(key):
        return MODELS["mlp"](env.obs_shape, env.num_actions, width=64, depth=2, key=key)

    ppo = make_ppo(cfg, env, model_factory, total_steps=200_000)

    def prepare(variant):
        n = n_seeds(variant)
        start = time.perf_counter()
        keys = jax.random.split(jax.random.key(0), n)
        params = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (n, *x.shape)), env_params)
        # Seeds are initialised with lax.map, not vmap: vmap batches the orthogonal initialiser's QR, and jaxlib
        # 0.10.2's batched CPU QR (ParallelBatchMap on XLA's intra-op pool) can deadlock on a 2-core machine
        # when two such calls run at once (README, "Known issues"; mesaopt's XLA flag makes that unlikely, this
        # makes it impossible). Init is not timed in steps/s; the chunk runner itself is vmapped over seeds.
        init = jax.jit(lambda ks: jax.lax.map(lambda k: ppo.init(k, env_params), ks))
        state = init.lower(keys).compile()(keys)
        sharding, _ = run_sharding(n)  # seeds split over the CPU devices (one per core), as train_in_chunks does
        if sharding is not None:
            state, params = jax.device_put((state, params), sharding)
        runner = make_chunk_runner(ppo.step, updates_per_chunk, sharding).lower(state, params).compile()
        compile_s = time.perf_counter() - start
        box = [state]

        def run_chunk():
            box[0], metrics = runner(box[0], params)
            jax.block_until_ready(metrics)

        return compile_s, run_chunk, n * updates_per_chunk * STEPS_PER_UPDATE

    info = {"versions": {n: version(n) for n in ("mesaopt", "jax", "jaxlib", "equinox", "optax")},
            "persistent_cache": cache, "XLA_FLAGS": os.environ.get("XLA_FLAGS", "")}
    return info, h.chunk_handler(prepare)


# ----------------------------------------------------------------------------------------------- rejax


def setup_rejax(updates_per_chunk: int):
    import mesaopt  # noqa: F401  (first: sets mesaopt's XLA flags, so both JAX sides run the same XLA config)
    import gymnax
    import jax
    import jax.numpy as jnp
    from importlib.metadata import version
    from rejax import PPO

    from maze_gymnax import FiveTupleStep, GymnaxMaze
    from mesaopt.envs import ENVS

    chunk_steps = updates_per_chunk * STEPS_PER_UPDATE

    def make_env(task):
        if task == "maze7":
            env = GymnaxMaze(ENVS["maze"](size=7))
            return env, env.default_params
        env, params = gymnax.make(task)
        return FiveTupleStep(env), params

    def prepare(variant):
        task, n = variant.split()[0], n_seeds(variant)
        env, env_params = make_env(task)
        algo = PPO.create(
            env=env, env_params=env_params, num_envs=N_ENVS, num_steps=N_STEPS, num_epochs=N_EPOCHS,
            num_minibatches=N_MINIBATCHES, total_timesteps=chunk_steps, eval_freq=chunk_steps,
            skip_initial_evaluation=True, normalize_observations=False, normalize_rewards=False,
            agent_kwargs={"hidden_layer_sizes": (64, 64), "activation": "tanh"}, **HYPER,
        )
        algo = algo.replace(eval_callback=lambda algo, ts, rng: jnp.zeros(()))  # time training, not evaluation
        start = time.perf_counter()
        keys = jax.random.split(jax.random.key(0), n)
        state = jax.jit(jax.vmap(algo.init_state)).lower(keys).compile()(keys)
        train = jax.jit(jax.vmap(lambda ts: algo.train(train_state=ts)[0])).lower(state).compile()
        compile_s = time.perf_counter() - start
        box = [state]

        def run_chunk():
            box[0] = jax.block_until_ready(train(box[0]))

        return compile_s, run_chunk, n * chunk_steps

    info = {"versions": {n: version(n) for n in ("rejax", "gymnax", "flax", "jax", "jaxlib")},
            "XLA_FLAGS": os.environ.get("XLA_FLAGS", "")}
    return info, h.chunk_handler(prepare)


# ----------------------------------------------------------------------------------------------- SB3


def setup_sb3(updates_per_chunk: int):
    import torch
    from importlib.metadata import version
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import VecMonitor

    from maze_numpy import make_sb3_vec_env

    models = {}

    def threads(variant):
        return 2 if "2 threads" in variant else 1

    def new_model():
        return PPO(
            "MlpPolicy", VecMonitor(make_sb3_vec_env(N_ENVS, 7, seed=0)), n_steps=N_STEPS,
            batch_size=STEPS_PER_UPDATE // N_MINIBATCHES, n_epochs=N_EPOCHS,
            learning_rate=lambda progress: HYPER["learning_rate"] * progress, gamma=HYPER["gamma"],
            gae_lambda=HYPER["gae_lambda"], clip_range=HYPER["clip_eps"], clip_range_vf=HYPER["clip_eps"],
            ent_coef=HYPER["ent_coef"], vf_coef=HYPER["vf_coef"], max_grad_norm=HYPER["max_grad_norm"],
            policy_kwargs=dict(net_arch=dict(pi=[64, 64], vf=[64, 64]), activation_fn=torch.nn.Tanh),
            device="cpu", seed=0, verbose=0,
        )

    def handle(msg):
        variant = msg["variant"]
        torch.set_num_threads(threads(variant))
        if msg["op"] == "prepare":
            start = time.perf_counter()
            models[variant] = new_model()
            models[variant].learn(STEPS_PER_UPDATE)  # warm-up: one update
            return {"compile_s": time.perf_counter() - start}
        model = models[variant]
        steps = updates_per_chunk * STEPS_PER_UPDATE
        run = lambda: model.learn(steps, reset_num_timesteps=False)  # noqa: E731
        return {"steps_per_s": h.time_calls(run, steps, 0.0)}

    info = {"versions": {n: version(n) for n in ("stable-baselines3", "torch", "gymnasium", "numpy")},
            "torch_default_threads": torch.get_num_threads()}
    return info, handle


SETUPS = {"mesaopt": setup_mesaopt, "sb3": setup_sb3, "rejax": setup_rejax}


# ----------------------------------------------------------------------------------------------- driver


def run_driver(args) -> dict:
    script = Path(__file__).resolve()
    cache_dir = tempfile.mkdtemp(prefix="mesaopt-bench-cache-")
    updates = {"MESAOPT_BENCH_UPDATES": str(args.updates_per_chunk)}
    cache_env = {"MESAOPT_BENCH_CACHE_DIR": cache_dir, **updates}
    workers, compile_s, errors, versions, warm = {}, {}, {}, {}, {}
    try:
        for side in args.sides:
            items = [{"variant": v} for v in SIDES[side]]
            env = cache_env if side == "mesaopt" else updates
            worker, compiled, failed = h.prepare_side(script, side, items, env=env, tag="ppo")
            compile_s.update(compiled)
            errors.update(failed)
            if worker is not None:
                workers[side] = worker
                versions[side] = {**worker.info.get("versions", {}), "XLA_FLAGS": worker.info.get("XLA_FLAGS")}
        items = {key: {"variant": key[1]} for key in compile_s if key[0] in workers}
        samples = h.measure_round_robin(workers, items, args.repeats, errors, tag="ppo")
        for worker in workers.values():
            worker.close()
        if any(key[0] == "mesaopt" for key in compile_s):
            print("[ppo] mesaopt again, in a fresh process, compiling from the persistent cache:", flush=True)
            worker, warm, failed = h.prepare_side(
                script, "mesaopt", [{"variant": v} for v in SIDES["mesaopt"]], env=cache_env, tag="ppo")
            errors.update({("mesaopt (warm compile)", *k[1:]): e for k, e in failed.items()})
            if worker is not None:
                worker.close()
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
    rows = [
        {"side": s, "variant": v, "seeds": n_seeds(v), "compile_s": compile_s[s, v], **h.summarize(x)}
        for (s, v), x in samples.items()
        if x
    ]
    compile_rows = [
        {"variant": v, "cold_s": t, "warm_s": warm.get(("mesaopt", v))}
        for (s, v), t in compile_s.items()
        if s == "mesaopt"
    ]
    return {"machine": h.machine_info(), "args": vars(args), "versions": versions,
            "errors": {h.key_name(k): e for k, e in errors.items()}, "rows": rows,
            "mesaopt_compile": compile_rows, "steps_per_update": STEPS_PER_UPDATE}


def get(rows, side, variant):
    return next((r["median"] for r in rows if r["side"] == side and r["variant"] == variant), None)


def ratio_line(label, ours, theirs, target=None, note=""):
    if ours is None or theirs is None:
        print(f"  {label}: n/a")
        return None
    ratio = ours / theirs
    verdict = h.verdict(ratio, target) if target else note
    print(f"  {label}: {h.fmt_rate(ours)}/s vs {h.fmt_rate(theirs)}/s = {ratio:.2f}x  {verdict}")
    return ratio


def report(result: dict) -> None:
    rows, args = result["rows"], result["args"]
    chunk = args["updates_per_chunk"] * STEPS_PER_UPDATE
    print()
    print(f"PPO training steps/s, summed over seeds (median of {args['repeats']} chunks of {chunk:,} steps per seed; "
          "compile excluded)")
    h.print_table(
        ["side", "variant", "steps/s", "min", "max", "compile/setup s"],
        [[r["side"], r["variant"], h.fmt_rate(r["median"]), h.fmt_rate(r["min"]), h.fmt_rate(r["max"]),
          f"{r['compile_s']:.1f}"] for r in rows],
    )
    if result["mesaopt_compile"]:
        print()
        print("mesaopt compile time (trace + lower + compile of init and the chunk runner):")
        h.print_table(
            ["variant", "cold s (fresh cache)", "warm s (persistent cache, fresh process)"],
            [[c["variant"], f"{c['cold_s']:.1f}", "-" if c["warm_s"] is None else f"{c['warm_s']:.1f}"]
             for c in result["mesaopt_compile"]],
        )
    sb3 = [x for x in (get(rows, "sb3", v) for v in SIDES["sb3"]) if x is not None]
    sb3_best = max(sb3) if sb3 else None
    m1, m8 = get(rows, "mesaopt", "maze7 1 seed"), get(rows, "mesaopt", "maze7 8 seeds")
    print()
    print("Ratios (mesaopt / peer):")
    result["ratios"] = {
        "sb3_1_seed": ratio_line("1 seed   vs SB3 (faster thread setting)", m1, sb3_best, 2.0),
        "sb3_8_seeds": ratio_line("8 seeds  vs SB3 (8 seeds one after another)", m8, sb3_best, 5.0),
        "rejax_maze_1_seed": ratio_line("1 seed   vs rejax, same maze", m1, get(rows, "rejax", "maze7 1 seed"), 1.0),
        "rejax_maze_8_seeds": ratio_line("8 seeds  vs rejax, same maze", m8, get(rows, "rejax", "maze7 8 seeds"), 1.0),
        "rejax_fourrooms_1_seed": ratio_line(
            "1 seed   vs rejax, gymnax FourRooms-misc", m1, get(rows, "rejax", "FourRooms-misc 1 seed"),
            note="(another task: 4-float observation, no layout generation)"),
        "rejax_fourrooms_8_seeds": ratio_line(
            "8 seeds  vs rejax, gymnax FourRooms-misc", m8, get(rows, "rejax", "FourRooms-misc 8 seeds"),
            note="(another task: 4-float observation, no layout generation)"),
    }
    if m1 and m8:
        print(f"  mesaopt 8 seeds / 1 seed: {m8 / m1:.2f}x (vmap over seeds)")
    for side, err in result["errors"].items():
        print(f"  {side}: not measured ({err})")


def main() -> None:
    h.chunk_benchmark_main(__doc__, SIDES, SETUPS, run_driver, report, "ppo.json", repeats=3,
                           chunk_flag="--updates-per-chunk", chunk_default=8,
                           chunk_help=f"PPO updates ({STEPS_PER_UPDATE} steps each) per timed chunk",
                           env_var="MESAOPT_BENCH_UPDATES")


if __name__ == "__main__":
    main()
