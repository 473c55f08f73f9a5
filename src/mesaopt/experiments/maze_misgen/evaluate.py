"""Evaluation and report assembly for ``maze-misgen`` (see ``maze_misgen.py`` for training)."""

from __future__ import annotations

import jax
import numpy as np

from mesaopt.detectors import OutcomeRates, mean_ci, measure_episode_outcomes, summarize_outcomes
from mesaopt.detectors.policies import policy_from_model
from mesaopt.envs.planners import UniformPolicy
from mesaopt.experiments.maze_misgen.config import MazeMisgenConfig, Setup
from mesaopt.experiments.shared.common import take

N_EXAMPLES = 3


def _policy(setup: Setup, params):
    return policy_from_model(setup.ppo.model(params))


def make_agent_evaluator(setup: Setup, cfg: MazeMisgenConfig):
    """One jitted function ``(key, params, env_params) -> (rates, episodes)`` over all agents; compiled once and
    used for both distributions. ``episodes`` keeps the first ``N_EXAMPLES`` episodes of every agent."""

    def one(k, p, e):
        out = measure_episode_outcomes(
            k, setup.eval_env, e, _policy(setup, p), n_episodes=cfg.eval_episodes, horizon=cfg.horizon,
            greedy=cfg.eval_greedy,
        )
        first = jax.tree_util.tree_map(lambda x: x[:N_EXAMPLES], out)
        return summarize_outcomes(out), first

    return jax.jit(jax.vmap(one))


def _rates(rates) -> dict[str, np.ndarray]:
    return {name: np.asarray(getattr(rates, name)) for name in OutcomeRates.__annotations__}


def _baseline(setup: Setup, cfg: MazeMisgenConfig, env_params, key) -> dict[str, float]:
    """A uniformly random policy on the first agent's distribution: the rates a non-optimizer gets."""
    first = take(env_params, 0)
    out = measure_episode_outcomes(key, setup.eval_env, first, UniformPolicy(), n_episodes=2000, horizon=cfg.horizon)
    rates = summarize_outcomes(out)
    return {"goal_rate": float(rates.goal_rate), "proxy_rate": float(rates.proxy_rate)}


def _examples(episodes, env_params, agent: int) -> list[dict]:
    """One agent's stored example episodes as JSON-friendly trajectories for rendering."""
    proxy = np.asarray(env_params.proxy_mask[agent]).astype(int).tolist()
    rows = []
    for i in range(N_EXAMPLES):
        positions = np.asarray(episodes.positions[agent, i])
        reached = bool(episodes.reached_goal[agent, i])
        stop = int(episodes.steps_to_target[agent, i]) + 1 if reached else len(positions)
        rows.append({
            "walls": np.asarray(episodes.walls[agent, i]).astype(int).tolist(),
            "positions": positions[:stop].tolist(),
            "goal": np.asarray(episodes.goal_pos[agent, i]).tolist(),
            "proxy_mask": proxy,
            "outcome": ["goal", "proxy", "neither"][int(episodes.outcome[agent, i])],
        })
    return rows


def evaluate(setup: Setup, cfg: MazeMisgenConfig, params) -> dict:
    """Per-agent rates in distribution and shifted, a random baseline, and example trajectories."""
    key = jax.random.fold_in(jax.random.key(cfg.seed), 1)
    k_in, k_shift, k_base_in, k_base_shift = jax.random.split(key, 4)
    evaluator = make_agent_evaluator(setup, cfg)
    keys = lambda k: jax.random.split(k, setup.n_agents)
    rates_in, episodes_in = evaluator(keys(k_in), params, setup.in_dist_params)
    rates_shift, episodes_shift = evaluator(keys(k_shift), params, setup.shifted_params)
    examples = {}
    for idx in (0, len(cfg.region_sizes) - 1):
        agent, r = idx * cfg.n_seeds, cfg.region_sizes[idx]
        examples[f"region {r}, in distribution"] = _examples(episodes_in, setup.in_dist_params, agent)
        examples[f"region {r}, shifted"] = _examples(episodes_shift, setup.shifted_params, agent)
    return {
        "in_dist": _rates(rates_in),
        "shifted": _rates(rates_shift),
        "random_in_dist_first_region": _baseline(setup, cfg, setup.in_dist_params, k_base_in),
        "random_shifted": _baseline(setup, cfg, setup.shifted_params, k_base_shift),
        "examples": examples,
    }


def _by_region(per_agent: np.ndarray, cfg: MazeMisgenConfig) -> np.ndarray:
    return per_agent.reshape(len(cfg.region_sizes), cfg.n_seeds)


def rate_table(per_agent: dict[str, np.ndarray], cfg: MazeMisgenConfig) -> dict[str, dict[str, list]]:
    """For each rate: per-seed values, mean, and 95 % CI per region size."""
    table = {}
    for name, values in per_agent.items():
        grid = _by_region(values, cfg)
        mean, low, high = mean_ci(grid, axis=1)
        table[name] = {
            "per_seed": grid.tolist(), "mean": mean.tolist(), "ci": np.stack([low, high], axis=1).tolist(),
        }
    return table


def build_headline(tables: dict, cfg: MazeMisgenConfig, env_steps: int, wall_seconds: float) -> dict:
    """The stable ``headline`` of ``report.json`` (names fixed by the maze-misgen issue; see docs)."""
    ind, shf = tables["in_dist"], tables["shifted"]
    return {
        "region_sizes": list(cfg.region_sizes),
        "goal_rate_in_dist": ind["goal_rate"]["mean"],
        "goal_rate_shifted": shf["goal_rate"]["mean"],
        "proxy_rate_shifted": shf["proxy_rate"]["mean"],
        "goal_rate_in_dist_ci": ind["goal_rate"]["ci"],
        "goal_rate_shifted_ci": shf["goal_rate"]["ci"],
        "proxy_rate_shifted_ci": shf["proxy_rate"]["ci"],
        "n_seeds": cfg.n_seeds,
        "env_steps_per_seed": env_steps,
        "wall_seconds": round(wall_seconds, 2),
    }
