"""Where one generation of ``evolved-reward`` spends its time: the worlds, the random words, the learner.

    .venv/bin/python benchmarks/profile_evolution.py [--lifetimes 2560] [--repeats 7]

mesaopt alone (its own venv). ``--lifetimes`` lifetimes of the preset's defaults (200 meals, 6 kinds, delay 1) on
one CPU device, each part jitted and timed on its own (median of ``--repeats`` calls after a warm-up call):

* the worlds: ``envs.foraging.sample_world`` for every lifetime (sweetness, nutrition, two offer words per step);
* the learner's random words alone: one threefry word per step, as ``models.reward_learner.live`` draws them;
* the learner: ``live`` on given worlds (its random words included);
* threefry, ``rbg`` and ``unsafe_rbg`` words, per word.

Each part is printed in ms per call and ns per lifetime-step (docs/evolution.md, "Benchmark").
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax
import jax.numpy as jnp

sys.path.insert(0, str(Path(__file__).parent))
import _harness  # noqa: E402

from mesaopt.envs.foraging import sample_world  # noqa: E402
from mesaopt.experiments.evolved_reward import EvolvedRewardConfig  # noqa: E402
from mesaopt.models.reward_learner import live  # noqa: E402


def parts(cfg: EvolvedRewardConfig, lifetimes: int, repeats: int) -> dict[str, float]:
    """Seconds per call of each part, for ``lifetimes`` lifetimes."""
    steps = cfg.task.lifetime
    keys = jax.random.split(jax.random.key(0), lifetimes)
    draw = jax.vmap(lambda k: sample_world(k, cfg.task, 0.9))
    worlds = jax.jit(draw)(keys)
    weights = jnp.array([0.7, 0.3])
    learner = jax.vmap(lambda w, k: live(weights, w, k, 1, cfg.learner).nutrition)
    return {
        "worlds": _harness.median_seconds(draw, keys, repeats=repeats),
        "learner's random words": _harness.median_seconds(
            jax.vmap(lambda k: jax.random.bits(k, (steps,), jnp.uint32)), keys, repeats=repeats),
        "learner (worlds given)": _harness.median_seconds(learner, worlds, keys, repeats=repeats),
        "worlds + learner": _harness.median_seconds(jax.vmap(lambda k: live(
            weights, sample_world(k, cfg.task, 0.9), jax.random.fold_in(k, 1), 1, cfg.learner).nutrition),
            keys, repeats=repeats),
    }


def word_costs(words: int, repeats: int) -> dict[str, float]:
    """Seconds per 32-bit word of each key implementation (one call drawing ``words`` words)."""
    return {impl: _harness.median_seconds(lambda k: jax.random.bits(k, (words,), jnp.uint32),
                                 jax.random.key(1, impl=impl), repeats=repeats) / words
            for impl in ("threefry2x32", "rbg", "unsafe_rbg")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lifetimes", type=int, default=2560)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    cfg = EvolvedRewardConfig()
    lifetime_steps = args.lifetimes * cfg.task.lifetime
    print(f"{args.lifetimes} lifetimes x {cfg.task.lifetime} steps on one CPU device ({jax.devices()[0]})")
    for name, seconds in parts(cfg, args.lifetimes, args.repeats).items():
        print(f"{name:26s} {seconds * 1e3:7.2f} ms   {seconds * 1e9 / lifetime_steps:6.1f} ns per lifetime-step")
    for impl, seconds in word_costs(lifetime_steps, args.repeats).items():
        print(f"{impl:26s} {seconds * 1e9:7.2f} ns per 32-bit word")
    info = _harness.machine_info()
    print(f"CPU: {info['cpu']['model']}, {info['cpu_count']} cores; {' '.join(info['cpu']['vector_features'])}")


if __name__ == "__main__":
    main()
