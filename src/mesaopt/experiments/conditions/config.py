"""Config of ``conditions``: the one page that runs (or reuses) every ``conditions-*`` factor and sets RLO's
predicted direction beside the measured one."""

from __future__ import annotations

from dataclasses import dataclass

from mesaopt.errors import MesaoptError

FACTORS = ("diversity", "statefulness", "compression", "hardcoded", "imitation")
"""The factors, in RLO §2's order; factor ``f`` is the preset ``conditions-f``."""
SCALES = ("smoke", "default", "full")
"""Which config each factor runs with: its smoke config (seconds; for trying the page), its default, or its
``--full`` study."""


@dataclass(frozen=True)
class ConditionsConfig:
    """Config of ``conditions``."""

    factors: tuple[str, ...] = FACTORS
    """Factors on the page (distinct names from diversity, statefulness, compression, hardcoded, imitation)."""
    scale: str = "default"
    """Each factor's config: ``smoke``, ``default`` (about 25 minutes for all five on 2 cores the first time: 1,310
    s for four of them, 2026-12-06) or ``full``. A factor run already stored with that config is reused."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the allowed values."""
        names = list(self.factors)
        if not names or len(set(names)) != len(names) or any(f not in FACTORS for f in names):
            raise MesaoptError(f"factors must be distinct names from {', '.join(FACTORS)}, got {tuple(names)}")
        if self.scale not in SCALES:
            raise MesaoptError(f"scale must be one of {', '.join(SCALES)}, got {self.scale!r}")
