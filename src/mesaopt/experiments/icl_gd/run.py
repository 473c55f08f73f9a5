"""Preset ``icl-gd``: a linear self-attention layer trained on in-context regression becomes one step of GD.

von Oswald et al. (2022): trained on fresh regression tasks, a single LSA layer converges to the layer that
runs one gradient-descent step (best step size) on the in-context least-squares loss. Measured per seed:
the cosine between the trained layer's and GD's input sensitivities ∂ŷ/∂x_q, the relative prediction
difference, both losses, and the loss along the straight path from the trained to the constructed weights.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.icl import (
    interpolation_losses,
    query_sensitivities,
    relative_prediction_difference,
    sensitivity_agreement,
)
from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.common import take
from mesaopt.experiments.shared.icl import (
    check_positive,
    ci_summary,
    loss_curves,
    save_params,
    timing_summary,
    train_runs,
)
from mesaopt.models.lsa import LinearSelfAttention, balanced, gd_lsa, lsa_predict_queries
from mesaopt.optimizers.supervised import SupervisedConfig, make_supervised
from mesaopt.tasks.reference_learners import GradientDescent, best_gd_step_size, predict_query
from mesaopt.tasks.regression import RegressionTask, sample_prompts


@dataclass(frozen=True)
class IclGdConfig:
    """Config of ``icl-gd`` (defaults: von Oswald et al.'s d = N = 10, inputs uniform in [−1, 1])."""

    task: RegressionTask = field(default_factory=lambda: RegressionTask(d=10, n_context=10, input_dist="uniform"))
    """The regression task (fresh tasks per prompt; the query is the last example)."""
    train: SupervisedConfig = field(default_factory=lambda: SupervisedConfig(
        learning_rate=1e-3, steps=3000, batch_size=512, warmup_steps=50))
    """Supervised training of the LSA layer."""
    n_seeds: int = 5
    """Independently initialised and trained layers."""
    seed: int = 0
    """Root random seed."""
    init_scale: float = 0.02
    """Standard deviation of the initial LSA weights."""
    eval_prompts: int = 4096
    """Fresh prompts for every measurement."""
    n_chunks: int = 10
    """Training is streamed in this many chunks (progress updates)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` for impossible settings."""
        self.task.validate()
        self.train.validate()
        check_positive(n_seeds=self.n_seeds, eval_prompts=self.eval_prompts, n_chunks=self.n_chunks)
        if self.task.n_context < 1:
            raise MesaoptError("icl-gd needs at least one in-context example (task.n_context ≥ 1)")
        if self.task.pool_size is not None:
            raise MesaoptError("icl-gd trains on fresh tasks; leave task.pool_size as none")


def query_loss(model, xs, ys, d: int):
    """Mean squared query error / d of an LSA layer."""
    return jnp.mean((lsa_predict_queries(model, xs, ys) - ys[:, -1]) ** 2) / d


def make_trainer(cfg: IclGdConfig):
    """Supervised training of one LSA layer on fresh prompts of ``cfg.task``."""
    task = cfg.task

    def loss_fn(model, key, step, _run_params):
        p = sample_prompts(key, task, cfg.train.microbatch_size)
        return query_loss(model, p.xs, p.ys, task.d)

    return make_supervised(cfg.train, lambda k: LinearSelfAttention(task.d, key=k, init_scale=cfg.init_scale),
                           loss_fn)


def checkpoint_metadata(cfg: IclGdConfig) -> dict:
    """What a checkpoint must match to load into this preset's model."""
    return {"preset": "icl-gd", "model": "lsa", "d": cfg.task.d, "n_runs": cfg.n_seeds}


def _aligned(trained: LinearSelfAttention, constructed: LinearSelfAttention) -> LinearSelfAttention:
    """``trained`` rescaled like ``constructed`` (balanced) and sign-flipped (−W_KQ, −W_PV is the same layer)
    to face it, so that interpolating between them compares algorithms, not parameterizations."""
    model = balanced(trained)
    sign = jnp.where(jnp.sum(model.W_KQ * constructed.W_KQ) < 0, -1.0, 1.0)
    return jax.tree_util.tree_map(lambda x: x * sign, model)


def evaluate_seed(model, gd_model, eta: float, prompts, d: int) -> dict:
    """Every icl-gd measurement of one trained layer against one-step GD with step size ``eta``."""
    xs, ys = prompts.xs, prompts.ys
    gd = GradientDescent(eta, 1)
    mask = jnp.ones(xs.shape[1] - 1)
    pred_model = lsa_predict_queries(model, xs, ys)
    pred_gd = predict_query(gd, xs, ys)
    sens = sensitivity_agreement(query_sensitivities(model, xs, ys),
                                 query_sensitivities(lambda X, y, xq: gd(X, y, mask, xq), xs, ys))
    alphas, path = interpolation_losses(lambda m: query_loss(m, xs, ys, d), _aligned(model, balanced(gd_model)),
                                        balanced(gd_model))
    return {"sensitivity_cosine": sens["cosine"], "sensitivity_relative_l2": sens["relative_l2"],
            "prediction_diff": relative_prediction_difference(pred_model, pred_gd),
            "loss_model": float(query_loss(model, xs, ys, d)), "loss_gd": float(jnp.mean((pred_gd - ys[:, -1]) ** 2) / d),
            "interpolation_alpha": alphas.tolist(), "interpolation_loss": path.round(6).tolist()}


def run_icl_gd(cfg: IclGdConfig, ctx) -> dict:
    """Train ``n_seeds`` LSA layers, compare each with one-step GD, write checkpoints and report.json."""
    started = time.perf_counter()
    cfg.validate()
    k_train, k_eta, k_eval = jax.random.split(jax.random.key(cfg.seed), 3)
    trainer = make_trainer(cfg)
    params, metrics, timings = train_runs(trainer, jax.random.split(k_train, cfg.n_seeds), jnp.zeros(cfg.n_seeds),
                                          cfg.n_chunks, ctx)
    save_params(ctx.writer, params, checkpoint_metadata(cfg))
    eta = best_gd_step_size(k_eta, cfg.task)
    prompts = sample_prompts(k_eval, cfg.task, cfg.eval_prompts)
    gd_model = gd_lsa(cfg.task.d, eta)
    per_seed = [evaluate_seed(trainer.model(take(params, i)), gd_model, eta, prompts, cfg.task.d)
                for i in range(cfg.n_seeds)]
    return _build_report(cfg, per_seed, eta, trainer.model(take(params, 0)), gd_model, metrics,
                         timings, time.perf_counter() - started)


def _build_report(cfg, per_seed, eta, model0, gd_model, metrics, timings, wall) -> dict:
    stats = {k: ci_summary([s[k] for s in per_seed]) for k in
             ("sensitivity_cosine", "sensitivity_relative_l2", "prediction_diff", "loss_model", "loss_gd")}
    headline = {
        "sensitivity_cosine_gd": stats["sensitivity_cosine"]["mean"],
        "sensitivity_cosine_gd_ci": stats["sensitivity_cosine"]["ci"],
        "prediction_diff_gd": stats["prediction_diff"]["mean"],
        "prediction_diff_gd_ci": stats["prediction_diff"]["ci"],
        "gd_step_size": round(eta, 6),
        "n_seeds": cfg.n_seeds,
        "wall_seconds": round(wall, 2),
    }
    shown = _aligned(model0, balanced(gd_model))  # same scale and sign convention as the constructed layer
    report = {
        "preset": "icl-gd", "headline": headline, "measures": stats,
        "interpolation": {"alpha": per_seed[0]["interpolation_alpha"],
                          "loss": [s["interpolation_loss"] for s in per_seed]},
        "weights_seed0": {"W_KQ": np.asarray(shown.W_KQ).round(4).tolist(),
                          "W_PV": np.asarray(shown.W_PV).round(4).tolist(),
                          "gd_W_KQ": np.asarray(balanced(gd_model).W_KQ).round(4).tolist(),
                          "gd_W_PV": np.asarray(balanced(gd_model).W_PV).round(4).tolist()},
        "learning_curves": loss_curves(metrics),
        "timings": timing_summary(timings, cfg.n_seeds, wall),
        "config": dataclasses.asdict(cfg),
    }
    return report
