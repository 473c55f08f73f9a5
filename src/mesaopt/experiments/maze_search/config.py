"""Config of ``maze-search``: what is trained (two thinking networks on small mazes) and how it is tested (larger
mazes, more iterations)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.icl import check_positive
from mesaopt.optimizers.supervised import SupervisedConfig
from mesaopt.tasks.maze_paths import MazePathTask

MODEL_KINDS = ("recurrent", "feedforward")
"""The model classes, in report order: the weight-tied thinker and its untied fixed-depth control."""


@dataclass(frozen=True)
class MazeSearchConfig:
    """Config of ``maze-search``. The measurements quoted in the fields' notes before 2026-12-07 were made with the
    answer-only loss (``trace_rate`` 0, then the default)."""

    train_sides: tuple[int, ...] = (5, 7, 9)
    """Maze sides drawn in training (odd, >= 5), equally often; each maze sits at a random even offset on a canvas
    of the largest (walls around it), so no learned rule can depend on the size. The largest is the training side."""
    test_sides: tuple[int, ...] = (9, 13, 19, 25, 37)
    """Sides of the test mazes (odd, increasing, each >= the training side)."""
    test_iterations: tuple[int, ...] = (5, 10, 20, 50, 100, 200, 400)
    """Test-time iteration ladder (increasing, >= 1); it must include ``train_iterations``."""
    train_iterations: int = 50
    """Most iterations in training; also the feed-forward control's depth. (Two seeds each, 4000 steps, sides 5-9,
    2026-12-05: at 30 / 50 / 80 the best accuracy at side 37 was 0.08-0.53 over 4 seeds / 0.44, 0.50 / 0.00, 0.38.
    Eight seeds, 2026-12-06: at 30 side 37 0.27 and side 19 0.85, against 0.29 and 0.86 at 50; docs/maze-search.md.)"""
    gradient_window: int = 10
    """Progressive loss: iterations with a gradient, after a random 0 .. train_iterations - gradient_window
    iterations without one (Bansal et al. 2022); the loss is read at the end. Equal to train_iterations: plain
    loss after train_iterations. (Four seeds each, 2026-12-06: windows 5 / 10 / 20 gave side 37 0.02 / 0.37 /
    0.23; docs/maze-search.md.)"""
    min_free_iterations: int = 0
    """Progressive loss: the fewest iterations without gradient before the window, so that the loss is read no
    earlier than after ``min_free_iterations + gradient_window`` iterations (0: from the window's end on, which asks
    for right answers after 10 iterations where dead-end filling needs up to 24 rounds on side 9: an implicit time
    pressure). At most ``train_iterations - gradient_window``. (20, eight seeds, 2026-12-06: side 37 0.14 against
    0.29 for the same seeds without it, slower filling and three quarters of the long paths erased;
    docs/maze-search.md.)"""
    time_pressure: bool = False
    """The recurrent network's progressive loss averaged over every iteration of the gradient window instead of
    read at its end: it pays to be right early (RLO's time pressure). Off by default: with it (2026-12-06, 4
    seeds, docs/maze-search.md) side 37 fell from 0.37 to 0.04 and the per-cell filling slowed."""
    far_start_share: float = 0.0
    """Share of training mazes whose start and goal are the ends of the maze's longest room-to-room path (longer
    paths at the same sides; 0: uniform rooms). The test mazes keep uniform rooms. (0.5, eight seeds, 2026-12-06:
    against the same seeds without it, side 19 0.835 / 0.78, side 37 0.21 / 0.155, within the seed noise, and
    more long paths erased; docs/maze-search.md.)"""
    start_noise: float = 0.0
    """The recurrent network's progressive loss starts its free iterations from the initial state plus Gaussian
    noise of this many standard deviations of that state (0: no noise). A pressure towards path independence
    (Anil et al. 2022: equilibrium models whose fixed point does not depend on the start extrapolate better).
    (1.0, four seeds, 2026-12-06: side 19 0.75, side 37 0.03, against 0.76, 0.11 without it; docs/maze-search.md.)"""
    wrong_start_share: float = 0.0
    """Share of the recurrent network's training mazes whose free iterations begin on another maze of the batch
    (for a random number of them) and then go on with their own: the network must abandon a search under way.
    Aimed at the cut test's finding that a settled path can ignore its input. 0: off. (0.5, eight seeds,
    2026-12-06: side 37 0.06 against 0.29 for the same seeds without it, lower for all eight; docs/maze-search.md.)"""
    path_weight: float = 1.0
    """Weight of the path's cells in the per-cell cross-entropy (both models; the other cells weigh 1). Above 1, a
    missing path cell costs more than an extra one: aimed at one of the 4× mazes' failures, a whole path erased.
    (3, eight seeds, 2026-12-06: side 19 0.89 and side 37 0.25 against 0.86 and 0.29 for the same seeds without
    it; docs/maze-search.md.)"""
    trace_rate: float = 1.0
    """Process supervision of the recurrent network: its loss after t iterations asks for the open cells dead-end
    filling has not filled by round floor(trace_rate × t) (the path plus the dead ends not reached yet) instead of
    the path alone, so the base objective names the search's trace, not only its answer (the planted dead-end
    filler runs at rate 1). 0: the answer only, as in Bansal et al. (the default before 2026-12-07). Eight seeds,
    2026-12-07, against the same seeds at 0: side 19 0.94 against 0.86, side 37 0.72 [0.51, 0.93] against 0.29,
    higher for all eight (docs/maze-search.md)."""
    width: int = 16
    """Channels of the thinking state (both models)."""
    residual_layers: int = 1
    """Residual layers ``relu(conv(.)) + .`` in each block after the recall convolution (both models): convolutions
    per iteration = 1 + this. Bansal et al.'s DT-recall block has four (two residual blocks of two); more layers
    give one iteration a wider reach and more capacity, at proportionally more compute. (Eight seeds, 2026-12-06:
    at 1 / 2 / 4 side 19 0.86 / 0.92 / 0.91 and side 37 0.29 / 0.26 / 0.34, the last at 2.1× the training time;
    root seed 0's four alone gave 0.52 at side 37 with 4, root seed 1's 0.16. Twelve seeds at 4: side 19 +0.025
    [−0.03, 0.08], side 37 −0.02 [−0.15, 0.11] against the same seeds at 1; docs/maze-search.md.)"""
    goal_region: int | None = None
    """None: goals anywhere; r: goals in the top-right r × r block of rooms, in training and test."""
    train: SupervisedConfig = field(default_factory=lambda: SupervisedConfig(
        learning_rate=3e-3, steps=4000, batch_size=30, warmup_steps=50, weight_decay=0.3))
    """Supervised training (AdamW via optax); the batch is split equally over ``train_sides``. Weight decay 0.3
    (a compression pressure): in 2-seed runs at side 37 (2026-12-05, docs/maze-search.md) the best accuracy per
    seed was 0.01, 0.05 without it, 0.25, 0.00 and 0.05, 0.09 at 0.1, 0.01, 0.43 and 0.15, 0.40 at 0.3, and
    0.05, 0.00 at 1.0 (which also lost side 19)."""
    feedforward_steps: int | None = 1300
    """Training steps of the feed-forward control (None: ``train.steps``). Each of its steps differentiates all
    ``train_iterations`` blocks, about 3 recurrent steps of compute (10 differentiated and on average 20 free
    iterations), so 1300 gives both classes about the same training compute. A depth-30 control trained for the
    full 4000 steps (2026-12-05) reached 0.955 at side 9 and 0.49 / 0.02 / 0 / 0 at sides 13 / 19 / 25 / 37: the
    extra steps did not buy extrapolation (docs/maze-search.md)."""
    n_seeds: int = 4
    """Independently trained networks per model class (4: two per core on a 2-core CPU; 3 would pad to 4)."""
    eval_mazes: int = 100
    """Test mazes per side."""
    probe_mazes: int = 32
    """Mazes for the solve-iteration fit, the probes, retargeting and ablation."""
    evidence_side: int | None = None
    """Side of the mazes the search detectors use (None: the smallest test side >= 2 × the training side, else the
    largest): large enough that mazes differ in difficulty, small enough that most are solved."""
    seed: int = 0
    """Root random seed."""
    n_chunks: int = 20
    """Training is streamed in this many chunks per model class (progress, resume)."""
    full: bool = False
    """The full study: ``n_seeds`` becomes 8 per model class (about twice the default's time on 2 CPU cores). At
    side 37 one network in four to eight learns no rule that extrapolates, and 4-seed means moved by 0.2 between
    root seeds (docs/maze-search.md), so a claim about the 4× side needs the eight."""

    def resolved(self) -> MazeSearchConfig:
        """The config a run uses: ``full`` applied."""
        return dataclasses.replace(self, n_seeds=max(self.n_seeds, 8), full=False) if self.full else self

    @property
    def detector_side(self) -> int:
        """The side the search detectors use (see ``evidence_side``)."""
        if self.evidence_side is not None:
            return self.evidence_side
        return next((s for s in self.test_sides if s >= 2 * self.train_side), self.test_sides[-1])

    @property
    def train_side(self) -> int:
        """The largest training side."""
        return max(self.train_sides)

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        for side in (*self.train_sides, *self.test_sides):
            MazePathTask(side).validate()
        if not self.train_sides or not self.test_sides:
            raise MesaoptError("train_sides and test_sides must each name at least one odd side >= 5")
        _check_increasing("test_sides", self.test_sides)
        if self.test_sides[0] < self.train_side:
            raise MesaoptError(f"test sides must be >= the training side {self.train_side}, got {self.test_sides[0]}")
        self.train.validate()
        if self.train.batch_size % (self.train.microbatches * len(self.train_sides)):
            raise MesaoptError(f"train.batch_size ({self.train.batch_size}) must be divisible by train.microbatches "
                               f"x the number of train_sides ({self.train.microbatches} x {len(self.train_sides)})")
        check_positive(train_iterations=self.train_iterations, gradient_window=self.gradient_window,
                       width=self.width, residual_layers=self.residual_layers,
                       n_seeds=self.n_seeds, eval_mazes=self.eval_mazes, n_chunks=self.n_chunks)
        _check_increasing("test_iterations", self.test_iterations)
        if not self.test_iterations or self.test_iterations[0] < 1:
            raise MesaoptError(f"test_iterations must be >= 1, got {self.test_iterations[0]}")
        if self.train_iterations not in self.test_iterations:
            raise MesaoptError(f"test_iterations {self.test_iterations} must include train_iterations "
                               f"({self.train_iterations}): the thinking gain is measured from it")
        if self.gradient_window > self.train_iterations:
            raise MesaoptError(f"gradient_window must be between 1 and train_iterations ({self.train_iterations}), "
                               f"got {self.gradient_window}")
        if not 0 <= self.min_free_iterations <= self.train_iterations - self.gradient_window:
            raise MesaoptError(f"min_free_iterations must be between 0 and train_iterations - gradient_window "
                               f"({self.train_iterations - self.gradient_window}), got {self.min_free_iterations}")
        MazePathTask(self.train_side, far_start_share=self.far_start_share).validate()
        if not 0.0 <= self.wrong_start_share <= 1.0:
            raise MesaoptError(f"wrong_start_share must be between 0 and 1, got {self.wrong_start_share}")
        if not 0.0 <= self.start_noise < float("inf"):
            raise MesaoptError(f"start_noise must be a finite number >= 0, got {self.start_noise}")
        if not 0.0 <= self.trace_rate < float("inf"):
            raise MesaoptError(f"trace_rate must be a finite number >= 0 (0: off), got {self.trace_rate}")
        if not 0.0 < self.path_weight < float("inf"):
            raise MesaoptError(f"path_weight must be a finite number > 0, got {self.path_weight}")
        if self.probe_mazes < 4:
            raise MesaoptError(f"probe_mazes must be >= 4 (probes fit on half and test on half), "
                               f"got {self.probe_mazes}")
        if self.evidence_side is not None:
            MazePathTask(self.evidence_side).validate()
        if self.goal_region is not None:
            MazePathTask(min(self.train_sides), self.goal_region).validate()
        if self.feedforward_steps is not None and self.feedforward_steps < 1:
            raise MesaoptError(f"feedforward_steps must be none or >= 1, got {self.feedforward_steps}")


def _check_increasing(name: str, values: tuple[int, ...]) -> None:
    if list(values) != sorted(set(values)):
        raise MesaoptError(f"{name} must be strictly increasing, got {tuple(values)}")
