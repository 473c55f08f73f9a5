"""Config of ``evolved-reward``: the foraging world, the lifetime learner, evolution, and the knob swept."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from mesaopt.envs.foraging import ForagingTask, check_correlation
from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.evolution import validate_knob_run
from mesaopt.models.reward_learner import ValueLearner
from mesaopt.optimizers.evolution import EvolutionConfig

KNOBS = ("delay", "correlation", "credit")
"""What ``levels`` sweeps: the nutrition delay D (the learner's boundedness: steps between a meal and feeling its
nutrition), the cue-value correlation of the ancestral world, or the learner's credit assignment (the decay of its
eligibility traces over its last ``learner.max_delay`` meals: 0 = myopic, 1 = all of them alike)."""


class LifeConditions(NamedTuple):
    """What differs between runs (one value per run, or scalars for one level)."""

    delay: object
    """Nutrition delay D (whole number)."""
    correlation: object
    """Cue-value correlation of the world."""
    credit: object
    """Eligibility-trace decay of the learner (0: myopic)."""


@dataclass(frozen=True)
class EvolvedRewardConfig:
    """Config of ``evolved-reward`` (the sweet tooth)."""

    knob: str = "delay"
    """``delay`` or ``correlation``: which setting ``levels`` sweeps."""
    levels: tuple[float, ...] = (0, 1, 2, 4)
    """Values of the knob (increasing). Delays: whole numbers from 0 to ``learner.max_delay``, the first being the
    unbounded learner (0: nutrition felt at once). Correlations: between -1 and 1."""
    delay: int = 1
    """The nutrition delay when the knob is ``correlation`` or ``credit``."""
    credit: float = 0.0
    """The learner's eligibility-trace decay when the knob is not ``credit`` (0: the myopic learner; in [0, 1])."""
    train_correlation: float = 0.9
    """Cue-value correlation of the ancestral world evolution selects in (when the knob is ``delay``)."""
    shifted_correlation: float = -0.9
    """Cue-value correlation of the junk-food world the evolved learner is then tested in."""
    task: ForagingTask = field(default_factory=ForagingTask)
    """Kinds of food and meals per lifetime."""
    learner: ValueLearner = field(default_factory=ValueLearner)
    """The lifetime learner (fixed; evolution sets its reward weights)."""
    evolution: EvolutionConfig = field(default_factory=lambda: EvolutionConfig(
        strategy="cma_es", population_size=16, generations=40, mutation_scale=1.0, common_random_numbers=True))
    """The base optimizer: a genome is the two reward weights (sweetness, nutrition)."""
    lifetimes_per_evaluation: int = 8
    """Lifetimes (fresh worlds) averaged into one genome's fitness."""
    eval_lifetimes: int = 512
    """Lifetimes for the final measurements of every evolved learner."""
    n_seeds: int = 5
    """Independent evolutionary runs per level."""
    seed: int = 0
    """Root random seed."""
    n_chunks: int = 8
    """Generations are run in this many chunks (progress, resume)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        validate_knob_run(self, KNOBS)
        delays = self.levels if self.knob == "delay" else (self.delay,)
        for d in delays:
            if d != int(d) or not 0 <= d <= self.learner.max_delay:
                raise MesaoptError(f"delays must be whole numbers from 0 to learner.max_delay "
                                   f"({self.learner.max_delay}), got {d!r}")
        for c in (self.levels if self.knob == "correlation" else (self.train_correlation,)):
            check_correlation("correlations" if self.knob == "correlation" else "train_correlation", c)
        check_correlation("shifted_correlation", self.shifted_correlation)
        for c in (self.levels if self.knob == "credit" else (self.credit,)):
            if not 0.0 <= c <= 1.0:
                raise MesaoptError(f"credit must be between 0 and 1 (an eligibility-trace decay), got {c!r}")

    @property
    def credit_window(self) -> int:
        """Past meals the learner's traces reach (static): ``learner.max_delay`` when credit is used, else 0."""
        return self.learner.max_delay if self.knob == "credit" or self.credit > 0 else 0

    def run_problems(self) -> LifeConditions:
        """The conditions of every run: levels major, ``n_seeds`` runs each."""
        levels = np.repeat(np.asarray(self.levels, np.float32), self.n_seeds)
        out = {"delay": np.full(levels.shape, self.delay, np.int32),
               "correlation": np.full(levels.shape, self.train_correlation, np.float32),
               "credit": np.full(levels.shape, self.credit, np.float32)}
        out[self.knob] = levels.astype(out[self.knob].dtype)
        return LifeConditions(**out)
