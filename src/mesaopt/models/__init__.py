"""Learned algorithms: equinox modules with named activations."""

from mesaopt.models.actor_critic import CNNActorCritic, MLPActorCritic
from mesaopt.models.lsa import LinearSelfAttention
from mesaopt.models.transformer import GPT2Regressor

MODELS = {"mlp": MLPActorCritic, "cnn": CNNActorCritic}
"""Model classes by name: ``MODELS[name](obs_shape, n_actions, **kwargs, key=key)``."""

SEQUENCE_MODELS = {"lsa": LinearSelfAttention, "gpt2-regressor": GPT2Regressor}
"""In-context learners by name: ``LinearSelfAttention(d, key=…)``, ``GPT2Regressor(d_in, …, key=…)``."""

__all__ = ["MODELS", "SEQUENCE_MODELS", "CNNActorCritic", "GPT2Regressor", "LinearSelfAttention", "MLPActorCritic"]
