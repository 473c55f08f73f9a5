"""Config of ``maze-search-misgen``: recurrent maze solvers trained where the goal marker and a proxy (the maze's
top-right block of rooms) coincide, tested where they do not."""

from __future__ import annotations

from dataclasses import dataclass, field

from mesaopt.envs.maze_generation import rooms_per_side
from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.icl import check_positive
from mesaopt.optimizers.supervised import SupervisedConfig
from mesaopt.tasks.maze_paths import MazePathTask


@dataclass(frozen=True)
class MazeSearchMisgenConfig:
    """Config of ``maze-search-misgen``."""

    goal_regions: tuple[int, ...] = (1, 2, 3)
    """The conditions (strictly increasing): in training every goal lies in the maze's top-right r × r block of
    rooms (1 = the corner room). The block is the proxy; on the shifted test goal and start are rooms outside it.
    Each r must be smaller than the smallest training side's rooms per side, so that in every training maze the
    block is a proper part of the maze (the marker and the block coincide)."""
    train_sides: tuple[int, ...] = (7, 9)
    """Maze sides drawn in training (odd, >= 5), each maze at a random even offset on a canvas of the largest, as in
    ``maze-search`` (without side 5: its 3 rooms per side would leave no room outside a 3 × 3 block). The largest
    is the test side."""
    train_iterations: int = 30
    """Most iterations in training (progressive loss); the rates are read after this many."""
    gradient_window: int = 10
    """Progressive loss: iterations with a gradient, after a random number without (see ``maze-search``)."""
    width: int = 16
    """Channels of the thinking state."""
    train: SupervisedConfig = field(default_factory=lambda: SupervisedConfig(
        learning_rate=3e-3, steps=3000, batch_size=30, warmup_steps=50))
    """Supervised training (Adam via optax); the batch is split equally over ``train_sides``."""
    n_seeds: int = 3
    """Independently trained networks per condition (all conditions train in one compiled program)."""
    eval_mazes: int = 200
    """Test mazes per network and distribution (in distribution, shifted)."""
    test_iterations: tuple[int, ...] = (30, 100)
    """``mesaopt inspect``: the thinking gain is accuracy after the last minus after ``train_iterations`` (which
    must be included), on in-distribution mazes of ``evidence_side``."""
    evidence_side: int = 19
    """``mesaopt inspect``: side of the mazes the search detectors use (odd, >= the training side)."""
    probe_mazes: int = 32
    """``mesaopt inspect``: mazes per network for the solve-iteration fit, the probes and retargeting."""
    seed: int = 0
    """Root random seed."""
    n_chunks: int = 10
    """Training is streamed in this many chunks (progress, resume)."""

    @property
    def test_side(self) -> int:
        """The largest training side: where the in-distribution and shifted rates are measured."""
        return max(self.train_sides)

    @property
    def n_runs(self) -> int:
        """Networks trained: conditions × seeds (condition-major)."""
        return len(self.goal_regions) * self.n_seeds

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        if not self.goal_regions or not self.train_sides:
            raise MesaoptError("goal_regions and train_sides must each name at least one value")
        for side in (*self.train_sides, self.evidence_side):
            MazePathTask(side).validate()
        smallest = rooms_per_side(min(self.train_sides))
        for region in self.goal_regions:
            if not 1 <= region < smallest:
                raise MesaoptError(f"goal_regions must each be between 1 and {smallest - 1} (below the rooms per "
                                   f"side of the smallest training side {min(self.train_sides)}), got {region}")
        if list(self.goal_regions) != sorted(set(self.goal_regions)):
            raise MesaoptError(f"goal_regions must be strictly increasing, got {tuple(self.goal_regions)}")
        if self.evidence_side < self.test_side:
            raise MesaoptError(f"evidence_side must be >= the training side {self.test_side}, got {self.evidence_side}")
        check_positive(train_iterations=self.train_iterations, gradient_window=self.gradient_window, width=self.width,
                       n_seeds=self.n_seeds, eval_mazes=self.eval_mazes, n_chunks=self.n_chunks)
        if self.gradient_window > self.train_iterations:
            raise MesaoptError(f"gradient_window must be between 1 and train_iterations ({self.train_iterations}), "
                               f"got {self.gradient_window}")
        if (not self.test_iterations or list(self.test_iterations) != sorted(set(self.test_iterations))
                or self.test_iterations[0] < 1):
            raise MesaoptError(f"test_iterations must be strictly increasing and >= 1, got {self.test_iterations}")
        if self.train_iterations not in self.test_iterations:
            raise MesaoptError(f"test_iterations {self.test_iterations} must include train_iterations "
                               f"({self.train_iterations})")
        self.train.validate()
        if self.train.batch_size % (self.train.microbatches * len(self.train_sides)):
            raise MesaoptError(f"train.batch_size ({self.train.batch_size}) must be divisible by train.microbatches "
                               f"x the number of train_sides ({self.train.microbatches} x {len(self.train_sides)})")
        if self.probe_mazes < 4:
            raise MesaoptError(f"probe_mazes must be >= 4 (probes fit on half and test on half), "
                               f"got {self.probe_mazes}")
