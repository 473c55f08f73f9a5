"""The transformer side of the in-context-learning presets: model config, training loss, predictions."""

from __future__ import annotations

from dataclasses import dataclass

import jax.numpy as jnp

from mesaopt.errors import MesaoptError
from mesaopt.models.transformer import GPT2Regressor
from mesaopt.optimizers.supervised import make_supervised
from mesaopt.tasks.regression import RegressionTask, sample_prompts
from mesaopt.tasks.tokens import TOKEN_FORMATS, predict_with_sequence_model, sequence_length


@dataclass(frozen=True)
class TransformerConfig:
    """A small GPT-2-style transformer for in-context regression."""

    d_model: int = 64
    """Residual stream width."""
    n_layers: int = 3
    """Transformer blocks."""
    n_heads: int = 4
    """Attention heads per block (must divide d_model)."""
    d_mlp: int = 0
    """Hidden width of each block's MLP; 0 = 4 × d_model (GPT-2's ratio)."""
    token_format: str = "interleaved"
    """``interleaved`` (x, y alternate; Garg et al.) or ``concatenated`` ((x, y) tokens, then queries)."""
    n_ctx: int = 0
    """Longest token sequence (positions); 0 = exactly what the task's prompts need."""

    def validate(self, task: RegressionTask) -> None:
        """One-line ``MesaoptError`` for impossible settings or prompts longer than the model's context."""
        if self.token_format not in TOKEN_FORMATS:
            raise MesaoptError(f"unknown token format {self.token_format!r}; allowed: {list(TOKEN_FORMATS)}")
        if self.d_mlp < 0:
            raise MesaoptError(f"model.d_mlp must be ≥ 0 (0 = 4 × d_model), got {self.d_mlp}")
        for name in ("d_model", "n_layers", "n_heads"):
            if getattr(self, name) < 1:
                raise MesaoptError(f"model.{name} must be ≥ 1, got {getattr(self, name)}")
        if self.d_model % self.n_heads:
            raise MesaoptError(f"model.d_model ({self.d_model}) must be divisible by model.n_heads ({self.n_heads})")
        needed = sequence_length(task.n_examples)
        if self.n_ctx and needed > self.n_ctx:
            raise MesaoptError(f"{task.n_examples} examples need {needed} tokens but the model's context allows "
                               f"{self.n_ctx} (model.n_ctx); allowed: n_context ≤ {self.n_ctx // 2 - 1}")

    def context_length(self, task: RegressionTask) -> int:
        """Positional embeddings to allocate."""
        return self.n_ctx or sequence_length(task.n_examples)

    def build(self, task: RegressionTask, key) -> GPT2Regressor:
        """A freshly initialised model for ``task``'s token width."""
        return GPT2Regressor(task.d + 1, d_model=self.d_model, n_layers=self.n_layers, n_heads=self.n_heads,
                             n_ctx=self.context_length(task), d_mlp=self.d_mlp or None, key=key)


def sequence_loss(model, xs, ys, token_format: str, d: int):
    """Mean squared error / d over every position of every prompt."""
    return jnp.mean((predict_with_sequence_model(model, xs, ys, token_format) - ys) ** 2) / d


def make_sequence_loss(task: RegressionTask, model_cfg: TransformerConfig, batch_size: int):
    """``loss_fn(model, key, step, run_params)`` for the supervised optimizer. ``run_params`` is None (fresh
    tasks) or ``(pool, n_active)``: tasks from the first ``n_active`` rows of this run's pool."""

    def loss_fn(model, key, step, run_params):
        pool, n_active = (None, None) if run_params is None else run_params
        p = sample_prompts(key, task, batch_size, pool, n_active)
        return sequence_loss(model, p.xs, p.ys, model_cfg.token_format, task.d)

    return loss_fn


def per_position_error(pred, ys, d: int):
    """``(n,)`` mean squared error / d at each position (= number of in-context examples k)."""
    return jnp.mean((pred - ys) ** 2, axis=0) / d


def make_sequence_trainer(cfg):
    """Supervised training of ``cfg.model`` on ``cfg.task`` prompts with ``cfg.train`` (any ICL config with those
    three fields); ``run_params`` None = fresh tasks, ``(pool, M)`` = tasks from a run's pool."""
    return make_supervised(cfg.train, lambda k: cfg.model.build(cfg.task, k),
                           make_sequence_loss(cfg.task, cfg.model, cfg.train.microbatch_size))
