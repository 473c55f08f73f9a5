"""Config of ``nested``: three optimizers in a chain (evolution → a lifetime learner → a depth-k planner), the
foraging world they live in, and the pressure ladder of each level."""

from __future__ import annotations

from dataclasses import dataclass, field

from mesaopt.envs.foraging import ForagingTask, check_correlation
from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.icl import check_positive
from mesaopt.models.reward_learner import ValueLearner
from mesaopt.optimizers.evolution import EvolutionConfig
from mesaopt.optimizers.nesting import Level, check_chain

LEVELS = (
    Level("evolution", optimizer="CMA-ES over reward weights", objective="fitness (nutrition eaten)",
          pressure="generations", consumes="fitness", produces="reward"),
    Level("learner", optimizer="tabular value learning", objective="the evolved reward",
          pressure="lifetime meals", consumes="reward", produces="values"),
    Level("planner", optimizer="depth-k tree search", objective="the learned values", pressure="depth",
          consumes="values", produces="path"),
)
"""The chain, top first: each level optimizes what the level above produced."""

MAX_PLANNER_DEPTH = 12
"""Deepest look-ahead (2^12 paths per step)."""


@dataclass(frozen=True)
class NestedConfig:
    """Config of ``nested`` (evolution → learner → planner)."""

    task: ForagingTask = field(default_factory=lambda: ForagingTask(n_types=16, lifetime=100))
    """Kinds of food per world and meals of the learning phase (the learner's default pressure)."""
    learner: ValueLearner = field(default_factory=ValueLearner)
    """The lifetime learner (evolution sets its reward weights)."""
    delay: int = 1
    """Steps between a meal and feeling its nutrition (0: at once; 0 to ``learner.max_delay``)."""
    train_correlation: float = 0.9
    """Cue-value correlation of the ancestral world (in [-1, 1])."""
    shifted_correlation: float = -0.9
    """Cue-value correlation of the junk-food world (in [-1, 1])."""
    trips: int = 4
    """Foraging trips after the learning phase, each down a fresh food tree (>= 1)."""
    trip_steps: int = 8
    """Steps (meals) per trip (>= 1)."""
    planner_depth: int = 2
    """The planner's look-ahead while evolution selects (the planner's default pressure; 0 to 12)."""
    evolution: EvolutionConfig = field(default_factory=lambda: EvolutionConfig(
        strategy="cma_es", population_size=16, generations=30, mutation_scale=1.0, common_random_numbers=True))
    """The top optimizer: a genome is the two reward weights (sweetness, nutrition)."""
    generation_levels: tuple[int, ...] = (0, 1, 3, 10, 30)
    """Generations at which evolution's product is measured (increasing, 0 to ``evolution.generations``; 0 is the
    starting genome, a reward of 0)."""
    lifetime_levels: tuple[int, ...] = (5, 10, 25, 50, 100, 200)
    """Learning-phase meals swept for the learner (increasing, >= 1)."""
    depth_levels: tuple[int, ...] = (0, 1, 2, 3, 4, 6)
    """Planner depths swept (increasing, 0 to 12; 0 walks at random, 1 is greedy)."""
    lifetimes_per_evaluation: int = 8
    """Lifetimes averaged into one genome's fitness."""
    eval_lifetimes: int = 128
    """Lifetimes per measurement of every evolved genome."""
    n_seeds: int = 5
    """Independent evolutionary runs."""
    seed: int = 0
    """Root random seed."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        check_chain(LEVELS)
        self.task.validate()
        self.learner.validate()
        self.evolution.validate()
        check_positive(trips=self.trips, trip_steps=self.trip_steps, eval_lifetimes=self.eval_lifetimes,
                       lifetimes_per_evaluation=self.lifetimes_per_evaluation, n_seeds=self.n_seeds)
        if self.delay != int(self.delay) or not 0 <= self.delay <= self.learner.max_delay:
            raise MesaoptError(f"delay must be a whole number from 0 to learner.max_delay "
                               f"({self.learner.max_delay}), got {self.delay!r}")
        check_correlation("train_correlation", self.train_correlation)
        check_correlation("shifted_correlation", self.shifted_correlation)
        _check_ladder("generation_levels", self.generation_levels, 0, self.evolution.generations)
        _check_ladder("lifetime_levels", self.lifetime_levels, 1, None)
        _check_ladder("depth_levels", self.depth_levels, 0, MAX_PLANNER_DEPTH)
        _check_ladder("planner_depth", (self.planner_depth,), 0, MAX_PLANNER_DEPTH)


def _check_ladder(name: str, values, low: int, high: int | None) -> None:
    allowed = f"whole numbers from {low}" + (f" to {high}" if high is not None else " up")
    if not values or any(v != int(v) or v < low or (high is not None and v > high) for v in values):
        raise MesaoptError(f"{name} must be {allowed}, got {tuple(values)}")
    if list(values) != sorted(set(values)):
        raise MesaoptError(f"{name} must be strictly increasing, got {tuple(values)}")
