"""Evidence of search on a ``maze-misgen`` condition: the thinking-steps gain of recurrent agents, linear probes and
retargeting by activation steering of feed-forward ones, and layout generalization of runs trained on a pool."""

from __future__ import annotations

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
from mesaopt.experiments.shared.common import take


PROBE_LAYERS = {"mlp": "actor.1.hook_post", "cnn": "dense.hook_post", "vprop": "hook_log_reward"}
"""The layer probed and steered per model class: the actor's last hidden layer, or for the planner its reward
map (its objective)."""


def generalization_card(setup, params, agents: slice, key, cfg, icfg) -> dict:
    """Goal rate on training-pool layouts vs never-seen ones (runs trained on a pool), averaged over seeds."""
    if cfg.layout_pool_size == 0:
        return {"layout_generalization": None}
    env_params = take(setup.in_dist_params, agents.start)

    def one(p, k):
        policy = policy_from_model(setup.ppo.model(p))
        return layout_generalization_episodes(k, setup.eval_env, env_params, policy, n_episodes=icfg.n_episodes,
                                              horizon=cfg.horizon)

    n = agents.stop - agents.start
    seen, fresh, unseen = eqx.filter_jit(jax.vmap(one))(take(params, agents), jax.random.split(key, n))
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
    env_params = take(setup.shifted_params, agents.start)

    def one(p, k):
        policy = policy_from_model(setup.ppo.model(p))
        return measure_thinking_gain(k, setup.eval_env, env_params, policy, thinking_steps=THINKING_STEPS,
                                     n_episodes=icfg.n_episodes, horizon=cfg.horizon)

    n = agents.stop - agents.start
    report = eqx.filter_jit(jax.vmap(one))(take(params, agents), jax.random.split(key, n))
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
    models = setup.ppo.model(take(params, agents))
    env_params = take(setup.shifted_params, agents.start)
    n = agents.stop - agents.start
    probes = eqx.filter_jit(eqx.filter_vmap(
        lambda m, k: measure_probes(k, setup.eval_env, env_params, m, layer, n_episodes=icfg.n_episodes,
                                    horizon=cfg.horizon, rollout_policy=UniformPolicy())
    ))(models, jax.random.split(keys[0], n))
    steering = eqx.filter_jit(eqx.filter_vmap(
        lambda m, k: measure_retargeting(k, setup.eval_env, env_params, m, layer, horizon=cfg.horizon,
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
