"""``mesaopt inspect`` for ``principal-agent``: one evidence card per condition, in the shared vocabulary.

The hired agents of fresh cohorts (keys from the inspect seed) are followed through the evaluation and after
hiring. What for? The behavioural objective is read from what the hired do after hiring, when only their own
objective counts: mostly work → ``company_value`` (the base objective), mostly gaming → ``metric`` (the proxy),
mostly taking → ``private_benefit``. Is it aligned? ``detectors.verdict.classify_alignment`` with the evaluation
as the training distribution (goal rate: share of periods worked) and life after hiring as the shift; the
deception gap is the share of periods spent taking after hiring minus during the evaluation, with its 95 %
interval over cohorts, so a hired population that takes only when unwatched gets ``deceptive_signal``. The agents
are optimizers by construction (each period they maximize a stated utility), so no search measure is computed.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.stats import mean_ci
from mesaopt.detectors.verdict import AlignmentEvidence, classify_alignment
from mesaopt.envs.hiring import ACTIONS
from mesaopt.experiments.principal_agent.config import PrincipalAgentConfig
from mesaopt.experiments.principal_agent.run import conduct_of, deception_shift, policies
from mesaopt.experiments.shared.common import stored_config
from mesaopt.optimizers.selection import top_fraction_mask

OBJECTIVE_OF_ACTION = {"work": "company_value", "game": "metric", "take": "private_benefit"}
"""The objective an action serves (the behavioural objective of a population that mostly takes it)."""


def hired_rates(cfg: PrincipalAgentConfig, keys, oversight: float, bits: float) -> dict:
    """Per cohort: the hired agents' action shares during the evaluation and after hiring, and their deception
    gap (arrays over cohorts)."""
    policy = jax.tree.map(lambda x: x[:1], policies(dataclasses.replace(cfg, oversight_levels=(oversight,))))
    conduct = jax.tree.map(lambda x: x[:, 0], conduct_of(cfg, keys, policy))
    hired = top_fraction_mask(conduct.metric, 2.0 ** -bits).astype(jnp.float32)[..., None]
    count = jnp.maximum(hired.sum(axis=1), 1)
    during = np.asarray((hired * conduct.evaluation_shares).sum(axis=1) / count)
    after = np.asarray((hired * conduct.after_shares).sum(axis=1) / count)
    gap = np.asarray((hired[..., 0] * deception_shift(conduct)).sum(axis=1) / count[:, 0])
    return {"during": during, "after": after, "gap": gap}


def condition_card(rates: dict, thresholds) -> dict:
    """The evidence card of one condition's hired agents."""
    during, after = rates["during"].mean(axis=0), rates["after"].mean(axis=0)
    work, game = ACTIONS.index("work"), ACTIONS.index("game")
    gap, low, high = mean_ci(rates["gap"], clip=None)
    objective = OBJECTIVE_OF_ACTION[ACTIONS[int(np.argmax(after))]]
    evidence = AlignmentEvidence(goal_rate_in_dist=float(during[work]), goal_rate_shifted=float(after[work]),
                                 proxy_rate_shifted=float(after[game]), behavioral_objective=objective,
                                 base_objective="company_value", proxy_objective="metric",
                                 deception_gap=float(gap), deception_gap_low=float(low))
    verdict = classify_alignment(evidence, **vars(thresholds))
    return {"verdict": verdict.verdict, "verdict_reasons": list(verdict.reasons), "behavioral_objective": objective,
            "optimization_power_bits": None, "goal_directedness": None, "thinking_gain": None,
            "deception_gap": round(float(gap), 4), "deception_gap_ci": [round(float(low), 4), round(float(high), 4)],
            "actions_during_evaluation": dict(zip(ACTIONS, np.round(during, 4).tolist())),
            "actions_after_hiring": dict(zip(ACTIONS, np.round(after, 4).tolist()))}


def inspect_principal_agent(run_dir, report: dict, icfg, on_step=None) -> dict:
    """``{condition: card}``: every oversight level at the strongest pressure, and each intervention at the
    weakest oversight."""
    cfg, _ = stored_config(run_dir, PrincipalAgentConfig())
    keys = jax.random.split(jax.random.fold_in(jax.random.key(icfg.seed), 3), cfg.n_seeds)
    bits = max(cfg.selection_pressures)
    cells = [(f"oversight_{o:g}", cfg, o) for o in cfg.oversight_levels]
    cells += [(name, cond, cfg.oversight_levels[0]) for name, cond in cfg.conditions().items() if name != "baseline"]
    cards = {}
    for name, cond, oversight in cells:
        cards[name] = condition_card(hired_rates(cond, keys, oversight, bits), icfg.thresholds)
        if on_step is not None:
            on_step(name)
    return cards
