"""Learned algorithms: equinox modules with named activations."""

from mesaopt.models.actor_critic import CNNActorCritic, MLPActorCritic

MODELS = {"mlp": MLPActorCritic, "cnn": CNNActorCritic}
"""Model classes by name: ``MODELS[name](obs_shape, n_actions, **kwargs, key=key)``."""

__all__ = ["MODELS", "CNNActorCritic", "MLPActorCritic"]
