"""Preset ``icl-diversity``: the task-diversity transition of Raventós et al. (2023).

Transformers are pretrained on a finite pool of M regression tasks, one pool per (M, seed). With few tasks the
Bayes-optimal predictor for the pretraining distribution is dMMSE (posterior mean over the pool): the model
memorizes and fails on new tasks. Past a threshold M* it behaves like ridge regression (the Bayes predictor for
the Gaussian task prior) and also solves tasks it never saw — a general in-context learner. Measured per run:
Δ(model, ridge) and Δ(model, dMMSE) on seen tasks (from the pool) and on new tasks (fresh w ~ N(0, I)).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors.icl import crossing_point
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
from mesaopt.experiments.shared.transformer import TransformerConfig, make_sequence_trainer
from mesaopt.optimizers.supervised import SupervisedConfig
from mesaopt.tasks.reference_learners import DiscreteMMSE, Ridge, predict_every_position
from mesaopt.tasks.regression import RegressionTask, sample_prompts
from mesaopt.tasks.tokens import predict_with_sequence_model


@dataclass(frozen=True)
class IclDiversityConfig:
    """Config of ``icl-diversity``."""

    task: RegressionTask = field(default_factory=lambda: RegressionTask(d=4, n_context=8, noise_std=0.5))
    """Task family; the pool size comes from ``pool_sizes`` (leave task.pool_size as none)."""
    pool_sizes: tuple[int, ...] = (1, 4, 16, 64, 256)
    """The M values of the sweep: distinct pretraining tasks per run (each ≥ 1). At d = 4 the grid stops at 256:
    beyond ~10³ tasks dMMSE and ridge predict almost alike (Δ = 0.011 at M = 4096), so no model could be told
    closer to one than to the other."""
    model: TransformerConfig = field(default_factory=lambda: TransformerConfig(d_model=32, n_layers=2, n_heads=4))
    """The transformer."""
    train: SupervisedConfig = field(default_factory=lambda: SupervisedConfig(
        learning_rate=2e-3, steps=6000, batch_size=64, warmup_steps=200))
    """Supervised training (the same for every M)."""
    n_seeds: int = 3
    """Runs per M (each with its own pool)."""
    seed: int = 0
    """Root random seed."""
    eval_prompts: int = 1024
    """Prompts per test set (seen tasks, new tasks)."""
    n_chunks: int = 20
    """Training is streamed in this many chunks (progress updates)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` for impossible settings."""
        self.task.validate()
        self.model.validate(self.task)
        self.train.validate()
        check_positive(n_seeds=self.n_seeds, eval_prompts=self.eval_prompts, n_chunks=self.n_chunks)
        if not self.pool_sizes:
            raise MesaoptError("pool_sizes must list at least one task-pool size M")
        for m in self.pool_sizes:
            if m < 1:
                raise MesaoptError(f"every pool size M must be ≥ 1, got {m}")
        if list(self.pool_sizes) != sorted(set(self.pool_sizes)):
            raise MesaoptError(f"pool_sizes must be increasing and distinct, got {list(self.pool_sizes)}")
        if self.task.pool_size is not None:
            raise MesaoptError("set the pool sizes with --pool-sizes, not task.pool_size")
        if self.task.noise_std <= 0:
            raise MesaoptError("icl-diversity needs label noise (task.noise_std > 0): ridge and dMMSE assume it")

    @property
    def n_runs(self) -> int:
        return len(self.pool_sizes) * self.n_seeds


def full_study_config() -> IclDiversityConfig:
    """Raventós et al.'s setting for the 4-layer, 64-wide model (d = 8, 16 context points, σ² = 0.25), where
    they report M* between 2^11 and 2^12; M from 2 to 2^15. Hours on a CPU (see docs/icl.md)."""
    return IclDiversityConfig(
        task=RegressionTask(d=8, n_context=15, noise_std=0.5),
        pool_sizes=(2, 8, 32, 128, 512, 2048, 8192, 32768),
        model=TransformerConfig(d_model=64, n_layers=4, n_heads=4, d_mlp=128),
        train=SupervisedConfig(learning_rate=1e-3, steps=40000, batch_size=128, warmup_steps=1000),
        n_seeds=2, eval_prompts=2048, n_chunks=200)


make_trainer = make_sequence_trainer
"""Supervised training of this preset's transformer (see ``shared.transformer.make_sequence_trainer``)."""


def checkpoint_metadata(cfg: IclDiversityConfig) -> dict:
    """What a checkpoint must match to load into this preset's model."""
    return {"preset": "icl-diversity", "model": dataclasses.asdict(cfg.model), "d": cfg.task.d,
            "n_context": cfg.task.n_context, "n_runs": cfg.n_runs}


def run_pools(cfg: IclDiversityConfig, key) -> tuple[jax.Array, jax.Array]:
    """Per run (M-major, then seed): a pool allocated at the largest M and how many of its rows are used."""
    m_max = max(cfg.pool_sizes)
    pools = jax.random.normal(key, (cfg.n_runs, m_max, cfg.task.d))
    n_active = jnp.repeat(jnp.asarray(cfg.pool_sizes, jnp.int32), cfg.n_seeds)
    return pools, n_active


def _distances(pred, pred_ridge, pred_dmmse, ys, d) -> dict:
    """Per run: Δ(model, ridge), Δ(model, dMMSE) and each one's error, mean over prompts and positions / d."""

    def dist(a, b):
        return np.asarray(jnp.mean((a - b) ** 2, axis=(-2, -1)) / d)

    return {"dist_ridge": dist(pred, pred_ridge), "dist_dmmse": dist(pred, pred_dmmse),
            "error_model": dist(pred, ys), "error_ridge": dist(pred_ridge, ys), "error_dmmse": dist(pred_dmmse, ys)}


def evaluate_runs(cfg: IclDiversityConfig, trainer, params, pools, n_active, key) -> list[dict]:
    """Per run: distances and errors on seen tasks (its own pool) and on new tasks (shared fresh prompts)."""
    task, noise_var = cfg.task, cfg.task.noise_std**2
    k_seen, k_new = jax.random.split(key)
    seen = jax.vmap(lambda k, pool, m: sample_prompts(k, task, cfg.eval_prompts, pool, m))(
        jax.random.split(k_seen, cfg.n_runs), pools, n_active)
    new = sample_prompts(k_new, task, cfg.eval_prompts)

    @jax.jit
    def one_run(p, pool, m, xs, ys):
        pred = predict_with_sequence_model(trainer.model(p), xs, ys, cfg.model.token_format)
        ridge = predict_every_position(Ridge(noise_var), xs, ys)
        return pred, ridge, predict_every_position(DiscreteMMSE(pool, noise_var, m), xs, ys)

    out = [{} for _ in range(cfg.n_runs)]
    for name, xs, ys in (("seen", seen.xs, seen.ys), ("new", None, None)):
        for i in range(cfg.n_runs):
            run_xs, run_ys = (xs[i], ys[i]) if name == "seen" else (new.xs, new.ys)
            p = take(params, i)
            pred, ridge, dmmse = one_run(p, pools[i], n_active[i], run_xs, run_ys)
            out[i].update({f"{k}_{name}": float(v) for k, v in _distances(pred, ridge, dmmse, run_ys, task.d).items()})
    return out


def run_icl_diversity(cfg: IclDiversityConfig, ctx) -> dict:
    """Train one transformer per (M, seed) in one program; measure its distance to ridge and dMMSE."""
    started = time.perf_counter()
    cfg.validate()
    k_pool, k_train, k_eval = jax.random.split(jax.random.key(cfg.seed), 3)
    pools, n_active = run_pools(cfg, k_pool)
    trainer = make_trainer(cfg)
    params, metrics, timings = train_runs(trainer, jax.random.split(k_train, cfg.n_runs), (pools, n_active),
                                          cfg.n_chunks, ctx)
    save_params(ctx.writer, params, checkpoint_metadata(cfg))
    runs = evaluate_runs(cfg, trainer, params, pools, n_active, k_eval)
    by_m = _aggregate(cfg, runs)
    wall = time.perf_counter() - started
    report = {
        "preset": "icl-diversity", "headline": _headline(cfg, by_m, wall), "by_pool_size": by_m,
        "learning_curves": loss_curves(metrics),
        "timings": timing_summary(timings, cfg.n_runs, wall),
        "config": dataclasses.asdict(cfg),
    }
    return report


def _aggregate(cfg: IclDiversityConfig, runs: list[dict]) -> dict:
    """Every measure as ``{name: [ci_summary per M]}`` (runs are M-major)."""
    out = {}
    for name in runs[0]:
        values = np.asarray([r[name] for r in runs]).reshape(len(cfg.pool_sizes), cfg.n_seeds)
        out[name] = [ci_summary(row) for row in values]
    return out


def _headline(cfg: IclDiversityConfig, by_m: dict, wall: float) -> dict:
    means = {name: [s["mean"] for s in stats] for name, stats in by_m.items()}
    m_star = crossing_point(cfg.pool_sizes, means["dist_ridge_new"], means["dist_dmmse_new"])
    return {
        "M": list(cfg.pool_sizes),
        **{k: means[k] for k in ("dist_ridge_seen", "dist_dmmse_seen", "dist_ridge_new", "dist_dmmse_new")},
        "M_star": None if m_star is None else round(m_star, 2),
        "n_seeds": cfg.n_seeds,
        "wall_seconds": round(wall, 2),
    }
