"""Config of ``conditions-imitation``: RLO's modelling-other-optimizers condition — the same network trained to
mark what an optimizer (a BFS planner) walks, or what a non-optimizer (the left-hand wall follower) walks."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.thinker_conditions import TARGETS, ThinkerSetup


@dataclass(frozen=True)
class ConditionsImitationConfig:
    """Config of ``conditions-imitation``."""

    targets: tuple[str, ...] = TARGETS
    """Whom each level imitates (distinct, from ``path``: the BFS planner's shortest path, ``wall_follower``: every
    cell the left-hand wall follower visits on its way to the goal)."""
    n_seeds: int = 3
    """Networks per level (>= 2, for intervals)."""
    setup: ThinkerSetup = field(default_factory=ThinkerSetup)
    """Maze sizes, network, training and tests (a fresh maze per example; shared with the other factors)."""
    seed: int = 0
    """Root random seed."""
    full: bool = False
    """The full study, for a GPU or a Ray sweep: ``n_seeds`` 8 and 4000 steps per network: 16 networks, 564 s on 2
    CPU cores (measured 2026-12-06)."""

    def resolved(self) -> ConditionsImitationConfig:
        """The config a run uses: ``full`` applied."""
        if not self.full:
            return self
        return dataclasses.replace(self, n_seeds=8, setup=dataclasses.replace(self.setup, steps=4000), full=False)

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        self.setup.validate()
        names = list(self.targets)
        if not names or len(set(names)) != len(names) or any(t not in TARGETS for t in names):
            raise MesaoptError(f"targets must be distinct names from {', '.join(TARGETS)}, got {tuple(names)}")
        if not isinstance(self.n_seeds, int) or self.n_seeds < 2:
            raise MesaoptError(f"n_seeds must be a whole number >= 2 (intervals), got {self.n_seeds!r}")
