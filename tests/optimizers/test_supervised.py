"""The supervised base optimizer: it learns, chunked training equals the whole loop, bad settings fail clearly."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.models.lsa import LinearSelfAttention, lsa_predict_queries
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.supervised import SupervisedConfig, make_schedule, make_supervised
from mesaopt.tasks.reference_learners import GradientDescent, best_gd_step_size, predict_query
from mesaopt.tasks.regression import RegressionTask, sample_prompts

TASK = RegressionTask(d=3, n_context=6)
CFG = SupervisedConfig(learning_rate=3e-2, steps=300, batch_size=128, warmup_steps=10)


def _loss(model, key, step, run_params):
    p = sample_prompts(key, TASK, CFG.batch_size)
    return jnp.mean((lsa_predict_queries(model, p.xs, p.ys) - p.ys[:, -1]) ** 2) / TASK.d


@pytest.fixture(scope="module")
def trainer():
    return make_supervised(CFG, lambda k: LinearSelfAttention(TASK.d, key=k), _loss)


@pytest.fixture(scope="module")
def trained(trainer):
    keys = jax.random.split(jax.random.key(0), 2)
    return jax.jit(jax.vmap(trainer.train, (0, None)))(keys, None)


def _query_loss(model, prompts):
    return float(jnp.mean((lsa_predict_queries(model, prompts.xs, prompts.ys) - prompts.ys[:, -1]) ** 2) / TASK.d)


def test_lsa_learns_close_to_one_step_gd(trainer, trained):
    params, metrics = trained
    prompts = sample_prompts(jax.random.key(9), TASK, 2048)
    zero_loss = float(jnp.mean(prompts.ys[:, -1] ** 2) / TASK.d)
    eta = best_gd_step_size(jax.random.key(3), TASK)
    gd_loss = float(jnp.mean((predict_query(GradientDescent(eta), prompts.xs, prompts.ys) - prompts.ys[:, -1]) ** 2)
                    / TASK.d)
    assert gd_loss < 0.8 * zero_loss  # the task is learnable in context at all
    for i in range(2):
        model = trainer.model(jax.tree_util.tree_map(lambda x, i=i: x[i], params))
        assert _query_loss(model, prompts) < gd_loss + 0.25 * (zero_loss - gd_loss)
    assert metrics.loss.shape == (2, CFG.steps)
    assert np.all(np.asarray(metrics.loss[:, -20:]).mean(1) < np.asarray(metrics.loss[:, :5]).mean(1))


def test_chunked_training_equals_the_whole_loop(trainer):
    keys = jax.random.split(jax.random.key(1), 2)
    whole, _ = jax.jit(jax.vmap(lambda k: trainer.train(k, None)))(keys)
    state, metrics, timings = train_in_chunks(trainer, keys, None, 3)
    assert timings["updates"] == CFG.steps and metrics["loss"].shape == (2, CFG.steps)
    for a, b in zip(jax.tree_util.tree_leaves(whole), jax.tree_util.tree_leaves(state.params)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)


def test_batches_depend_on_the_step(trainer):
    state = trainer.init(jax.random.key(0))
    s1, m1 = trainer.step(state, None)
    s2, m2 = trainer.step(s1, None)
    assert int(s2.step) == 2 and float(m1.loss) != float(m2.loss)


def test_schedule_warms_up_then_decays():
    sched = make_schedule(SupervisedConfig(learning_rate=1.0, steps=100, warmup_steps=10))
    assert float(sched(0)) == 0.0 and float(sched(10)) == pytest.approx(1.0)
    assert float(sched(100)) == pytest.approx(0.1, rel=1e-3)
    flat = make_schedule(SupervisedConfig(learning_rate=1.0, steps=100, warmup_steps=10, cosine_decay=False))
    assert float(flat(90)) == pytest.approx(1.0)


@pytest.mark.parametrize("field, value", [("steps", 0), ("batch_size", 0), ("learning_rate", 0.0),
                                          ("grad_clip", -1.0)])
def test_bad_settings_raise_one_line(field, value):
    with pytest.raises(MesaoptError, match=field.split("_")[0]):
        SupervisedConfig(**{field: value}).validate()


def test_microbatches_average_the_half_batch_gradients():
    cfg = SupervisedConfig(learning_rate=1e-2, steps=10, batch_size=64, microbatches=2, warmup_steps=0,
                           cosine_decay=False, grad_clip=0.0)
    assert cfg.microbatch_size == 32

    def loss(model, key, step, run_params):
        p = sample_prompts(key, TASK, cfg.microbatch_size)
        return jnp.mean((lsa_predict_queries(model, p.xs, p.ys) - p.ys[:, -1]) ** 2)

    trainer = make_supervised(cfg, lambda k: LinearSelfAttention(TASK.d, key=k, init_scale=0.3), loss)
    state = trainer.init(jax.random.key(4))
    value, grads = trainer._loss_and_grads(state, None)
    batch_key = jax.random.fold_in(state.data_key, state.step)
    halves = [jax.value_and_grad(lambda p, i=i: loss(trainer.model(p), jax.random.fold_in(batch_key, i), 0, None))(
        state.params) for i in range(2)]
    np.testing.assert_allclose(float(value), (float(halves[0][0]) + float(halves[1][0])) / 2, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(grads.W_KQ), (np.asarray(halves[0][1].W_KQ) + np.asarray(halves[1][1].W_KQ)) / 2,
                               rtol=1e-4, atol=1e-7)
    with pytest.raises(MesaoptError, match="divisible"):
        SupervisedConfig(batch_size=64, microbatches=3).validate()
