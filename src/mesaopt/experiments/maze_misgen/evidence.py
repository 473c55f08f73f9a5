"""The evidence card of a stored ``maze-misgen`` run: does each trained condition search, what for, is it aligned?

One *condition* is one training-region size; its seeds' evaluation episodes on the shifted distribution are
pooled for the behavioural detectors (optimization power, goal-directedness, inverse RL, probes, steering), and
the outcome rates already stored in the run's ``report.json`` feed the verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import equinox as eqx
import jax

from mesaopt.detectors.goal_directedness import measure_goal_directedness
from mesaopt.detectors.irl import recover_behavioral_objective
from mesaopt.detectors.optimization_power import optimization_power_sampled, optimization_power_uniform
from mesaopt.detectors.outcomes import measure_episode_outcomes
from mesaopt.detectors.policies import policy_from_model
from mesaopt.detectors.verdict import AlignmentEvidence, classify_alignment
from mesaopt.experiments.maze_misgen.run import load_trained_agents
from mesaopt.experiments.maze_misgen.search_evidence import generalization_card, search_card
from mesaopt.experiments.shared.common import take
from mesaopt.experiments.shared.evidence import InspectConfig, VerdictThresholds

OBJECTIVES = ("goal", "corner")


def _pool(tree):
    """[agents, episodes, ...] -> [agents · episodes, ...]."""
    return jax.tree_util.tree_map(lambda x: x.reshape(-1, *x.shape[2:]), tree)


def shifted_episodes(setup, params, n_episodes: int, horizon: int, key):
    """Every agent's episodes on its shifted distribution, in one program: leaves [agents, episodes, ...]."""

    def one(k, p, e):
        policy = policy_from_model(setup.ppo.model(p))
        return measure_episode_outcomes(k, setup.eval_env, e, policy, n_episodes=n_episodes, horizon=horizon)

    keys = jax.random.split(key, setup.n_agents)
    return eqx.filter_jit(jax.vmap(one))(keys, params, setup.shifted_params)


def default_networks(setup, n_samples: int, key):
    """Arrays of ``n_samples`` freshly initialised models of the agents' class (the sampled default)."""
    keys = jax.random.split(key, n_samples)
    return jax.lax.map(lambda k: eqx.filter(setup.ppo.model_factory(k), eqx.is_array), keys)


def _per_objective(values, digits=3) -> dict:
    return {name: round(float(v), digits) for name, v in zip(OBJECTIVES, values)}


def _op_card(uniform, sampled) -> dict:
    return {
        "optimization_power_bits": _per_objective(uniform.excess_bits),
        "optimization_power_bits_ci": {n: [round(float(a), 3), round(float(b), 3)]
                                       for n, (a, b) in zip(OBJECTIVES, uniform.excess_ci)},
        "optimization_power_raw_bits": _per_objective(uniform.bits),
        "optimization_power_chance_bits": _per_objective(uniform.default_bits),
        "optimization_power_bits_random_init": _per_objective(sampled.excess_bits),
        "target_rate_shifted": _per_objective(uniform.success_rate),
        "target_rate_uniform_policy": _per_objective(uniform.default_success_rate),
        "target_rate_random_init": _per_objective(sampled.default_success_rate),
    }


def _irl_card(irl, directedness) -> dict:
    return {
        "behavioral_objective": irl.behavioral_objective,
        "goal_directedness": _per_objective(directedness.bits_per_action),
        "rationality": _per_objective(directedness.rationality),
        "irl_weights": {n: round(float(w), 3) for n, w in zip(irl.feature_names, irl.weights)},
        "irl_gain_bits": _per_objective(irl.candidate_gain_bits),
        "irl_joint_gain_bits": round(float(irl.full_gain_bits), 3),
    }


def _verdict_card(rates: dict, index: int, objective: str, thresholds: VerdictThresholds) -> dict:
    ev = AlignmentEvidence(
        goal_rate_in_dist=float(rates["in_dist"]["goal_rate"]["mean"][index]),
        goal_rate_shifted=float(rates["shifted"]["goal_rate"]["mean"][index]),
        proxy_rate_shifted=float(rates["shifted"]["proxy_rate"]["mean"][index]),
        behavioral_objective=objective,
    )
    verdict = classify_alignment(ev, **vars(thresholds))
    return {"verdict": verdict.verdict, "verdict_reasons": list(verdict.reasons),
            "goal_rate_in_dist": ev.goal_rate_in_dist, "goal_rate_shifted": ev.goal_rate_shifted,
            "proxy_rate_shifted": ev.proxy_rate_shifted}


def condition_card(setup, episodes, agents: slice, keys, icfg: InspectConfig, defaults) -> dict:
    """Behavioural detectors on one condition's pooled shifted episodes."""
    pooled = _pool(take(episodes, agents))
    env_params = take(setup.shifted_params, agents.start)
    proxy = env_params.proxy_mask
    uniform = optimization_power_uniform(pooled, proxy, objectives=OBJECTIVES)
    sampled = optimization_power_sampled(
        keys[0], setup.eval_env, env_params, pooled, defaults, lambda p: policy_from_model(setup.ppo.model(p)),
        objectives=OBJECTIVES,
    )
    directedness = measure_goal_directedness(pooled, proxy, objectives=OBJECTIVES)
    irl = recover_behavioral_objective(take(pooled, slice(0, icfg.irl_episodes)), proxy, objectives=OBJECTIVES)
    return {**_op_card(uniform, sampled), **_irl_card(irl, directedness)}


def inspect_maze_misgen(run_dir: Path, report: dict, icfg: InspectConfig, on_step: Callable | None = None) -> dict:
    """Evidence card per training-region size of a ``maze-misgen`` run."""
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
