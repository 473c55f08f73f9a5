"""Learned algorithms: equinox modules with named activations."""

from mesaopt.models.actor_critic import CNNActorCritic, MLPActorCritic
from mesaopt.models.lsa import LinearSelfAttention
from mesaopt.models.recurrent import ConvGRUActorCritic, GRUActorCritic
from mesaopt.models.thinking import FeedForwardThinker, RecurrentThinker
from mesaopt.models.transformer import GPT2Regressor
from mesaopt.models.value_propagation import ValuePropagationActorCritic

MODELS = {"mlp": MLPActorCritic, "cnn": CNNActorCritic, "gru": GRUActorCritic, "conv-gru": ConvGRUActorCritic,
          "vprop": ValuePropagationActorCritic}
"""Model classes by name: ``MODELS[name](obs_shape, n_actions, **kwargs, key=key)``. Recurrent ones (``gru``,
``conv-gru``) also have ``initial_hidden()`` and ``step(hidden, obs)``."""

SEQUENCE_MODELS = {"lsa": LinearSelfAttention, "gpt2-regressor": GPT2Regressor}
"""In-context learners by name: ``LinearSelfAttention(d, key=…)``, ``GPT2Regressor(d_in, …, key=…)``."""

__all__ = ["MODELS", "SEQUENCE_MODELS", "CNNActorCritic", "ConvGRUActorCritic", "FeedForwardThinker", "GPT2Regressor",
           "GRUActorCritic", "LinearSelfAttention", "MLPActorCritic", "RecurrentThinker",
           "ValuePropagationActorCritic"]
