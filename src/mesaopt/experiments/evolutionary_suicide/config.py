"""Config of ``evolutionary-suicide``: the population model's parameters, the fecundity ladder and the treatments
(who pays the ornament's cost)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mesaopt.errors import MesaoptError, is_finite_number
from mesaopt.experiments.shared.icl import check_positive
from mesaopt.optimizers.sexual_selection import PopulationParams

TREATMENTS = ("cost_to_others", "cost_to_bearer_only", "no_harm", "no_mutation")
"""Who pays: ``cost_to_others`` (the harm h lowers every female's fecundity), ``cost_to_bearer_only`` (the same h
lowers the bearer's own survival instead), ``no_harm`` (h = 0: the ornament's only cost is the bearer's viability
cost c), ``no_mutation`` (cost to others, but no new variation: the ornament cannot evolve)."""


@dataclass(frozen=True)
class EvolutionarySuicideConfig:
    """Config of ``evolutionary-suicide`` (the defaults put the predicted threshold 2 exp(h beta / 2c) = 40 inside
    the fecundity ladder)."""

    fecundities: tuple[float, ...] = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0)
    """Offspring per female before harm and density regulation (increasing, > 0)."""
    treatments: tuple[str, ...] = TREATMENTS
    """Which of ``cost_to_others``, ``cost_to_bearer_only``, ``no_harm``, ``no_mutation`` to run (any order, no
    repeats)."""
    populations: int = 50
    """Independent populations per (treatment, fecundity) cell."""
    generations: int = 400
    """Generations simulated per population."""
    carrying_capacity: float = 200.0
    """K of the Beverton-Holt recruitment (> 0): at most about K adults per generation."""
    capacity: int = 512
    """Slots per population (>= 2 K: recruits beyond it are dropped, which K keeps rare)."""
    founders: int = 100
    """Adults at generation 0 (trait 0: no ornament), between 2 and ``capacity``."""
    preference: float = 0.5
    """beta: a male's mating weight is exp(beta o) (>= 0)."""
    viability_cost: float = 0.05
    """c: a male's survival is exp(-c o^2) (> 0)."""
    harm: float = 0.6
    """h: the ornament's cost to others (every female's fecundity × exp(-h ō)) or, in ``cost_to_bearer_only``, to
    the bearer (survival × exp(-h o)); >= 0."""
    mutation_sd: float = 0.3
    """Standard deviation of the mutation each recruit's mid-parent trait gets (>= 0; 0 in ``no_mutation``)."""
    seed: int = 0
    """Root random seed."""
    n_chunks: int = 8
    """Generations are simulated in this many chunks (progress, resume)."""

    @property
    def threshold_fecundity(self) -> float:
        """The fecundity below which sexual selection with the cost on others should drive populations extinct:
        ``2 exp(h o*)``, ``o* = beta / 2c`` (the deterministic growth rate at low density is (b / 2) exp(-h o*))."""
        return 2.0 * math.exp(self.harm * self.preference / (2.0 * self.viability_cost))

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        if not self.fecundities or any(not is_finite_number(b) or b <= 0 for b in self.fecundities):
            raise MesaoptError(f"fecundities must be finite numbers > 0, got {tuple(self.fecundities)}")
        if list(self.fecundities) != sorted(set(self.fecundities)):
            raise MesaoptError(f"fecundities must be strictly increasing, got {tuple(self.fecundities)}")
        unknown = [t for t in self.treatments if t not in TREATMENTS]
        if not self.treatments or unknown or len(set(self.treatments)) != len(self.treatments):
            raise MesaoptError(f"treatments must be distinct names from {', '.join(TREATMENTS)}, "
                               f"got {tuple(self.treatments)}")
        check_positive(populations=self.populations, generations=self.generations, n_chunks=self.n_chunks)
        for name in ("carrying_capacity", "viability_cost"):
            if not is_finite_number(getattr(self, name)) or getattr(self, name) <= 0:
                raise MesaoptError(f"{name} must be a finite number > 0, got {getattr(self, name)!r}")
        for name in ("preference", "harm", "mutation_sd"):
            if not is_finite_number(getattr(self, name)) or getattr(self, name) < 0:
                raise MesaoptError(f"{name} must be a finite number >= 0, got {getattr(self, name)!r}")
        if self.capacity < 2 * self.carrying_capacity:
            raise MesaoptError(f"capacity must be >= 2 x carrying_capacity ({2 * self.carrying_capacity:g}), "
                               f"got {self.capacity}")
        if not 2 <= self.founders <= self.capacity:
            raise MesaoptError(f"founders must be between 2 and capacity ({self.capacity}), got {self.founders}")

    def cells(self) -> list[tuple[str, float]]:
        """(treatment, fecundity) of every cell, treatment-major."""
        return [(t, b) for t in self.treatments for b in self.fecundities]

    def population_params(self) -> PopulationParams:
        """One row per population: every cell's parameters, each repeated ``populations`` times."""
        rows = np.array([self._cell_row(t, b) for t, b in self.cells()], np.float32)
        rows = np.repeat(rows, self.populations, axis=0)
        return PopulationParams(*(rows[:, i] for i in range(rows.shape[1])))

    def _cell_row(self, treatment: str, fecundity: float) -> tuple[float, ...]:
        to_others = self.harm if treatment in ("cost_to_others", "no_mutation") else 0.0
        to_bearer = self.harm if treatment == "cost_to_bearer_only" else 0.0
        mutation = 0.0 if treatment == "no_mutation" else self.mutation_sd
        return (fecundity, self.carrying_capacity, self.preference, self.viability_cost, to_others, to_bearer,
                mutation)
