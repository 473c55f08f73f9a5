"""Config of ``conditions-diversity``: RLO's task-diversity condition — recurrent thinkers trained on pools of N
distinct mazes, N on a log ladder up to a fresh maze per example."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.thinker_conditions import FRESH, ThinkerSetup
from mesaopt.tasks.maze_paths import distinct_problems


@dataclass(frozen=True)
class ConditionsDiversityConfig:
    """Config of ``conditions-diversity``."""

    pool_sizes: tuple[int, ...] = (1, 4, 16, 64, 256, 1024)
    """Distinct training mazes N per network (strictly increasing, >= 1, at most the side's distinct problems)."""
    fresh: bool = True
    """Also train with a fresh maze per example (the last level, N = infinity)."""
    n_seeds: int = 3
    """Networks per level (>= 2, for intervals); each seed has its own pools."""
    setup: ThinkerSetup = field(default_factory=ThinkerSetup)
    """Maze sizes, network, training and tests (shared with the other conditions factors)."""
    seed: int = 0
    """Root random seed."""
    full: bool = False
    """The full study, for a GPU or a Ray sweep: replaces ``pool_sizes`` with every power of 2 from 1 to 4096 (and
    fresh) and ``n_seeds`` with 6: 84 networks, 1,501 s on 2 CPU cores (measured 2026-12-06)."""

    def resolved(self) -> ConditionsDiversityConfig:
        """The config a run uses: ``full`` applied."""
        if not self.full:
            return self
        return dataclasses.replace(self, pool_sizes=tuple(2**i for i in range(13)), fresh=True, n_seeds=6,
                                   full=False)

    @property
    def levels(self) -> list:
        """The swept levels: the pool sizes, then ``"fresh"``."""
        return [*self.pool_sizes, *(["fresh"] if self.fresh else [])]

    @property
    def effective_n(self) -> list[int]:
        """Distinct mazes per level for plots and the toy model: a fresh level counts the examples it saw."""
        return [*self.pool_sizes, *([self.setup.steps * self.setup.batch_size] if self.fresh else [])]

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        self.setup.validate()
        sizes = list(self.pool_sizes)
        if not sizes or sizes != sorted(set(sizes)) or any(not isinstance(n, int) or n < 1 for n in sizes):
            raise MesaoptError(f"pool_sizes must be a non-empty, strictly increasing list of whole numbers >= 1, "
                               f"got {tuple(sizes)}")
        most = min(distinct_problems(self.setup.side), FRESH - 1)
        if sizes[-1] > most:
            raise MesaoptError(f"pool_sizes may not exceed the {most:,.0f} distinct mazes (layout, start, goal) of "
                               f"side {self.setup.side}, got {sizes[-1]:,}")
        if not isinstance(self.n_seeds, int) or self.n_seeds < 2:
            raise MesaoptError(f"n_seeds must be a whole number >= 2 (intervals), got {self.n_seeds!r}")
