"""Base optimizers: ``make_*(cfg, env, model_factory, ...)`` returning pure, jittable training functions."""

from mesaopt.optimizers.ppo import PPO, PPOConfig, TrainResult, UpdateMetrics, make_ppo

OPTIMIZERS = {"ppo": make_ppo}
"""Base optimizers by name."""

__all__ = ["OPTIMIZERS", "PPO", "PPOConfig", "TrainResult", "UpdateMetrics", "make_ppo"]
