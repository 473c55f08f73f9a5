"""Config of ``conditions-hardcoded``: RLO's hard-coded-optimization condition — a network whose search is built in
(a fixed planner over a learned reward map) against the fully learned thinker, on the same data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.thinker_conditions import ThinkerSetup


def _setup() -> ThinkerSetup:
    return ThinkerSetup(test_iterations=(5, 10, 20, 40, 80, 160))


@dataclass(frozen=True)
class ConditionsHardcodedConfig:
    """Config of ``conditions-hardcoded``."""

    encoder_depth: int = 3
    """3×3 convolution layers of the hybrid's learned reward map (>= 1; no recurrence)."""
    planner_rounds: int = 40
    """Planner rounds the hybrid trains with (on the test ladder; its planner needs about twice the path length)."""
    proxy_arm: bool = True
    """Also train both models with the goal always in the top-right corner room, and test them with the goal
    moved elsewhere: does each follow the goal marker or the corner (and where does the hybrid's map point)?"""
    n_seeds: int = 3
    """Networks per model and arm (>= 2, for intervals)."""
    setup: ThinkerSetup = field(default_factory=_setup)
    """Maze sizes, network, training and tests (a fresh maze per example; the thinker trains with
    ``setup.train_iterations``)."""
    seed: int = 0
    """Root random seed."""
    full: bool = False
    """The full study, for a GPU or a Ray sweep: ``n_seeds`` 8 and 4000 steps per network: 32 networks, 726 s on 2
    CPU cores (measured 2026-12-06)."""

    def resolved(self) -> ConditionsHardcodedConfig:
        """The config a run uses: ``full`` applied."""
        if not self.full:
            return self
        return dataclasses.replace(self, n_seeds=8, setup=dataclasses.replace(self.setup, steps=4000), full=False)

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        self.setup.validate()
        if not isinstance(self.encoder_depth, int) or self.encoder_depth < 1:
            raise MesaoptError(f"encoder_depth must be a whole number >= 1, got {self.encoder_depth!r}")
        if self.planner_rounds not in self.setup.test_iterations:
            raise MesaoptError(f"planner_rounds must be a count on the test ladder "
                               f"{tuple(self.setup.test_iterations)}, got {self.planner_rounds}")
        if not isinstance(self.n_seeds, int) or self.n_seeds < 2:
            raise MesaoptError(f"n_seeds must be a whole number >= 2 (intervals), got {self.n_seeds!r}")
