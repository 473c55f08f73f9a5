"""Config of ``optimal-reward``: the hungry-thirsty world, the Q-learner, the reward search, the boundedness knob."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mesaopt.envs.hungry_thirsty import HungryThirstyTask
from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.evolution import validate_knob_run
from mesaopt.models.q_learner import QLearner
from mesaopt.optimizers.evolution import EvolutionConfig

KNOBS = ("lifetime", "exploration", "learning_rate")
"""The learner's boundedness ``levels`` sweeps: how long it lives, how often it acts at random, how fast it learns."""


@dataclass(frozen=True)
class OptimalRewardConfig:
    """Config of ``optimal-reward`` (Singh, Lewis & Barto's hungry-thirsty agent)."""

    knob: str = "lifetime"
    """``lifetime``, ``exploration`` or ``learning_rate``: which learner setting ``levels`` sweeps."""
    levels: tuple[float, ...] = (1000, 5000)
    """Values of the knob (increasing): whole numbers >= 1 for lifetimes, in [0, 1] for exploration, in (0, 1] for
    learning rates. The learner's other settings come from ``learner``."""
    task: HungryThirstyTask = field(default_factory=HungryThirstyTask)
    """The room and the body."""
    learner: QLearner = field(default_factory=QLearner)
    """The lifetime learner (fixed apart from the swept setting; the search sets only its reward)."""
    evolution: EvolutionConfig = field(default_factory=lambda: EvolutionConfig(
        strategy="cma_es", population_size=16, generations=30, mutation_scale=0.5, common_random_numbers=True))
    """The reward search: a genome is the four reward weights, starting at fitness-as-reward."""
    lifetimes_per_evaluation: int = 8
    """Lifetimes (fresh layouts) averaged into one reward's fitness."""
    eval_lifetimes: int = 256
    """Lifetimes for the final comparison of every searched reward with fitness-as-reward (the same lifetimes)."""
    n_seeds: int = 5
    """Independent searches per level."""
    seed: int = 0
    """Root random seed."""
    n_chunks: int = 6
    """Generations are run in this many chunks (progress, resume)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        validate_knob_run(self, KNOBS)
        if self.knob == "lifetime" and any(v != int(v) or v < 1 for v in self.levels):
            raise MesaoptError(f"lifetimes must be whole numbers >= 1, got {tuple(self.levels)}")
        if self.knob == "exploration" and any(not 0.0 <= v <= 1.0 for v in self.levels):
            raise MesaoptError(f"exploration levels must be in [0, 1], got {tuple(self.levels)}")
        if self.knob == "learning_rate" and any(not 0.0 < v <= 1.0 for v in self.levels):
            raise MesaoptError(f"learning_rate levels must be in (0, 1], got {tuple(self.levels)}")

    @property
    def longest_lifetime(self) -> int:
        """The scan length every lifetime fits in."""
        return int(max(self.levels)) if self.knob == "lifetime" else self.learner.lifetime

    def run_settings(self) -> dict[str, np.ndarray]:
        """``lifetime``, ``learning_rate`` and ``exploration`` of every run: levels major, ``n_seeds`` each."""
        n = len(self.levels) * self.n_seeds
        out = {"lifetime": np.full(n, self.learner.lifetime, np.int32),
               "learning_rate": np.full(n, self.learner.learning_rate, np.float32),
               "exploration": np.full(n, self.learner.exploration, np.float32)}
        out[self.knob] = np.repeat(np.asarray(self.levels), self.n_seeds).astype(out[self.knob].dtype)
        return out
