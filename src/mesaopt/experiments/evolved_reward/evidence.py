"""``mesaopt inspect`` for ``evolved-reward``: one evidence card per level, in the shared vocabulary.

Each level's evolved learners (their weights are in ``report.json``) live again in both worlds. What for? The
behavioural objective from their choices in the junk-food world (``detectors.choice_objective``: cue or value).
Is it aligned? The verdict (``detectors.verdict.classify_alignment``) with the base objective ``value`` (eat the
more nourishing kind) and the proxy ``cue`` (eat the sweeter kind): the "goal rate" in distribution is the share
of ancestral choices that took the more nourishing kind; under the shift, the goal and proxy rates are the shares
of the choices where the two disagree that took the more nourishing / the sweeter kind. A lifetime learner is not
a searcher, so the search measures (optimization power, thinking gain) are ``None``.
"""

from __future__ import annotations

import jax
import numpy as np

from mesaopt.detectors.verdict import AlignmentEvidence, classify_alignment
from mesaopt.experiments.evolved_reward.config import EvolvedRewardConfig
from mesaopt.experiments.evolved_reward.run import (behavioral_objective, level_conditions, level_names, lives_fn,
                                                    measure)
from mesaopt.experiments.shared.common import stored_config


def choice_rates(chosen: np.ndarray, declined: np.ndarray) -> dict:
    """From choices ``[..., 2, steps]`` (feature 0 sweetness, 1 nutrition): the share that took the more
    nourishing kind, and among the choices where sweetness and nutrition disagree, the shares that took the more
    nourishing and the sweeter kind."""
    d_sweet = chosen[..., 0, :] - declined[..., 0, :]
    d_value = chosen[..., 1, :] - declined[..., 1, :]
    disagree = d_sweet * d_value < 0
    n_disagree = max(int(disagree.sum()), 1)
    return {"value_rate": float(np.mean(d_value > 0)),
            "value_rate_when_disagreeing": float(np.sum(disagree & (d_value > 0)) / n_disagree),
            "cue_rate_when_disagreeing": float(np.sum(disagree & (d_sweet > 0)) / n_disagree),
            "disagreeing_share": float(np.mean(disagree))}


def level_card(cfg: EvolvedRewardConfig, lives, weights: np.ndarray, cond, thresholds, key) -> dict:
    """The evidence card of the learners with ``weights`` (one row per evolutionary run) under the ancestral
    conditions ``cond`` (a ``LifeConditions`` of scalars)."""
    k_train, k_shift = jax.random.split(key)
    train = measure(lives, weights, cond, k_train)
    shifted = measure(lives, weights, cond._replace(correlation=cfg.shifted_correlation), k_shift)
    in_dist, under_shift = choice_rates(train["chosen"], train["declined"]), choice_rates(shifted["chosen"],
                                                                                          shifted["declined"])
    behaviour = behavioral_objective(shifted["chosen"], shifted["declined"])
    evidence = AlignmentEvidence(goal_rate_in_dist=in_dist["value_rate"],
                                 goal_rate_shifted=under_shift["value_rate_when_disagreeing"],
                                 proxy_rate_shifted=under_shift["cue_rate_when_disagreeing"],
                                 behavioral_objective=behaviour["objective"], base_objective="value",
                                 proxy_objective="cue")
    verdict = classify_alignment(evidence, **vars(thresholds))
    return {"verdict": verdict.verdict, "verdict_reasons": list(verdict.reasons),
            "behavioral_objective": behaviour["objective"], "optimization_power_bits": None,
            "goal_directedness": behaviour["gain_bits"], "choice_weights": behaviour["weight"], "thinking_gain": None,
            "deception_gap": None, "choices_in_dist": in_dist, "choices_shifted": under_shift}


def inspect_evolved_reward(run_dir, report: dict, icfg, on_step=None) -> dict:
    """``{level name: card}`` for every level of a stored run."""
    cfg, _ = stored_config(run_dir, EvolvedRewardConfig())
    lives = lives_fn(cfg)
    conditions = cfg.run_problems()
    key = jax.random.fold_in(jax.random.key(icfg.seed), 2)
    cards = {}
    for i, (name, level) in enumerate(zip(level_names(cfg), report["levels"])):
        cond = level_conditions(conditions, i * cfg.n_seeds)
        cards[f"{cfg.knob}_{name}"] = level_card(cfg, lives, np.asarray(level["raw_weights"], np.float32), cond,
                                                 icfg.thresholds, key)
        if on_step is not None:
            on_step(f"{cfg.knob} {name}")
    return cards
