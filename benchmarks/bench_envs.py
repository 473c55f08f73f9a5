"""Environment steps per second: mesaopt's maze against NAVIX, xland-minigrid and Farama Minigrid, side by side.

    benchmarks/.venv-peers/bin/python benchmarks/bench_envs.py [--repeats 3] [--seconds 1.5]

Every JAX environment is stepped the way a JAX learner steps it: random actions, ``jit(scan(vmap(step)))``, the
environment's own auto-reset, and observations and rewards folded into a checksum so XLA cannot drop them.
Batch sizes 1, 64, 1024 and 4096; each row is the median over ``--repeats`` timed windows of ``--seconds``, compile
excluded (reported in its own column). On every JAX side alike, a batch is split across the JAX CPU devices (one per
core, set by ``mesaopt._xla_flags``; ``--one-device`` turns the split off). Farama Minigrid is stepped from a Python
loop (batch 1) and, to use every core, through gymnasium's ``AsyncVectorEnv`` with one worker process per core.

mesaopt rows: the 7×7 perfect maze (a fresh Kruskal maze per episode, fully observed 3×7×7 grid):
``buffered`` = ``BufferedAutoReset`` (2 spares) refreshed once per 32 steps (how the PPO loop steps it with its defaults);
``eager`` = ``AutoReset`` (draws a fresh level on every step for every env, like the peers' auto-resets do).
Peer rows: FourRooms (19×19, a random layout per episode: the task the peers are usually benchmarked on) and
Empty-8x8 (the closest in size to a 7×7 maze). Ratios compare each side at its own best batch size.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _harness as h  # noqa: E402

STEPS_PER_REFRESH = 32
"""``PPOConfig().n_steps``: the PPO loop refreshes the spare levels once per rollout of this many steps."""
SIDES = {
    "mesaopt": ["maze7-buffered", "maze7-eager", "open7-buffered"],
    "navix": ["FourRooms", "Empty-8x8"],
    "xminigrid": ["FourRooms", "Empty-8x8"],
    "farama": ["FourRooms", "Empty-8x8"],
}
TARGETS = {"navix": 4.0, "xminigrid": 10.0, "farama": 1000.0}
# Which peer tasks each mesaopt row is set against: the maze against both (FourRooms is the like-for-like task, a
# random layout per episode; Empty-8x8 is the peers' fastest case, a fixed layout), the eager maze against the
# peers' equally eager FourRooms, the open room (no layout to generate) against Empty-8x8.
RATIO_PAIRS = {
    "maze7-buffered": ["FourRooms", "Empty-8x8"],
    "maze7-eager": ["FourRooms"],
    "open7-buffered": ["Empty-8x8"],
}
TARGET_PAIR = ("maze7-buffered", "FourRooms")
"""The like-for-like pair (a random layout every episode) that the issue's targets are checked on."""
RATIO_NOTES = {
    ("maze7-buffered", "Empty-8x8"): "(peer's best case: fixed layout, nothing to generate)",
    ("maze7-eager", "FourRooms"): "(eager reset on both sides)",
    ("open7-buffered", "Empty-8x8"): "(no layout generation on either side)",
}
PEER_NAMES = {"navix": "NAVIX", "xminigrid": "xland-minigrid", "farama": "Farama Minigrid"}


def steps_per_env(batch: int) -> int:
    """Rollout length per call: long enough at batch 1 that dispatch overhead is noise, >= 256 everywhere."""
    n = max(256, 16384 // batch)
    return n - n % STEPS_PER_REFRESH


# ----------------------------------------------------------------------------------------------- JAX sides


SPLIT_ENV = "MESAOPT_BENCH_SPLIT"
"""Worker environment variable: "1" splits each batch across the JAX CPU devices, "0" keeps it on one."""


def split_over_devices(carry, batch: int):
    """``carry`` with every leaf whose leading axis is the batch split across the JAX devices, the rest replicated.

    A batch that does not divide evenly over the devices (batch 1) stays on one device.
    """
    import jax
    import numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devices = jax.devices()
    if os.environ.get(SPLIT_ENV, "1") != "1" or len(devices) < 2 or batch % len(devices):
        return carry
    mesh = Mesh(np.asarray(devices), ("batch",))
    split, whole = NamedSharding(mesh, PartitionSpec("batch")), NamedSharding(mesh, PartitionSpec())

    def place(leaf):
        return jax.device_put(leaf, split if leaf.ndim and leaf.shape[0] == batch else whole)

    return jax.tree_util.tree_map(place, carry)


def jax_side(build):
    """Worker setup for a JAX side. ``build(variant, batch) -> (init(key), step(key, carry), refresh|None)``."""
    import jax
    import jax.numpy as jnp

    compiled = {}

    def make_rollout(step, refresh, n_steps):
        def inner(carry, _):
            env_carry, key, acc = carry
            key, k_step = jax.random.split(key)
            env_carry, reward, obs = step(k_step, env_carry)
            acc = acc + jnp.sum(reward, dtype=jnp.float32) + jnp.sum(obs, dtype=jnp.float32)
            return (env_carry, key, acc), None

        def chunk(carry, _):
            if refresh is not None:
                env_carry, key, acc = carry
                key, k_refresh = jax.random.split(key)
                carry = (refresh(k_refresh, env_carry), key, acc)
            return jax.lax.scan(inner, carry, None, STEPS_PER_REFRESH)[0], None

        return lambda carry: jax.lax.scan(chunk, carry, None, n_steps // STEPS_PER_REFRESH)[0]

    def handle(msg):
        variant, batch = msg["variant"], msg["batch"]
        n_steps = steps_per_env(batch)
        if msg["op"] == "prepare":
            init, step, refresh = build(variant, batch)
            start = time.perf_counter()
            carry = (jax.jit(init)(jax.random.key(0)), jax.random.key(1), jnp.zeros((), jnp.float32))
            carry = split_over_devices(carry, batch)
            run = jax.jit(make_rollout(step, refresh, n_steps)).lower(carry).compile()
            compile_s = time.perf_counter() - start
            carry = jax.block_until_ready(run(carry))  # warm-up
            compiled[variant, batch] = [run, carry]
            return {"compile_s": compile_s}
        entry = compiled[variant, batch]

        def run_once():
            entry[1] = jax.block_until_ready(entry[0](entry[1]))

        return {"steps_per_s": h.time_calls(run_once, n_steps * batch, msg["seconds"])}

    return handle


def same_xla_flags_as_mesaopt() -> None:
    """Importing mesaopt sets its XLA flags (see ``mesaopt._xla_flags``); peers get the same, so every JAX side
    runs the same XLA configuration. Must run before JAX's CPU backend starts."""
    import mesaopt  # noqa: F401


def xla_info() -> dict:
    return {"XLA_FLAGS": os.environ.get("XLA_FLAGS", ""), "batch_split": os.environ.get(SPLIT_ENV, "1") == "1"}


def setup_mesaopt():
    import jax
    from importlib.metadata import version

    from mesaopt.envs import AutoReset, BufferedAutoReset, Maze

    mazes = {"maze7": Maze(size=7, generator="perfect"), "open7": Maze(size=7, generator="open")}
    params = mazes["maze7"].default_params()

    def build(variant, batch):
        maze = mazes[variant.split("-")[0]]
        buffered = variant.endswith("-buffered")
        env = BufferedAutoReset(maze, n_spares=2) if buffered else AutoReset(maze)

        def init(key):
            return jax.vmap(env.reset, (0, None))(jax.random.split(key, batch), params)[1]

        def step(key, state):
            k_act, k_env = jax.random.split(key)
            action = jax.random.randint(k_act, (batch,), 0, maze.num_actions)
            obs, state, reward, *_ = jax.vmap(env.step, (0, 0, 0, None))(
                jax.random.split(k_env, batch), state, action, params
            )
            return state, reward, obs

        refresh = None
        if buffered:

            def refresh(key, state):
                return env.refresh_batch(jax.random.split(key, batch), state, params)

        return init, step, refresh

    info = {"versions": {n: version(n) for n in ("mesaopt", "jax", "jaxlib")}, **xla_info()}
    return info, jax_side(build)


def setup_navix():
    same_xla_flags_as_mesaopt()
    import jax
    import navix as nx
    from importlib.metadata import version

    names = {"FourRooms": ("Navix-FourRooms-v0", 100), "Empty-8x8": ("Navix-Empty-8x8-v0", 256)}

    def build(variant, batch):
        name, max_steps = names[variant]  # Farama's own time limits for the same tasks
        env = nx.make(name, max_steps=max_steps)
        n_actions = len(env.action_set)

        def init(key):
            return jax.vmap(env.reset)(jax.random.split(key, batch))

        def step(key, timestep):
            action = jax.random.randint(key, (batch,), 0, n_actions)
            timestep = jax.vmap(env.step)(timestep, action)  # auto-resets inside step
            return timestep, timestep.reward, timestep.observation

        return init, step, None

    info = {"versions": {n: version(n) for n in ("navix", "jax", "jaxlib")}, "envs": names, **xla_info()}
    return info, jax_side(build)


def setup_xminigrid():
    same_xla_flags_as_mesaopt()
    import jax
    import xminigrid
    from importlib.metadata import version
    from xminigrid.wrappers import GymAutoResetWrapper

    names = {"FourRooms": "MiniGrid-FourRooms", "Empty-8x8": "MiniGrid-Empty-8x8"}

    def build(variant, batch):
        env, params = xminigrid.make(names[variant])
        env = GymAutoResetWrapper(env)
        n_actions = env.num_actions(params)

        def init(key):
            return jax.vmap(env.reset, (None, 0))(params, jax.random.split(key, batch))

        def step(key, timestep):
            action = jax.random.randint(key, (batch,), 0, n_actions)
            timestep = jax.vmap(env.step, (None, 0, 0))(params, timestep, action)
            return timestep, timestep.reward, timestep.observation

        return init, step, None

    info = {"versions": {n: version(n) for n in ("xminigrid", "jax", "jaxlib")}, "envs": names, **xla_info()}
    return info, jax_side(build)


# ----------------------------------------------------------------------------------------------- Farama


def setup_farama():
    from importlib.metadata import version

    import gymnasium as gym
    import minigrid  # noqa: F401  (registers the MiniGrid-* ids)
    import numpy as np

    names = {"FourRooms": "MiniGrid-FourRooms-v0", "Empty-8x8": "MiniGrid-Empty-8x8-v0"}
    envs = {}

    def make(variant, batch):
        if batch == 1:
            env = gym.make(names[variant])
        else:  # one worker process per env (Minigrid's mission space cannot live in shared memory)
            env = gym.vector.AsyncVectorEnv([lambda: gym.make(names[variant])] * batch, shared_memory=False)
        env.reset(seed=0)
        n_actions = (env.action_space if batch == 1 else env.single_action_space).n
        return env, np.random.default_rng(0).integers(0, n_actions, 1 << 16)

    def step_loop(env, actions, seconds):
        steps, start = 0, time.perf_counter()
        while True:
            for _ in range(256):
                _, _, terminated, truncated, _ = env.step(int(actions[steps % len(actions)]))
                steps += 1
                if terminated or truncated:
                    env.reset()
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return steps / elapsed

    def step_vector(env, actions, seconds):  # the vector env resets ended episodes itself
        calls, start = 0, time.perf_counter()
        while True:
            for _ in range(16):
                env.step(actions[calls % len(actions)])
                calls += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                return calls * env.num_envs / elapsed

    def handle(msg):
        variant, batch = msg["variant"], msg["batch"]
        if msg["op"] == "prepare":
            start = time.perf_counter()
            envs[variant, batch] = make(variant, batch)
            return {"compile_s": time.perf_counter() - start}
        env, actions = envs[variant, batch]
        if batch == 1:
            return {"steps_per_s": step_loop(env, actions, msg["seconds"])}
        return {"steps_per_s": step_vector(env, actions.reshape(-1, batch), msg["seconds"])}

    info = {"versions": {n: version(n) for n in ("minigrid", "gymnasium")}, "envs": names}
    return info, handle


SETUPS = {"mesaopt": setup_mesaopt, "navix": setup_navix, "xminigrid": setup_xminigrid, "farama": setup_farama}


# ----------------------------------------------------------------------------------------------- driver


def batches_for(side: str, batches: list[int]) -> list[int]:
    """Farama: one env in a loop, and one ``AsyncVectorEnv`` worker per core (its way to use every core)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return sorted({1, cores}) if side == "farama" else batches


def run_driver(args) -> dict:
    script = Path(__file__).resolve()
    workers, compile_s, errors, versions = {}, {}, {}, {}
    for side in args.sides:
        items = [{"variant": v, "batch": b} for v in SIDES[side] for b in batches_for(side, args.batches)]
        split = {SPLIT_ENV: "0" if args.one_device else "1"}
        worker, compiled, failed = h.prepare_side(script, side, items, env=split, tag="envs")
        compile_s.update(compiled)
        errors.update(failed)
        if worker is not None:
            workers[side] = worker
            versions[side] = {**worker.info.get("versions", {}), "XLA_FLAGS": worker.info.get("XLA_FLAGS"),
                              "batch_split": worker.info.get("batch_split")}
    items = {key: {"variant": key[1], "batch": key[2]} for key in compile_s if key[0] in workers}
    samples = h.measure_round_robin(workers, items, args.repeats, errors, tag="envs", seconds=args.seconds)
    for worker in workers.values():
        worker.close()
    rows = [
        {"side": s, "env": v, "batch": b, "compile_s": compile_s[s, v, b], **h.summarize(x)}
        for (s, v, b), x in samples.items()
        if x
    ]
    return {"machine": h.machine_info(), "args": vars(args), "versions": versions,
            "errors": {h.key_name(k): e for k, e in errors.items()}, "rows": rows}


def best(rows, side, env):
    candidates = [r for r in rows if r["side"] == side and r["env"] == env]
    return max(candidates, key=lambda r: r["median"]) if candidates else None


def report(result: dict) -> None:
    rows = result["rows"]
    print()
    print(f"Environment steps/s (median of {result['args']['repeats']} x {result['args']['seconds']} s; "
          "compile excluded)")
    where = "on one device" if result["args"].get("one_device") else "split across the JAX CPU devices (one per core)"
    print(f"JAX batches {where}; Farama batch > 1 = AsyncVectorEnv, one worker process per env")
    h.print_table(
        ["side", "env", "batch", "steps/s", "min", "max", "compile s"],
        [
            [r["side"], r["env"], r["batch"], h.fmt_rate(r["median"]), h.fmt_rate(r["min"]), h.fmt_rate(r["max"]),
             f"{r['compile_s']:.1f}"]
            for r in rows
        ],
    )
    ratios = []
    print()
    print("Ratios at each side's best batch size (targets checked on the buffered maze, the way PPO steps it, "
          "against FourRooms, the like-for-like task):")
    for ours, peer_envs in RATIO_PAIRS.items():
        mine = best(rows, "mesaopt", ours)
        if mine is None:
            continue
        for peer, target in TARGETS.items():
            for env in peer_envs:
                theirs = best(rows, peer, env)
                if theirs is None:
                    continue
                ratio = mine["median"] / theirs["median"]
                ratios.append({"mesaopt": ours, "peer": peer, "peer_env": env, "ratio": ratio, "target": target,
                               "mesaopt_batch": mine["batch"], "peer_batch": theirs["batch"]})
                note = h.verdict(ratio, target) if (ours, env) == TARGET_PAIR else RATIO_NOTES[ours, env]
                print(f"  mesaopt {ours:<14} @{mine['batch']:<4} ({h.fmt_rate(mine['median']):>8}/s) vs "
                      f"{PEER_NAMES[peer] + ' ' + env:<26} @{theirs['batch']:<4} ({h.fmt_rate(theirs['median']):>8}/s):"
                      f" {ratio:8,.1f}x  {note}")
    result["ratios"] = ratios
    for side, err in result["errors"].items():
        print(f"  {side}: not measured ({err})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="timed windows per row (median reported)")
    parser.add_argument("--seconds", type=float, default=1.5, help="length of one timed window")
    parser.add_argument("--batches", type=lambda s: [int(x) for x in s.split(",")], default=[1, 64, 1024, 4096])
    parser.add_argument("--one-device", action="store_true",
                        help="keep each JAX batch on one device (default: split across the CPU devices)")
    parser.add_argument("--sides", type=lambda s: s.split(","), default=list(SIDES))
    args = parser.parse_args()
    if args.worker:
        h.serve(SETUPS[args.worker])
        return
    h.run_benchmark(args, SIDES, run_driver, report, "envs.json", parser)


if __name__ == "__main__":
    main()
