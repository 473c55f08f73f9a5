"""Planted positives and negatives for the in-context-learning detectors (which algorithm does a model run?)."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.detectors.icl import (
    crossing_point,
    interpolation_losses,
    linear_probe_r2,
    prediction_distance,
    query_sensitivities,
    relative_prediction_difference,
    sensitivity_agreement,
)
from mesaopt.models.lsa import LinearSelfAttention, balanced, gd_lsa, lsa_predict_queries
from mesaopt.tasks.reference_learners import (
    DiscreteMMSE,
    GradientDescent,
    Ridge,
    best_gd_step_size,
    least_squares,
    predict_query,
)
from mesaopt.tasks.regression import RegressionTask, draw_task_pool, sample_prompts

D = 4
NOISY = RegressionTask(d=D, n_context=8, noise_std=0.5)
BATCH = 64


def as_predict(learner):
    """A reference learner with the detectors' ``predict(X_context, y_context, x_query)`` signature."""
    return lambda X, y, xq: learner(X, y, jnp.ones(X.shape[0]), xq)


def query_predictions(predict, xs, ys):
    """``(B,)`` predictions of each prompt's last example by ``predict(X_context, y_context, x_query)``."""
    return jax.vmap(lambda X, y: predict(X[:-1], y[:-1], X[-1]))(xs, ys)


class RidgeModel:
    """A 'trained model' that is ridge regression, seen only through its predict(X_ctx, y_ctx, x_q)."""

    def __init__(self, noise_var):
        self.ridge = Ridge(noise_var)

    def predict(self, X_ctx, y_ctx, x_query):
        return self.ridge(X_ctx, y_ctx, jnp.ones(X_ctx.shape[0]), x_query)


def constant_predict(value):
    return lambda X, y, xq: jnp.asarray(value, jnp.float32)


@pytest.fixture(scope="session")
def prompts():
    """Fresh-task noisy prompts (d=4, 8 context examples + query)."""
    return sample_prompts(jax.random.key(0), NOISY, BATCH)


@pytest.fixture(scope="session")
def pool():
    return draw_task_pool(jax.random.key(1), NOISY, 4)


@pytest.fixture(scope="session")
def eta_star():
    return best_gd_step_size(jax.random.key(2), NOISY, n_prompts=2048)


@pytest.fixture(scope="session")
def lsa_loss(prompts):
    """Query mean squared error of an LSA layer on the shared prompts (jitted once, reused)."""
    return eqx.filter_jit(lambda m: jnp.mean((lsa_predict_queries(m, prompts.xs, prompts.ys) - prompts.ys[:, -1]) ** 2))


# ------------------------------------------------------------------------- 1. ridge is ridge, not dMMSE


def test_ridge_model_matches_ridge(prompts):
    model = RidgeModel(NOISY.noise_std**2)
    pred = query_predictions(model.predict, prompts.xs, prompts.ys)
    ref = predict_query(Ridge(NOISY.noise_std**2), prompts.xs, prompts.ys)
    assert prediction_distance(pred, ref, D) < 1e-8
    assert relative_prediction_difference(pred, ref) < 1e-5
    agree = sensitivity_agreement(query_sensitivities(model.predict, prompts.xs, prompts.ys),
                                  query_sensitivities(as_predict(Ridge(NOISY.noise_std**2)), prompts.xs, prompts.ys))
    assert agree["cosine"] == pytest.approx(1.0, abs=1e-5)
    assert agree["relative_l2"] < 1e-4


def test_ridge_model_does_not_match_dmmse_on_fresh_tasks(prompts, pool):
    model = RidgeModel(NOISY.noise_std**2)
    dmmse = DiscreteMMSE(pool, NOISY.noise_std**2)
    pred = query_predictions(model.predict, prompts.xs, prompts.ys)
    ref = predict_query(dmmse, prompts.xs, prompts.ys)
    assert prediction_distance(pred, ref, D) > 0.1
    agree = sensitivity_agreement(query_sensitivities(model.predict, prompts.xs, prompts.ys),
                                  query_sensitivities(as_predict(dmmse), prompts.xs, prompts.ys))
    assert agree["cosine"] < 0.9 and agree["relative_l2"] > 0.3


# ------------------------------------------------------------------------- 2. a constant predictor matches nothing


@pytest.mark.parametrize("value", [0.0, 2.0])
def test_constant_predictor_matches_nothing(prompts, value):
    const = constant_predict(value)
    pred = query_predictions(const, prompts.xs, prompts.ys)
    assert pred.shape == (BATCH,)
    grads = query_sensitivities(const, prompts.xs, prompts.ys)
    assert grads.shape == (BATCH, D) and bool(jnp.all(grads == 0))
    for learner in (least_squares, Ridge(NOISY.noise_std**2), GradientDescent(0.6, 1)):
        ref = predict_query(learner, prompts.xs, prompts.ys)
        assert prediction_distance(pred, ref, D) > 0.3
        assert relative_prediction_difference(pred, ref) > 0.5
        agree = sensitivity_agreement(grads, query_sensitivities(as_predict(learner), prompts.xs, prompts.ys))
        assert agree["cosine"] == 0.0  # zero sensitivities: reported as 0, not NaN
        assert agree["relative_l2"] == pytest.approx(1.0)


def test_zero_prediction_scores_one_relative_difference(prompts):
    ref = predict_query(least_squares, prompts.xs, prompts.ys)
    assert relative_prediction_difference(jnp.zeros_like(ref), ref) == pytest.approx(1.0)
    assert relative_prediction_difference(jnp.zeros(3), jnp.zeros(3)) == 0.0  # no division by zero


# ------------------------------------------------------------------------- 3. gd_lsa is one GD step; random LSA is not


def test_gd_lsa_matches_one_gd_step_exactly(prompts, eta_star):
    layer = gd_lsa(D, eta_star)
    gd = GradientDescent(eta_star, 1)
    pred = lsa_predict_queries(layer, prompts.xs, prompts.ys)
    ref = predict_query(gd, prompts.xs, prompts.ys)
    assert relative_prediction_difference(pred, ref) < 1e-5
    agree = sensitivity_agreement(query_sensitivities(layer, prompts.xs, prompts.ys),
                                  query_sensitivities(as_predict(gd), prompts.xs, prompts.ys))
    assert agree["cosine"] > 0.9999


@pytest.mark.parametrize("seed", [1, 2])
def test_random_lsa_does_not_match_gd(prompts, eta_star, seed):
    layer = LinearSelfAttention(D, key=jax.random.key(seed))
    gd = GradientDescent(eta_star, 1)
    agree = sensitivity_agreement(query_sensitivities(layer, prompts.xs, prompts.ys),
                                  query_sensitivities(as_predict(gd), prompts.xs, prompts.ys))
    assert agree["cosine"] < 0.9
    pred = lsa_predict_queries(layer, prompts.xs, prompts.ys)
    assert relative_prediction_difference(pred, predict_query(gd, prompts.xs, prompts.ys)) > 0.5


# ------------------------------------------------------------------------- 4. interpolation paths


def test_interpolation_from_gd_lsa_to_itself_is_flat(lsa_loss, eta_star):
    layer = gd_lsa(D, eta_star)
    alphas, losses = interpolation_losses(lsa_loss, layer, layer, n_points=5)
    np.testing.assert_allclose(alphas, np.linspace(0.0, 1.0, 5))
    assert losses.shape == (5,)
    assert np.ptp(losses) < 1e-5 * losses[0]


def test_interpolation_from_gd_lsa_to_random_layer_is_not_flat(lsa_loss, eta_star):
    layer, rand = gd_lsa(D, eta_star), LinearSelfAttention(D, key=jax.random.key(3))
    alphas, losses = interpolation_losses(lsa_loss, layer, rand, n_points=5)
    assert alphas[0] == 0.0 and alphas[-1] == 1.0
    assert losses[0] == pytest.approx(float(lsa_loss(layer)), rel=1e-6)
    assert losses[-1] == pytest.approx(float(lsa_loss(rand)), rel=1e-6)
    assert losses[-1] - losses[0] > 0.5  # the random end is much worse than GD
    assert np.ptp(losses) > 0.5


def test_unbalanced_rescalings_of_one_function_show_a_barrier_until_balanced(lsa_loss, eta_star):
    """(W_KQ c, W_PV / c) is the same function for every c, yet the straight line between two such rescalings
    leaves it; after balanced() both ends coincide and the path is flat."""
    layer = gd_lsa(D, eta_star)
    a = eqx.tree_at(lambda m: (m.W_KQ, m.W_PV), layer, (layer.W_KQ * 3.0, layer.W_PV / 3.0))
    b = eqx.tree_at(lambda m: (m.W_KQ, m.W_PV), layer, (layer.W_KQ / 3.0, layer.W_PV * 3.0))
    _, raw = interpolation_losses(lsa_loss, a, b, n_points=5)
    assert raw[0] == pytest.approx(raw[-1], rel=1e-5)
    assert raw.max() - raw[0] > 0.1
    _, fixed = interpolation_losses(lsa_loss, balanced(a), balanced(b), n_points=5)
    assert np.ptp(fixed) < 1e-5 * fixed[0]


# ------------------------------------------------------------------------- 5. balanced()


def test_balanced_keeps_predictions_and_equalizes_norms(prompts):
    layer = LinearSelfAttention(D, key=jax.random.key(4), init_scale=1.0)
    layer = eqx.tree_at(lambda m: m.W_PV, layer, layer.W_PV * 25.0)  # very unequal norms
    assert float(jnp.linalg.norm(layer.W_PV)) > 10 * float(jnp.linalg.norm(layer.W_KQ))
    out = balanced(layer)
    np.testing.assert_allclose(lsa_predict_queries(out, prompts.xs, prompts.ys),
                               lsa_predict_queries(layer, prompts.xs, prompts.ys), rtol=1e-4, atol=1e-4)
    assert float(jnp.linalg.norm(out.W_KQ)) == pytest.approx(float(jnp.linalg.norm(out.W_PV)), rel=1e-5)


# ------------------------------------------------------------------------- 6. linear probes


def test_linear_probe_decodes_a_linear_encoding():
    rng = np.random.default_rng(0)
    targets = rng.normal(size=(400, 3))
    features = targets @ rng.normal(size=(3, 16)) + 0.01 * rng.normal(size=(400, 16))
    assert linear_probe_r2(features, targets) > 0.95


def test_linear_probe_finds_nothing_in_independent_features():
    rng = np.random.default_rng(1)
    targets, features = rng.normal(size=(400, 3)), rng.normal(size=(400, 16))
    assert linear_probe_r2(features, targets) < 0.1


# ------------------------------------------------------------------------- 7. crossing point


def test_crossing_point_interpolates_in_log2_between_grid_points():
    # diff = a − b = [2, 1, −3, −3, −3]: crosses between x = 2 and x = 4, a quarter of the way in log2 space
    xs = [1, 2, 4, 8, 16]
    got = crossing_point(xs, [5, 4, 0, 0, 0], [3, 3, 3, 3, 3])
    assert got == pytest.approx(2 ** 1.25)  # 2.378…, not the linear-in-x 2.25
    assert crossing_point(xs, [1, 0, -1, -1, -1], [0, 0, 0, 0, 0]) == pytest.approx(2.0)  # touches 0 at x = 2


def test_crossing_point_none_when_never_below():
    assert crossing_point([1, 2, 4, 8], [3, 2, 1, 0], [0, 0, 0, 0]) is None


def test_crossing_point_first_grid_value_when_already_below():
    assert crossing_point([4, 8, 16], [0, 0, 0], [1, 1, 1]) == 4.0


# ------------------------------------------------------------------------- 8. query sensitivities


def test_query_sensitivities_of_a_linear_predictor_are_its_weights(prompts):
    v = jnp.array([0.5, -1.0, 2.0, 0.25])
    grads = query_sensitivities(lambda X, y, xq: xq @ v, prompts.xs, prompts.ys)
    np.testing.assert_allclose(grads, jnp.broadcast_to(v, (BATCH, D)), rtol=1e-6)


def test_query_sensitivities_see_the_context_but_not_the_query_label(prompts):
    grads = query_sensitivities(lambda X, y, xq: xq @ (X.T @ y), prompts.xs, prompts.ys)
    expected = jnp.einsum("bnd,bn->bd", prompts.xs[:, :-1], prompts.ys[:, :-1])
    np.testing.assert_allclose(grads, expected, rtol=1e-5, atol=1e-5)
    other = query_sensitivities(lambda X, y, xq: xq @ (X.T @ y), prompts.xs, prompts.ys.at[:, -1].set(99.0))
    np.testing.assert_array_equal(grads, other)
