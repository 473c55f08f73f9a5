"""Config of ``principal-agent``: the hiring market, the principal's pressure and oversight, the interventions."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from mesaopt.envs.hiring import HiringMarket
from mesaopt.errors import MesaoptError, is_finite_number
from mesaopt.experiments.shared.icl import check_positive

INTERVENTIONS = ("randomized_audits", "longer_evaluation", "metric_closer_to_value")
"""What a principal can change: audit hired agents at random (``intervention_audit_rate``), evaluate for longer
(``intervention_evaluation_periods``), or use a metric that gaming moves less (``intervention_gaming_yield``)."""


@dataclass(frozen=True)
class PrincipalAgentConfig:
    """Config of ``principal-agent`` (hiring executives)."""

    market: HiringMarket = field(default_factory=HiringMarket)
    """Who applies and what their actions do."""
    selection_pressures: tuple[float, ...] = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0)
    """Bits of selection on the metric: the principal hires the best 2^-bits of each cohort (increasing, >= 0, at
    least one hire)."""
    oversight_levels: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
    """Chance that a period of the evaluation is inspected (its metric is then the true company value); increasing,
    in [0, 1]."""
    evaluation_periods: int = 4
    """Periods of the evaluation, whose mean metric the principal hires by (>= 1)."""
    stake: float = 1.0
    """Weight of the metric in an agent's utility when it believes the metric decides its job (> 0)."""
    audit_rate: float = 0.0
    """Chance that a period after hiring is audited, as the agents expect it (in [0, 1]; 0: no oversight after
    hiring)."""
    interventions: tuple[str, ...] = INTERVENTIONS
    """Which interventions to measure (distinct names from ``randomized_audits``, ``longer_evaluation``,
    ``metric_closer_to_value``)."""
    intervention_audit_rate: float = 0.5
    """The audit rate of ``randomized_audits`` (in [0, 1])."""
    intervention_evaluation_periods: int = 16
    """The evaluation length of ``longer_evaluation`` (>= 1)."""
    intervention_gaming_yield: float = 0.5
    """What the metric of ``metric_closer_to_value`` sees of a period of gaming (>= 0)."""
    n_seeds: int = 20
    """Independent cohorts (hiring rounds); the same cohorts meet every oversight level and intervention."""
    seed: int = 0
    """Root random seed."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        self.market.validate()
        check_positive(evaluation_periods=self.evaluation_periods, n_seeds=self.n_seeds,
                       intervention_evaluation_periods=self.intervention_evaluation_periods)
        bits = self.selection_pressures
        if not bits or any(not is_finite_number(b) or b < 0 for b in bits) or list(bits) != sorted(set(bits)):
            raise MesaoptError(f"selection_pressures must be strictly increasing numbers of bits >= 0, got {bits}")
        if 2 ** -max(bits) * self.market.cohort_size < 0.5:
            raise MesaoptError(f"selection_pressures must leave at least one hire: at most "
                               f"{math.log2(self.market.cohort_size):.2f} bits for a cohort of "
                               f"{self.market.cohort_size}, got {max(bits)}")
        levels = self.oversight_levels
        if (not levels or any(not is_finite_number(o) or not 0 <= o <= 1 for o in levels)
                or list(levels) != sorted(set(levels))):
            raise MesaoptError(f"oversight_levels must be strictly increasing values in [0, 1], got {levels}")
        for name in ("audit_rate", "intervention_audit_rate"):
            if not is_finite_number(getattr(self, name)) or not 0 <= getattr(self, name) <= 1:
                raise MesaoptError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if not is_finite_number(self.stake) or self.stake <= 0:
            raise MesaoptError(f"stake must be a finite number > 0, got {self.stake!r}")
        if not is_finite_number(self.intervention_gaming_yield) or self.intervention_gaming_yield < 0:
            raise MesaoptError(f"intervention_gaming_yield must be a finite number >= 0, "
                               f"got {self.intervention_gaming_yield!r}")
        unknown = [i for i in self.interventions if i not in INTERVENTIONS]
        if unknown or len(set(self.interventions)) != len(self.interventions):
            raise MesaoptError(f"interventions must be distinct names from {', '.join(INTERVENTIONS)}, "
                               f"got {tuple(self.interventions)}")

    def conditions(self) -> dict[str, PrincipalAgentConfig]:
        """``{"baseline": self, intervention: the config with that one change}``."""
        changes = {"randomized_audits": {"audit_rate": self.intervention_audit_rate},
                   "longer_evaluation": {"evaluation_periods": self.intervention_evaluation_periods},
                   "metric_closer_to_value": {"market": dataclasses.replace(
                       self.market, gaming_yield=self.intervention_gaming_yield)}}
        out = {"baseline": self}
        out.update({name: dataclasses.replace(self, **changes[name]) for name in self.interventions})
        return out
