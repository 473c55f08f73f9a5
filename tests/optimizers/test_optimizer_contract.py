"""Every base optimizer satisfies the one contract (``init`` / ``step`` / ``n_steps`` / ``finite_metrics``), the
chunked driver gives what each optimizer's own ``train`` gives, every ``OPTIMIZERS`` entry builds a working one,
and impossible learning rates fail before training."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs import Maze
from mesaopt.errors import MesaoptError
from mesaopt.models import GRUActorCritic, LinearSelfAttention, MLPActorCritic
from mesaopt.models.lsa import lsa_predict_queries
from mesaopt.optimizers import (OPTIMIZERS, EvolutionConfig, OptimizerEntry, PPOConfig, SupervisedConfig,
                                make_evolution, make_ppo, make_supervised)
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.contract import BaseOptimizer, FunctionalOptimizer
from mesaopt.tasks.regression import RegressionTask, sample_prompts

ENV = Maze(5, generator="open")  # the open room compiles faster than Kruskal mazes
PPO_CFG = PPOConfig(n_envs=4, n_steps=4, n_epochs=1, n_minibatches=2)
PPO_STEPS = 3 * PPO_CFG.steps_per_update  # three updates
TASK = RegressionTask(d=2, n_context=4)
SUP_CFG = SupervisedConfig(learning_rate=1e-2, steps=6, batch_size=8, warmup_steps=2)


def mlp(key):
    return MLPActorCritic(ENV.obs_shape, 4, width=8, key=key)


def gru(key):
    return GRUActorCritic(ENV.obs_shape, 4, width=8, hidden_size=8, key=key)


def lsa(key):
    return LinearSelfAttention(TASK.d, key=key)


def regression_loss(model, key, step, problem):
    p = sample_prompts(key, TASK, SUP_CFG.batch_size)
    return jnp.mean((lsa_predict_queries(model, p.xs, p.ys) - p.ys[:, -1]) ** 2)


EVO_CFG = EvolutionConfig(population_size=4, generations=5)


def two_numbers(key):
    return {"w": jax.random.normal(key, (2,))}


def negative_distance(genome, key, problem):
    return -jnp.sum((genome["w"] - problem) ** 2)


def _leaves_close(a, b):
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-4, atol=1e-6)


def test_every_optimizer_is_a_base_optimizer():
    ppo = make_ppo(PPO_CFG, ENV, mlp, PPO_STEPS)
    recurrent = make_ppo(PPO_CFG, ENV, gru, PPO_STEPS)
    supervised = make_supervised(SUP_CFG, lsa, regression_loss)
    evolution = make_evolution(EVO_CFG, two_numbers, negative_distance)
    functional = FunctionalOptimizer(lambda key, problem: 0.0, lambda state, problem: (state, ()), 5)
    for optimizer in (ppo, recurrent, supervised, evolution, functional):
        assert isinstance(optimizer, BaseOptimizer), type(optimizer)
    assert recurrent.recurrent and not ppo.recurrent
    steps = (ppo.n_steps, recurrent.n_steps, supervised.n_steps, evolution.n_steps, functional.n_steps)
    assert steps == (3, 3, 6, 5, 5)
    assert ppo.finite_metrics == ("policy_loss", "value_loss", "entropy", "approx_kl")
    assert supervised.finite_metrics == ("loss", "grad_norm")
    assert not isinstance(object(), BaseOptimizer)  # the check can fail


def test_chunked_ppo_equals_its_own_scan():
    ppo = make_ppo(PPO_CFG, ENV, mlp, PPO_STEPS)
    keys = jax.random.split(jax.random.key(0), 2)
    params = ENV.default_params()
    whole = jax.jit(jax.vmap(ppo.train, (0, None)))(keys, params)
    batched = jax.tree_util.tree_map(lambda x: jnp.broadcast_to(x, (2, *x.shape)), params)
    state, metrics, timings = train_in_chunks(ppo, keys, batched, 3)
    assert timings["updates"] == 3 and metrics["policy_loss"].shape == (2, 3)
    _leaves_close(whole.params, state.params)
    for name in whole.metrics._fields:
        np.testing.assert_allclose(metrics[name], np.asarray(getattr(whole.metrics, name)), rtol=1e-4, atol=1e-6)


def test_chunked_supervised_equals_its_own_scan():
    trainer = make_supervised(SUP_CFG, lsa, regression_loss)
    keys = jax.random.split(jax.random.key(1), 2)
    whole_params, whole_metrics = jax.jit(jax.vmap(trainer.train, (0, None)))(keys, None)
    state, metrics, _ = train_in_chunks(trainer, keys, None, 2)
    _leaves_close(whole_params, state.params)
    np.testing.assert_allclose(metrics["loss"], np.asarray(whole_metrics.loss), rtol=1e-4, atol=1e-6)
    assert int(state.step[0]) == SUP_CFG.steps


TINY = {
    "ppo": (PPOConfig(n_envs=4, n_steps=4, n_epochs=1, n_minibatches=2), mlp, ENV, 2 * 16, ENV.default_params(), 2),
    "supervised": (SUP_CFG, lsa, regression_loss, 4, None, 4),
    "evolution": (EVO_CFG, two_numbers, negative_distance, 3, jnp.ones(2), 3),
}
"""name: (config, model factory, objective, budget, problem, the n_steps that budget means)."""


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_registry_entry_builds_a_working_optimizer(name):
    assert set(TINY) == set(OPTIMIZERS), "give each OPTIMIZERS entry a tiny case here"
    entry = OPTIMIZERS[name]
    cfg, factory, objective, budget, problem, n_steps = TINY[name]
    assert isinstance(entry, OptimizerEntry) and isinstance(entry.summary, str) and entry.summary
    assert isinstance(entry.config_cls(), entry.config_cls) and isinstance(cfg, entry.config_cls)
    optimizer = entry.make(cfg, factory, objective, budget)
    assert isinstance(optimizer, BaseOptimizer) and optimizer.n_steps == n_steps
    state = jax.jit(optimizer.init)(jax.random.key(2), problem)
    _, metrics = jax.jit(optimizer.step)(state, problem)
    assert set(optimizer.finite_metrics) <= set(metrics._fields)
    assert all(math.isfinite(float(getattr(metrics, m))) for m in optimizer.finite_metrics)


def test_registry_budgets():
    assert OPTIMIZERS["supervised"].make(SUP_CFG, lsa, regression_loss).n_steps == SUP_CFG.steps  # no budget
    assert OPTIMIZERS["evolution"].make(EVO_CFG, two_numbers, negative_distance).n_steps == EVO_CFG.generations
    with pytest.raises(ValueError, match="ppo needs a budget"):
        OPTIMIZERS["ppo"].make(PPO_CFG, mlp, ENV)


BAD_RATES = [math.nan, math.inf, -math.inf, 0.0, -1e-3]


@pytest.mark.parametrize("rate", BAD_RATES)
def test_ppo_rejects_impossible_learning_rates(rate):
    with pytest.raises(ValueError, match=r"ppo\.learning_rate must be a finite number > 0, got"):
        PPOConfig(learning_rate=rate).validate()


@pytest.mark.parametrize("rate", BAD_RATES)
def test_supervised_rejects_impossible_learning_rates(rate):
    with pytest.raises(MesaoptError, match=r"train\.learning_rate must be a finite number > 0, got"):
        SupervisedConfig(learning_rate=rate).validate()


@pytest.mark.parametrize("field, value", [
    ("clip_eps", -0.1), ("clip_eps", math.nan), ("ent_coef", math.inf), ("vf_coef", -1.0), ("vf_coef", math.nan),
    ("max_grad_norm", 0.0), ("max_grad_norm", math.nan), ("gae_lambda", math.nan), ("gae_lambda", 1.5),
    ("gamma", math.nan), ("gamma", 0.0), ("gamma", math.inf),
])
def test_ppo_rejects_other_impossible_numbers(field, value):
    with pytest.raises(ValueError, match=rf"ppo\.{field} must be a finite number"):
        PPOConfig(**{field: value}).validate()


@pytest.mark.parametrize("field, value", [("grad_clip", math.nan), ("weight_decay", math.inf),
                                          ("weight_decay", -1.0)])
def test_supervised_rejects_other_impossible_numbers(field, value):
    with pytest.raises(MesaoptError, match=rf"train\.{field} must be a finite number"):
        SupervisedConfig(**{field: value}).validate()


def test_possible_settings_pass():
    PPOConfig().validate()
    PPOConfig(gamma=1.0, gae_lambda=0.0, clip_eps=0.0, ent_coef=0.0, vf_coef=0.0, learning_rate=1).validate()
    SupervisedConfig().validate()
    SupervisedConfig(grad_clip=0.0, weight_decay=0.0).validate()
