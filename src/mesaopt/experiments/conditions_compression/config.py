"""Config of ``conditions-compression``: RLO's compression-versus-time condition with program search as the base
optimizer (training mazes K, step price lam, seeds)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mesaopt.envs.maze_generation import rooms_per_side
from mesaopt.errors import MesaoptError, is_finite_number
from mesaopt.experiments.shared.thinker_conditions import ThinkerSetup
from mesaopt.models.maze_programs import parse_program

MAX_K = 8
"""Most training mazes per search (the route enumeration codes joint positions in 64 bits)."""


@dataclass(frozen=True)
class ConditionsCompressionConfig:
    """Config of ``conditions-compression``: a gradient-descent arm (thinkers under description-length or time
    pressure) and a program-search arm."""

    weight_decays: tuple[float, ...] = (0.0, 0.3, 1.0)
    """Gradient arm: AdamW weight decays, one level each (description-length pressure; increasing, >= 0; empty: no
    weight-decay levels)."""
    time_pressure: bool = True
    """Gradient arm: add a level trained with the every-iteration loss (rewards being right early) and no weight
    decay."""
    gd_seeds: int = 3
    """Gradient arm: networks per level (>= 2, for intervals)."""
    setup: ThinkerSetup = field(default_factory=ThinkerSetup)
    """Gradient arm: maze sizes, network, training and tests (shared with the other conditions factors; a fresh
    maze per example)."""

    side: int = 7
    """Maze side in cells (odd, 5 to 13): start in the bottom-left room, training goal in the top-right room."""
    ks: tuple[int, ...] = (1, 2, 4, 8)
    """Numbers of training mazes K (strictly increasing, 1 to 8); a seed's K mazes are the first K of its 8."""
    lambdas: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0)
    """Step prices lam in bits per run-time step (strictly increasing, >= 0): cost = bits + lam × steps."""
    n_seeds: int = 20
    """Program arm: independent searches (fresh training and test mazes) per (K, lam) (>= 2, for intervals)."""
    move_cap: int | None = None
    """Instructions a program may execute per maze (>= 1); None: the maze's open cells (2 rooms^2 - 1), enough
    for any path but not for every wall-following tour."""
    route_state_budget: int = 4_000_000
    """Joint positions the route enumeration may visit per search before it falls back (>= 1)."""
    n_test: int = 500
    """Fresh mazes per seed for each test: the training corners, and the goal moved off the top-right corner."""
    extra_programs: tuple[str, ...] = ()
    """Programs (source text, e.g. ``route(NNEE)``) added to every search's candidates."""
    seed: int = 0
    """Root random seed."""
    full: bool = False
    """The full study, for a GPU or a Ray sweep: ``ks`` 1 to 8, ``lambdas`` 0, 0.5, 1, 2, 4, 8, 16, 32, ``n_seeds``
    50, ``weight_decays`` 0, 0.1, 0.3, 1, 3 and ``gd_seeds`` 6: 36 networks and 3,200 searches, about 30 minutes of
    2-core CPU at the default's measured 37 s per network and 3 s per seed of searches (an estimate, not run)."""

    def resolved(self) -> ConditionsCompressionConfig:
        """The config a run uses: ``full`` applied."""
        if not self.full:
            return self
        return dataclasses.replace(self, ks=tuple(range(1, 9)), lambdas=(0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0),
                                   n_seeds=50, weight_decays=(0.0, 0.1, 0.3, 1.0, 3.0), gd_seeds=6, full=False)

    @property
    def gd_levels(self) -> list[str]:
        """Labels of the gradient arm's levels."""
        return [f"weight decay {wd:g}" for wd in self.weight_decays] + (["time"] if self.time_pressure else [])

    @property
    def cap(self) -> int:
        """The move cap in force."""
        return self.move_cap if self.move_cap is not None else 2 * rooms_per_side(self.side) ** 2 - 1

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        if not isinstance(self.side, int) or self.side < 5 or self.side > 13 or self.side % 2 == 0:
            raise MesaoptError(f"side must be an odd whole number from 5 to 13, got {self.side!r}")
        _ladder("ks", self.ks, whole=True)
        if any(k < 1 or k > MAX_K for k in self.ks):
            raise MesaoptError(f"ks must lie between 1 and {MAX_K} training mazes, got {tuple(self.ks)}")
        _ladder("lambdas", self.lambdas, whole=False)
        if any(lam < 0 for lam in self.lambdas):
            raise MesaoptError(f"lambdas must be >= 0 (a price per run-time step), got {tuple(self.lambdas)}")
        if self.weight_decays:
            _ladder("weight_decays", self.weight_decays, whole=False)
            if self.weight_decays[0] < 0:
                raise MesaoptError(f"weight_decays must be >= 0, got {tuple(self.weight_decays)}")
        if self.gd_levels:
            self.setup.validate()
        for name, low in (("n_seeds", 2), ("gd_seeds", 2), ("route_state_budget", 1), ("n_test", 1)):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise MesaoptError(f"{name} must be a whole number >= {low}, got {value!r}")
        if self.move_cap is not None and (not isinstance(self.move_cap, int) or self.move_cap < 1):
            raise MesaoptError(f"move_cap must be none or a whole number >= 1, got {self.move_cap!r}")
        for text in self.extra_programs:
            parse_program(text)


def _ladder(name: str, values, whole: bool) -> None:
    values = list(values)
    ok = bool(values) and all(is_finite_number(v) and (not whole or v == int(v)) for v in values)
    if not ok or values != sorted(set(values)):
        kind = "whole numbers" if whole else "finite numbers"
        raise MesaoptError(f"{name} must be a non-empty, strictly increasing list of {kind}, got {tuple(values)}")
