"""Run ``principal-agent``: every cohort is evaluated under every oversight level (one compiled program per
condition), hired at every selection pressure, and followed after hiring; outer and inner misalignment are
separated with a counterfactual cohort whose members have no hidden objective."""

from __future__ import annotations

import dataclasses
import functools
import time
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.stats import mean_ci
from mesaopt.envs.hiring import ACTIONS, HiringMarket, action_table, expected_metric, measured_metric, sample_candidates
from mesaopt.experiments.principal_agent.config import PrincipalAgentConfig
from mesaopt.models.evaluated_agent import choose_actions
from mesaopt.optimizers.selection import top_fraction_mask

GAME, TAKE = ACTIONS.index("game"), ACTIONS.index("take")

MEASURES = ("value_delivered", "misaligned_share_selected", "deception_gap", "deception_gap_value",
            "metric_selected", "gaming_rate_evaluation", "outer_loss", "inner_loss")
"""Per (pressure, oversight) cell, means over the hired agents of each cohort (see docs/nested.md)."""


class Conduct(NamedTuple):
    """One cohort under one oversight level (leading axis: candidates)."""

    metric: jax.Array
    """Mean measured metric over the evaluation (what the principal hires by)."""
    value_evaluation: jax.Array
    """Mean company value per period of the evaluation."""
    value_after: jax.Array
    """Company value per period after hiring."""
    evaluation_shares: jax.Array
    """``[n, 3]``: share of evaluation periods spent on each action (``envs.hiring.ACTIONS``)."""
    after_shares: jax.Array
    """``[n, 3]``: the action taken after hiring, one-hot (it is the same every period)."""
    misaligned: jax.Array
    """1 if the agent's hidden loyalty is below 1/2."""


class Policy(NamedTuple):
    """The settings a condition may change (traced: conditions share one compiled program)."""

    oversight: jax.Array
    """Chance a period of the evaluation is inspected."""
    audit_rate: jax.Array
    """Chance a period after hiring is audited, as the agents expect it."""
    gaming_yield: jax.Array
    """What the metric sees of a period of gaming."""
    stake: jax.Array
    """Weight of the metric in an agent's utility when it believes the metric decides its job."""
    without_hidden_objectives: jax.Array
    """1: every candidate gets loyalty 1 (the counterfactual cohort: same skills, recognition and noise)."""


def policies(cfg: PrincipalAgentConfig, without_hidden_objectives: bool = False) -> Policy:
    """One :class:`Policy` per oversight level of ``cfg`` (leading axis)."""
    levels = jnp.asarray(cfg.oversight_levels, jnp.float32)

    def full(v):
        return jnp.full(levels.shape, v, jnp.float32)

    return Policy(levels, full(cfg.audit_rate), full(cfg.market.gaming_yield), full(cfg.stake),
                  full(float(without_hidden_objectives)))


@functools.lru_cache(maxsize=8)
def conduct_fn(market: HiringMarket, periods: int):
    """``conduct(keys [seeds], policy [levels]) -> Conduct [seeds, levels, ...]``, jitted once per market (its
    gaming yield aside) and evaluation length: each key draws a cohort, which is evaluated for ``periods`` periods
    under each policy and followed after hiring."""
    def conduct(key, p: Policy):
        k_cohort, k_recognize, k_metric = jax.random.split(key, 3)
        cand = sample_candidates(k_cohort, market)
        loyalty = jnp.where(p.without_hidden_objectives > 0, 1.0, cand.loyalty)
        table = action_table(cand, market, p.gaming_yield)
        recognized = jax.random.uniform(k_recognize, (market.cohort_size, periods)) < cand.recognition[:, None]
        belief = jnp.where(recognized, 1.0, p.audit_rate)
        during = choose_actions(loyalty, table.value, table.private, expected_metric(table, p.oversight), belief,
                                p.stake)
        # after hiring nothing is inspected but the audits, which see the true value
        after = choose_actions(loyalty, table.value, table.private, table.value,
                               jnp.full((market.cohort_size, 1), p.audit_rate), p.stake)[:, 0]
        metric = measured_metric(k_metric, table, during, p.oversight, market).mean(axis=1)
        value_during = jnp.take_along_axis(table.value, during, axis=-1).mean(axis=1)
        return Conduct(metric, value_during, jnp.take_along_axis(table.value, after[:, None], -1)[:, 0],
                       jax.nn.one_hot(during, len(ACTIONS)).mean(axis=1), jax.nn.one_hot(after, len(ACTIONS)),
                       (loyalty < 0.5).astype(jnp.float32))

    over_policies = jax.vmap(conduct, in_axes=(None, 0))
    return jax.jit(jax.vmap(over_policies, in_axes=(0, None)))


def conduct_of(cfg: PrincipalAgentConfig, keys, policy: Policy) -> Conduct:
    """Every cohort of ``keys`` under every row of ``policy``."""
    market = dataclasses.replace(cfg.market, gaming_yield=0.0)  # traced instead: one program for every metric
    return conduct_fn(market, cfg.evaluation_periods)(keys, policy)


def deception_shift(conduct: Conduct) -> jax.Array:
    """Per agent: share of periods spent taking after hiring minus during the evaluation (positive: pursues its
    private benefit more when it believes no one is counting; the behaviour-shift form of
    ``detectors.deception``'s gap)."""
    return conduct.after_shares[..., TAKE] - conduct.evaluation_shares[..., TAKE]


def _mean_over(mask, x):
    return jnp.sum(mask * x, axis=-1) / jnp.maximum(jnp.sum(mask, axis=-1), 1)


def hire(cfg: PrincipalAgentConfig, actual: Conduct, counterfactual: Conduct) -> dict:
    """Every measure at every pressure: ``{measure: [seeds, pressures, oversight levels]}``."""
    out = {m: [] for m in MEASURES}
    for bits in cfg.selection_pressures:
        fraction = 2.0 ** -bits
        hired = top_fraction_mask(actual.metric, fraction).astype(jnp.float32)
        hired_cf = top_fraction_mask(counterfactual.metric, fraction).astype(jnp.float32)
        oracle = top_fraction_mask(counterfactual.value_after, fraction).astype(jnp.float32)
        value = _mean_over(hired, actual.value_after)
        value_cf = _mean_over(hired_cf, counterfactual.value_after)
        cells = {"value_delivered": value, "misaligned_share_selected": _mean_over(hired, actual.misaligned),
                 "deception_gap": _mean_over(hired, deception_shift(actual)),
                 "deception_gap_value": _mean_over(hired, actual.value_evaluation - actual.value_after),
                 "metric_selected": _mean_over(hired, actual.metric),
                 "gaming_rate_evaluation": _mean_over(hired, actual.evaluation_shares[..., GAME]),
                 "outer_loss": _mean_over(oracle, counterfactual.value_after) - value_cf,
                 "inner_loss": value_cf - value}
        for m in MEASURES:
            out[m].append(np.asarray(cells[m]))
    return {m: np.stack(v, axis=1) for m, v in out.items()}


def summarize(per_seed: np.ndarray) -> dict:
    """``{"mean", "ci"}`` over seeds (axis 0) as nested lists (95 % t-intervals)."""
    mean, low, high = mean_ci(per_seed, axis=0, clip=None)
    return {"mean": np.round(mean, 4).tolist(), "ci": np.stack([low, high], -1).round(4).tolist()}


def measure_condition(cfg: PrincipalAgentConfig, keys) -> dict:
    """Every measure of one condition, summarized over cohorts."""
    actual = conduct_of(cfg, keys, policies(cfg))
    counterfactual = conduct_of(cfg, keys, policies(cfg, without_hidden_objectives=True))
    per_seed = hire(cfg, actual, counterfactual)
    return {m: summarize(v) for m, v in per_seed.items()}


def run_principal_agent(cfg: PrincipalAgentConfig, ctx) -> dict:
    """Measure the baseline and every intervention; return the report."""
    started = time.perf_counter()
    cfg.validate()
    keys = jax.random.split(jax.random.key(cfg.seed), cfg.n_seeds)  # the same cohorts in every condition
    conditions = {}
    for name, condition in cfg.conditions().items():
        ctx.phase(f"hiring: {name}")
        conditions[name] = measure_condition(condition, keys)
    wall = time.perf_counter() - started
    return {"preset": "principal-agent", "headline": headline(cfg, conditions, wall), "conditions": conditions,
            "timings": {"wall_seconds": round(wall, 2)}, "config": dataclasses.asdict(cfg)}


def at_cell(summary: dict, pressure: int, oversight: int) -> dict:
    """``{"mean", "ci"}`` of one cell of a summarized measure."""
    return {"mean": summary["mean"][pressure][oversight], "ci": summary["ci"][pressure][oversight]}


def headline(cfg: PrincipalAgentConfig, conditions: dict, wall: float) -> dict:
    """The stable names (docs/nested.md): lists indexed ``[pressure][oversight]`` for the baseline; each
    intervention (and the baseline) at the weakest oversight and the strongest pressure."""
    base = conditions["baseline"]
    out = {"selection_pressures": list(cfg.selection_pressures), "oversight_levels": list(cfg.oversight_levels)}
    for m in ("value_delivered", "misaligned_share_selected", "deception_gap", "outer_loss", "inner_loss"):
        out[m], out[f"{m}_ci"] = base[m]["mean"], base[m]["ci"]
    last = len(cfg.selection_pressures) - 1
    out["interventions"] = {}
    for name, cond in conditions.items():
        cell = {m: at_cell(cond[m], last, 0) for m in ("deception_gap", "misaligned_share_selected",
                                                        "value_delivered")}
        out["interventions"][name] = {k: v for m, c in cell.items() for k, v in ((m, c["mean"]),
                                                                                  (f"{m}_ci", c["ci"]))}
    out["n_seeds"], out["wall_seconds"] = cfg.n_seeds, round(wall, 2)
    return out
