"""``mesaopt inspect RUN``: add the evidence card to a stored run's ``report.json`` (under ``"evidence"``).

Inspectors are registered per preset. Each returns ``{condition name: card}``; every card has the stable keys
``verdict``, ``behavioral_objective``, ``optimization_power_bits``, ``goal_directedness``, ``thinking_gain`` and
``deception_gap`` (``None`` where a measure does not apply), plus detector details (see ``docs/evidence.md``).
Only the ``evidence`` and ``evidence_settings`` sections of ``report.json`` are rewritten, atomically.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax
import numpy as np

from mesaopt.detectors.generalization import layout_generalization_episodes, summarize_generalization
from mesaopt.detectors.policies import policy_from_model
from mesaopt.detectors.probes import measure_probes
from mesaopt.detectors.stats import mean_ci
from mesaopt.detectors.steering import measure_retargeting
from mesaopt.detectors.thinking import measure_thinking_gain
from mesaopt.envs.planners import UniformPolicy
from mesaopt.errors import MesaoptError
from mesaopt.experiments.evidence_maze import (
    InspectConfig,
    _take,
    _verdict_card,
    condition_card,
    default_networks,
    shifted_episodes,
)

CARD_KEYS = ("verdict", "behavioral_objective", "optimization_power_bits", "goal_directedness", "thinking_gain",
             "deception_gap")
"""Keys every evidence card has (the stable part of the ``evidence`` section)."""


def inspect_maze_misgen(run_dir: Path, report: dict, icfg: InspectConfig, on_step: Callable | None = None) -> dict:
    """Evidence card per training-region size of a ``maze-misgen`` run."""
    from mesaopt.experiments.maze_misgen_run import load_trained_agents

    cfg, setup, params = load_trained_agents(run_dir)
    k_episodes, k_defaults, k_conditions = jax.random.split(jax.random.key(icfg.seed), 3)
    step = on_step or (lambda text: None)
    step("rolling out every agent on the shifted distribution")
    episodes = shifted_episodes(setup, params, icfg.n_episodes, cfg.horizon, k_episodes)
    defaults = default_networks(setup, icfg.n_default_samples, k_defaults)
    cards = {}
    for i, region in enumerate(cfg.region_sizes):
        step(f"region {region}: optimization power, goal-directedness, inverse RL")
        agents = slice(i * cfg.n_seeds, (i + 1) * cfg.n_seeds)
        keys = jax.random.split(jax.random.fold_in(k_conditions, i), 4)
        card = condition_card(setup, episodes, agents, keys, icfg, defaults)
        search = search_card(setup, params, agents, keys[1:], cfg, icfg, step, region)
        card.update(search)
        card.update(generalization_card(setup, params, agents, keys[3], cfg, icfg))
        card.update(_verdict_card(report["rates"], i, card["behavioral_objective"], icfg.thresholds))
        card.setdefault("thinking_gain", None)
        card["deception_gap"] = None
        cards[f"region_{region}"] = card
    return cards


PROBE_LAYERS = {"mlp": "actor.1.hook_post", "cnn": "dense.hook_post"}
"""The layer probed and steered per model class (the actor's last hidden layer)."""


def generalization_card(setup, params, agents: slice, key, cfg, icfg) -> dict:
    """Goal rate on training-pool layouts vs never-seen ones (runs trained on a pool), averaged over seeds."""
    if cfg.layout_pool_size == 0:
        return {"layout_generalization": None}
    env_params = _take(setup.train_params, agents.start)

    def one(p, k):
        policy = policy_from_model(setup.ppo.model(p))
        return layout_generalization_episodes(k, setup.env, env_params, policy, n_episodes=icfg.n_episodes,
                                              horizon=cfg.horizon)

    n = agents.stop - agents.start
    seen, fresh, unseen = eqx.filter_jit(jax.vmap(one))(_take(params, agents), jax.random.split(key, n))
    reports = [summarize_generalization(seen[i], fresh[i], unseen[i]) for i in range(n)]
    gaps = np.array([r.gap for r in reports])
    mean, low, high = mean_ci(gaps, clip=(-1.0, 1.0))
    return {"layout_generalization": {
        "pool_size": cfg.layout_pool_size,
        "goal_rate_seen": round(float(np.mean([r.goal_rate_seen for r in reports])), 3),
        "goal_rate_unseen": round(float(np.nanmean([r.goal_rate_unseen for r in reports])), 3),
        "gap": round(float(mean), 3), "gap_ci": [round(float(low), 3), round(float(high), 3)],
    }}


THINKING_STEPS = (0, 1, 2, 4, 8)
"""Extra thinking steps tried on recurrent models."""


def thinking_card(setup, params, agents: slice, key, cfg, icfg) -> dict:
    """Goal rate on the shifted distribution vs extra thinking steps (recurrent models), averaged over seeds."""
    env_params = _take(setup.shifted_params, agents.start)

    def one(p, k):
        policy = policy_from_model(setup.ppo.model(p))
        return measure_thinking_gain(k, setup.env, env_params, policy, thinking_steps=THINKING_STEPS,
                                     n_episodes=icfg.n_episodes, horizon=cfg.horizon)

    n = agents.stop - agents.start
    report = eqx.filter_jit(jax.vmap(one))(_take(params, agents), jax.random.split(key, n))
    gains = np.asarray(report.gain, np.float64)
    mean, low, high = mean_ci(gains, clip=(-1.0, 1.0))
    return {"thinking_gain": round(float(mean), 3), "thinking_gain_ci": [round(float(low), 3), round(float(high), 3)],
            "thinking_curve": {"steps": list(THINKING_STEPS),
                               "goal_rate": np.round(np.asarray(report.goal_rate).mean(axis=0), 3).tolist()}}


def search_card(setup, params, agents: slice, keys, cfg, icfg, step, region) -> dict:
    """Evidence of search on one condition, averaged over seeds: the thinking-steps gain (recurrent models),
    or probes and steering (feed-forward models; both assume a model without hidden state)."""
    if hasattr(setup.ppo.static_model, "initial_hidden"):
        step(f"region {region}: success vs extra thinking steps")
        return thinking_card(setup, params, agents, keys[2], cfg, icfg)
    layer = PROBE_LAYERS.get(cfg.model)
    if layer is None:
        return {}
    step(f"region {region}: linear probes and retargeting by steering ({layer})")
    models = setup.ppo.model(_take(params, agents))
    env_params = _take(setup.shifted_params, agents.start)
    n = agents.stop - agents.start
    probes = eqx.filter_jit(eqx.filter_vmap(
        lambda m, k: measure_probes(k, setup.env, env_params, m, layer, n_episodes=icfg.n_episodes,
                                    horizon=cfg.horizon, rollout_policy=UniformPolicy())
    ))(models, jax.random.split(keys[0], n))
    steering = eqx.filter_jit(eqx.filter_vmap(
        lambda m, k: measure_retargeting(k, setup.env, env_params, m, layer, horizon=cfg.horizon,
                                         n_episodes=icfg.steering_episodes)
    ))(models, jax.random.split(keys[1], n))
    return {**_probe_fields(probes), **_steering_fields(steering), "probe_layer": layer}


def _mean_grid(grid) -> list:
    """Mean over seeds per cell; NaN where no seed has a value (cells that are always walls)."""
    grid = np.asarray(grid, np.float64)
    counts = np.isfinite(grid).sum(axis=0)
    total = np.where(np.isfinite(grid), grid, 0.0).sum(axis=0)
    mean = np.round(total / np.maximum(counts, 1), 3)
    return [[float(v) if n else None for v, n in zip(row, row_n)] for row, row_n in zip(mean, counts)]


def _probe_fields(report) -> dict:
    mean = lambda x: round(float(np.mean(np.asarray(x))), 3)
    return {
        "probe_goal_accuracy": mean(report.goal_accuracy), "probe_goal_chance": mean(report.goal_chance),
        "probe_goal_accuracy_per_cell": _mean_grid(report.goal_accuracy_per_cell),
        "probe_action_accuracy": mean(report.action_accuracy), "probe_action_chance": mean(report.action_chance),
        "probe_path_accuracy": mean(report.path_accuracy), "probe_path_chance": mean(report.path_chance),
    }


def _steering_fields(report) -> dict:
    gains = np.asarray(report.mean_gain, np.float64)
    mean, low, high = mean_ci(gains, clip=(-1.0, 1.0))
    return {
        "steering_mean_gain": round(float(mean), 3), "steering_gain_ci": [round(float(low), 3), round(float(high), 3)],
        "steering_gain_per_seed": np.round(gains, 3).tolist(),
        "steering_success_per_cell": _mean_grid(report.success_steered),
        "steering_baseline_per_cell": _mean_grid(report.success_baseline),
    }


def _inspect_absent_supervisor(run_dir, report, icfg, on_step=None) -> dict:
    from mesaopt.experiments.evidence_supervisor import inspect_absent_supervisor

    return inspect_absent_supervisor(run_dir, report, icfg, on_step)


INSPECTORS = {"maze-misgen": inspect_maze_misgen, "absent-supervisor": _inspect_absent_supervisor}
"""``inspector(run_dir, report, inspect_config, on_step) -> {condition: card}`` by preset name."""


def inspect_run(run_dir: Path, report: dict, icfg: InspectConfig, on_step: Callable | None = None) -> dict:
    """Compute the evidence of a stored run and return the updated report (the caller writes it)."""
    preset = report.get("preset")
    if preset not in INSPECTORS:
        raise MesaoptError(f"runs of preset {preset!r} cannot be inspected; allowed: {sorted(INSPECTORS)}")
    icfg.validate()
    started = time.perf_counter()
    cards = INSPECTORS[preset](run_dir, report, icfg, on_step)
    for name, card in cards.items():
        missing = [k for k in CARD_KEYS if k not in card]
        if missing:
            raise RuntimeError(f"evidence card {name} lacks {missing}")
    settings = {**dataclasses.asdict(icfg), "seconds": round(time.perf_counter() - started, 2)}
    return {**report, "evidence": cards, "evidence_settings": settings}
