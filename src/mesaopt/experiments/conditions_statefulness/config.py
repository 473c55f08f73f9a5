"""Config of ``conditions-statefulness``: RLO's statefulness / algorithmic-range condition — recurrent thinkers
trained with 1 to 32 iterations, and untied (feed-forward) controls at equal depth and at about equal parameters."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.thinker_conditions import ThinkerSetup


def _setup() -> ThinkerSetup:
    return ThinkerSetup(train_iterations=16, test_iterations=(1, 2, 4, 8, 16, 32, 64, 128))


@dataclass(frozen=True)
class ConditionsStatefulnessConfig:
    """Config of ``conditions-statefulness``."""

    iterations: tuple[int, ...] = (1, 4, 8, 16, 32)
    """Training iteration counts T of the weight-tied recurrent levels (strictly increasing, each on the setup's
    test ladder)."""
    untied_depth: int = 8
    """Depth of the untied controls (on the test ladder; 0: no controls): one at the recurrent width (equal depth and
    compute per pass as recurrent T = depth), one narrower, at about the recurrent network's parameters."""
    n_seeds: int = 3
    """Networks per level (>= 2, for intervals)."""
    setup: ThinkerSetup = field(default_factory=_setup)
    """Maze sizes, network, training and tests (a fresh maze per example; ``setup.train_iterations`` is unused:
    each level has its own)."""
    seed: int = 0
    """Root random seed."""
    full: bool = False
    """The full study, for a GPU or a Ray sweep: ``iterations`` 1, 2, 4, 8, 16, 32 and ``n_seeds`` 6: 48 networks,
    542 s on 2 CPU cores (measured 2026-12-06)."""

    def resolved(self) -> ConditionsStatefulnessConfig:
        """The config a run uses: ``full`` applied."""
        if not self.full:
            return self
        return dataclasses.replace(self, iterations=(1, 2, 4, 8, 16, 32), n_seeds=6, full=False)

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        self.setup.validate()
        ladder = list(self.setup.test_iterations)
        values = list(self.iterations)
        if not values or values != sorted(set(values)) or any(t not in ladder for t in values):
            raise MesaoptError(f"iterations must be a non-empty, strictly increasing list of counts on the test "
                               f"ladder {tuple(ladder)}, got {tuple(values)}")
        if self.untied_depth and self.untied_depth not in ladder:
            raise MesaoptError(f"untied_depth must be 0 or a count on the test ladder {tuple(ladder)}, "
                               f"got {self.untied_depth}")
        if not isinstance(self.n_seeds, int) or self.n_seeds < 2:
            raise MesaoptError(f"n_seeds must be a whole number >= 2 (intervals), got {self.n_seeds!r}")
