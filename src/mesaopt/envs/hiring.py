"""A hiring market for the principal-agent experiment: candidates with hidden objectives, a metric, oversight.

Each candidate has a *skill* s (company value per period of honest work), a hidden *loyalty* w in [0, 1] (the
weight of company value in its objective; 1 - w weighs its private benefit; w < 1/2 is *misaligned*) and a capacity
to model the evaluation: the chance m that it recognizes a period of the evaluation as one (0 for candidates that
cannot model it). Every period an agent takes one of three actions:

- ``work``: company value s, the metric sees s;
- ``game``: inflate the metric (the metric sees ``gaming_yield``) at a real cost to the company (``gaming_cost``);
- ``take``: private benefit 1 at a cost of ``take_cost`` to the company; the metric sees nothing (0).

The metric is what the principal can measure. With oversight o a period is inspected with probability o, and an
inspected period's metric is the true company value of the action; otherwise the metric sees the action's apparent
output. So the metric differs from company value (outer misalignment: gaming pays, taking is hidden) the less
oversight there is. Per-period measurement noise is normal with sd ``metric_noise``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

from mesaopt.errors import MesaoptError, is_finite_number

ACTIONS = ("work", "game", "take")
"""An agent's options each period, in the order of the last axis of :func:`action_table`'s arrays."""


@dataclass(frozen=True)
class HiringMarket:
    """Who applies and what actions do."""

    cohort_size: int = 512
    """Candidates per hiring round (>= 2)."""
    misaligned_share: float = 0.3
    """Share of candidates whose loyalty w is drawn from [0, 1/2) (the rest: [1/2, 1]); in [0, 1]."""
    modeller_share: float = 0.5
    """Share of candidates able to model the evaluation (in [0, 1]); their recognition chance m is uniform on
    [``min_recognition``, 1], the others' is 0."""
    min_recognition: float = 0.5
    """Lowest recognition chance of a modeller (in [0, 1])."""
    skill_mean: float = 1.0
    """Mean company value per period of honest work (skills are normal, clipped at 0)."""
    skill_sd: float = 0.3
    """Spread of skill (>= 0)."""
    gaming_yield: float = 2.0
    """What the metric sees of a period spent gaming it (>= 0); 0 = a metric that cannot be gamed."""
    gaming_cost: float = 1.5
    """Company value lost per period of gaming (>= 0)."""
    take_cost: float = 1.0
    """Company value lost per period of taking private benefit (>= 0)."""
    metric_noise: float = 0.5
    """Measurement noise of the metric per period (sd, >= 0)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        if self.cohort_size < 2:
            raise MesaoptError(f"cohort_size must be >= 2, got {self.cohort_size}")
        for name in ("misaligned_share", "modeller_share", "min_recognition"):
            value = getattr(self, name)
            if not is_finite_number(value) or not 0.0 <= value <= 1.0:
                raise MesaoptError(f"{name} must be in [0, 1], got {value!r}")
        for name in ("skill_sd", "gaming_yield", "gaming_cost", "take_cost", "metric_noise"):
            value = getattr(self, name)
            if not is_finite_number(value) or value < 0:
                raise MesaoptError(f"{name} must be a finite number >= 0, got {value!r}")
        if not is_finite_number(self.skill_mean):
            raise MesaoptError(f"skill_mean must be a finite number, got {self.skill_mean!r}")


class Candidates(NamedTuple):
    """One cohort (leading axis: candidates)."""

    skill: Float[Array, " n"]
    """Company value per period of honest work."""
    loyalty: Float[Array, " n"]
    """w: weight of company value in the candidate's objective (hidden from the principal)."""
    recognition: Float[Array, " n"]
    """m: chance of recognizing a period of the evaluation as one."""


def sample_candidates(key, market: HiringMarket) -> Candidates:
    """A fresh cohort."""
    k_skill, k_kind, k_loyal, k_model, k_rec = jax.random.split(key, 5)
    n = market.cohort_size
    skill = jnp.maximum(market.skill_mean + market.skill_sd * jax.random.normal(k_skill, (n,)), 0.0)
    misaligned = jax.random.uniform(k_kind, (n,)) < market.misaligned_share
    loyalty = 0.5 * jax.random.uniform(k_loyal, (n,)) + jnp.where(misaligned, 0.0, 0.5)
    modeller = jax.random.uniform(k_model, (n,)) < market.modeller_share
    low = market.min_recognition
    recognition = jnp.where(modeller, low + (1.0 - low) * jax.random.uniform(k_rec, (n,)), 0.0)
    return Candidates(skill, loyalty, recognition)


class ActionTable(NamedTuple):
    """What each action does for each candidate (last axis: ``ACTIONS``)."""

    value: Float[Array, "n 3"]
    """Company value of a period."""
    private: Float[Array, "n 3"]
    """The agent's private benefit of a period."""
    apparent: Float[Array, "n 3"]
    """What the metric sees of an uninspected period."""


def action_table(candidates: Candidates, market: HiringMarket, gaming_yield=None) -> ActionTable:
    """The per-candidate outcomes of every action (``gaming_yield`` overrides the market's, e.g. a better
    metric)."""
    g = market.gaming_yield if gaming_yield is None else gaming_yield
    s = candidates.skill
    zero = jnp.zeros_like(s)
    value = jnp.stack([s, zero - market.gaming_cost, zero - market.take_cost], axis=-1)
    private = jnp.stack([zero, zero, zero + 1.0], axis=-1)
    apparent = jnp.stack([s, zero + g, zero], axis=-1)
    return ActionTable(value, private, apparent)


def expected_metric(table: ActionTable, oversight) -> Float[Array, "n 3"]:
    """``o * value + (1 - o) * apparent``: the metric an action earns on average under oversight ``o``."""
    return oversight * table.value + (1.0 - oversight) * table.apparent


def measured_metric(key, table: ActionTable, actions, oversight, market: HiringMarket) -> Float[Array, "n t"]:
    """The metric of each period (``actions [n, t]``): inspected with probability ``oversight``, plus noise."""
    k_inspect, k_noise = jax.random.split(key)
    value = jnp.take_along_axis(table.value, actions, axis=-1)
    apparent = jnp.take_along_axis(table.apparent, actions, axis=-1)
    inspected = jax.random.uniform(k_inspect, actions.shape) < oversight
    noise = market.metric_noise * jax.random.normal(k_noise, actions.shape)
    return jnp.where(inspected, value, apparent) + noise
