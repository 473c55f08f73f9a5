"""Base optimizers: ``make_*(cfg, env, model_factory, ...)`` returning pure, jittable training functions."""

from mesaopt.optimizers.ppo import PPO, PPOConfig, TrainResult, UpdateMetrics, make_ppo
from mesaopt.optimizers.supervised import Supervised, SupervisedConfig, make_supervised

OPTIMIZERS = {"ppo": make_ppo, "supervised": make_supervised}
"""Base optimizers by name."""

__all__ = ["OPTIMIZERS", "PPO", "PPOConfig", "Supervised", "SupervisedConfig", "TrainResult", "UpdateMetrics",
           "make_ppo", "make_supervised"]
