"""Preset ``icl-regression``: a small transformer learns linear regression in context (Garg et al. 2022).

Trained on fresh tasks, the transformer's error as a function of the number k of in-context examples is
compared with every reference learner, in distribution and under out-of-distribution shifts, and a linear
probe asks whether the least-squares weight vector can be read from each layer's residual stream.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import jax
import numpy as np

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.icl import (
    check_positive,
    ci_summary,
    loss_curves,
    save_params,
    timing_summary,
    train_runs,
)
from mesaopt.experiments.shared.transformer import TransformerConfig, make_sequence_trainer, per_position_error
from mesaopt.experiments.icl_regression.probe import probe_least_squares_weights
from mesaopt.optimizers.supervised import SupervisedConfig
from mesaopt.tasks.reference_learners import LEARNER_NAMES, best_gd_step_size, make_learner, predict_every_position
from mesaopt.tasks.regression import RegressionTask, sample_prompts
from mesaopt.tasks.tokens import predict_with_sequence_model

OOD_VARIANTS = {
    "scaled_inputs": lambda t: dataclasses.replace(t, input_scale=2.0 * t.input_scale),
    "skewed_covariance": lambda t: dataclasses.replace(t, input_dist="skewed"),
    "label_noise": lambda t: dataclasses.replace(t, noise_std=max(1.0, t.noise_std)),
    "orthant_context": lambda t: dataclasses.replace(t, input_dist="orthant"),
}
"""Test distributions derived from the training task: inputs ×2, covariance eigenvalues ∝ 1/i², label noise
σ = 1, context points in one orthant with the query anywhere."""


@dataclass(frozen=True)
class IclRegressionConfig:
    """Config of ``icl-regression``."""

    task: RegressionTask = field(default_factory=lambda: RegressionTask(d=5, n_context=14))
    """Training task (fresh tasks per prompt)."""
    model: TransformerConfig = field(default_factory=lambda: TransformerConfig(d_mlp=128))
    """The transformer (MLP width 2 × d_model: a third less compute than GPT-2's 4 ×, to fit 10 CPU minutes)."""
    train: SupervisedConfig = field(default_factory=lambda: SupervisedConfig(
        learning_rate=1e-3, steps=6000, batch_size=64, warmup_steps=200))
    """Supervised training."""
    n_seeds: int = 2
    """Independently trained transformers."""
    seed: int = 0
    """Root random seed."""
    learners: tuple[str, ...] = ("least_squares", "ridge", "gd", "averaging", "knn3")
    """Reference learners to compare with (``gd``: one step with the best step size)."""
    ood_variants: tuple[str, ...] = tuple(OOD_VARIANTS)
    """Out-of-distribution test sets, from ``OOD_VARIANTS``."""
    eval_prompts: int = 2048
    """Prompts per test distribution."""
    n_chunks: int = 20
    """Training is streamed in this many chunks (progress updates)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` for impossible settings."""
        self.task.validate()
        self.model.validate(self.task)
        self.train.validate()
        check_positive(n_seeds=self.n_seeds, eval_prompts=self.eval_prompts, n_chunks=self.n_chunks)
        if self.task.pool_size is not None:
            raise MesaoptError("icl-regression trains on fresh tasks; leave task.pool_size as none")
        for name in self.learners:
            if name not in LEARNER_NAMES or name == "dmmse":
                allowed = [n for n in LEARNER_NAMES if n != "dmmse"]
                raise MesaoptError(f"unknown reference learner {name!r} for icl-regression; allowed: {allowed}")
        for name in self.ood_variants:
            if name not in OOD_VARIANTS:
                raise MesaoptError(f"unknown ood variant {name!r}; allowed: {list(OOD_VARIANTS)}")


make_trainer = make_sequence_trainer
"""Supervised training of this preset's transformer (see ``shared.transformer.make_sequence_trainer``)."""


def checkpoint_metadata(cfg: IclRegressionConfig) -> dict:
    """What a checkpoint must match to load into this preset's model."""
    return {"preset": "icl-regression", "model": dataclasses.asdict(cfg.model), "d": cfg.task.d,
            "n_context": cfg.task.n_context, "n_runs": cfg.n_seeds}


def transformer_predictions(trainer, params, xs, ys, token_format: str) -> np.ndarray:
    """``(seeds, B, n)`` predictions of every trained transformer (one jitted, seed-vmapped call)."""
    run = jax.jit(jax.vmap(lambda p: predict_with_sequence_model(trainer.model(p), xs, ys, token_format)))
    return np.asarray(run(params))


def evaluate_distribution(cfg, trainer, params, task: RegressionTask, key, gd_step_size: float) -> dict:
    """Per-position error / d of the transformers (per seed) and of each reference learner on ``task``."""
    p = sample_prompts(key, task, cfg.eval_prompts)
    preds = transformer_predictions(trainer, params, p.xs, p.ys, cfg.model.token_format)
    out = {"transformer": [np.asarray(per_position_error(pr, p.ys, task.d)) for pr in preds]}
    for name in cfg.learners:
        learner = make_learner(name, task, gd_step_size=gd_step_size)
        out[name] = np.asarray(per_position_error(predict_every_position(learner, p.xs, p.ys), p.ys, task.d))
    return out


def summarize_errors(errors: dict, d: int) -> dict:
    """Curves (mean and min–max range over seeds for the transformer) and the mean error over k ≥ d per learner
    (with a 95 % t-interval over seeds for the transformer)."""
    out = {}
    for name, err in errors.items():
        err = np.asarray(err)
        if err.ndim == 2:  # seeds × positions
            k_ge_d = ci_summary(err[:, d:].mean(axis=1), clip=(0.0, np.inf))
            out[name] = {"curve": err.mean(0).round(5).tolist(), "curve_low": err.min(0).round(5).tolist(),
                         "curve_high": err.max(0).round(5).tolist(), "k_ge_d": k_ge_d}
        else:
            out[name] = {"curve": err.round(5).tolist(), "k_ge_d": {"mean": round(float(err[d:].mean()), 6)}}
    return out


def run_icl_regression(cfg: IclRegressionConfig, ctx) -> dict:
    """Train ``n_seeds`` transformers; error vs k for them and every reference learner, in and out of
    distribution; probe for the least-squares weights; write checkpoints and report.json."""
    started = time.perf_counter()
    cfg.validate()
    k_train, k_eta, k_eval, k_probe = jax.random.split(jax.random.key(cfg.seed), 4)
    trainer = make_trainer(cfg)
    params, metrics, timings = train_runs(trainer, jax.random.split(k_train, cfg.n_seeds), None, cfg.n_chunks, ctx)
    save_params(ctx.writer, params, checkpoint_metadata(cfg))
    eta = best_gd_step_size(k_eta, cfg.task)
    variants = {"in_distribution": cfg.task, **{n: OOD_VARIANTS[n](cfg.task) for n in cfg.ood_variants}}
    eval_keys = jax.random.split(k_eval, len(variants))
    errors = {name: summarize_errors(evaluate_distribution(cfg, trainer, params, task, k, eta), cfg.task.d)
              for (name, task), k in zip(variants.items(), eval_keys)}
    probe = probe_least_squares_weights(trainer, params, cfg.task, cfg.model.token_format, k_probe)
    wall = time.perf_counter() - started
    report = {
        "preset": "icl-regression",
        "headline": _headline(cfg, errors["in_distribution"], wall),
        "errors": errors, "gd_step_size": round(eta, 6), "probe": probe,
        "learning_curves": loss_curves(metrics),
        "timings": timing_summary(timings, cfg.n_seeds, wall),
        "config": dataclasses.asdict(cfg),
    }
    return report


def _headline(cfg: IclRegressionConfig, in_dist: dict, wall: float) -> dict:
    return {
        "error_k_ge_d": {name: stats["k_ge_d"]["mean"] for name, stats in in_dist.items()},
        "error_k_ge_d_transformer_ci": in_dist["transformer"]["k_ge_d"]["ci"],
        "d": cfg.task.d,
        "n_seeds": cfg.n_seeds,
        "wall_seconds": round(wall, 2),
    }
