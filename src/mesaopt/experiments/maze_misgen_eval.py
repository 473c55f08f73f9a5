"""Evaluation and report assembly for ``maze-misgen`` (see ``maze_misgen.py`` for training)."""

from __future__ import annotations

import jax
import numpy as np

from mesaopt.detectors import OutcomeRates, mean_ci, measure_episode_outcomes, summarize_outcomes
from mesaopt.envs.planners import UniformPolicy
from mesaopt.experiments.maze_misgen import MazeMisgenConfig, Setup

N_EXAMPLES = 3


def _policy(setup: Setup, params):
    model = setup.ppo.model(params)
    return lambda obs: model(obs)[0]


def _rates_per_agent(setup: Setup, cfg: MazeMisgenConfig, params, env_params, key) -> dict[str, np.ndarray]:
    """Outcome rates of every agent on its own copy of ``env_params`` (both stacked over agents)."""

    def one(k, p, e):
        out = measure_episode_outcomes(
            k, setup.env, e, _policy(setup, p), n_episodes=cfg.eval_episodes, horizon=cfg.horizon,
            greedy=cfg.eval_greedy,
        )
        return summarize_outcomes(out)

    rates = jax.jit(jax.vmap(one))(jax.random.split(key, setup.n_agents), params, env_params)
    return {name: np.asarray(getattr(rates, name)) for name in OutcomeRates.__annotations__}


def _baseline(setup: Setup, cfg: MazeMisgenConfig, env_params, key) -> dict[str, float]:
    """A uniformly random policy on the first agent's distribution: the rates a non-optimizer gets."""
    first = jax.tree_util.tree_map(lambda x: x[0], env_params)
    out = measure_episode_outcomes(key, setup.env, first, UniformPolicy(), n_episodes=2000, horizon=cfg.horizon)
    rates = summarize_outcomes(out)
    return {"goal_rate": float(rates.goal_rate), "proxy_rate": float(rates.proxy_rate)}


def _examples(setup: Setup, cfg: MazeMisgenConfig, params, env_params, agent: int, key) -> list[dict]:
    """A few episodes of one agent, as JSON-friendly trajectories for rendering."""
    p = jax.tree_util.tree_map(lambda x: x[agent], params)
    e = jax.tree_util.tree_map(lambda x: x[agent], env_params)
    out = measure_episode_outcomes(key, setup.env, e, _policy(setup, p), n_episodes=N_EXAMPLES, horizon=cfg.horizon,
                                   greedy=cfg.eval_greedy)
    rows = []
    for i in range(N_EXAMPLES):
        positions = np.asarray(out.positions[i])
        stop = int(min(out.steps_to_target[i], cfg.horizon)) + 1 if bool(out.reached_goal[i]) else len(positions)
        rows.append({
            "walls": np.asarray(out.walls[i]).astype(int).tolist(),
            "positions": positions[:stop].tolist(),
            "goal": np.asarray(out.goal_pos[i]).tolist(),
            "proxy_mask": np.asarray(e.proxy_mask).astype(int).tolist(),
            "outcome": ["goal", "proxy", "neither"][int(out.outcome[i])],
        })
    return rows


def evaluate(setup: Setup, cfg: MazeMisgenConfig, params) -> dict:
    """Per-agent rates in distribution and shifted, a random baseline, and example trajectories."""
    key = jax.random.fold_in(jax.random.key(cfg.seed), 1)
    k_in, k_shift, k_base_in, k_base_shift, k_ex = jax.random.split(key, 5)
    result = {
        "in_dist": _rates_per_agent(setup, cfg, params, setup.train_params, k_in),
        "shifted": _rates_per_agent(setup, cfg, params, setup.shifted_params, k_shift),
        "random_in_dist_first_region": _baseline(setup, cfg, setup.train_params, k_base_in),
        "random_shifted": _baseline(setup, cfg, setup.shifted_params, k_base_shift),
    }
    examples = {}
    for idx in (0, len(cfg.region_sizes) - 1):
        agent = idx * cfg.n_seeds
        r = cfg.region_sizes[idx]
        examples[f"region {r}, in distribution"] = _examples(setup, cfg, params, setup.train_params, agent, k_ex)
        examples[f"region {r}, shifted"] = _examples(setup, cfg, params, setup.shifted_params, agent, k_ex)
    result["examples"] = examples
    return result


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
