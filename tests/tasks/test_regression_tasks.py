"""In-context linear regression tasks and the closed-form reference learners, checked against direct NumPy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.tasks.reference_learners import (
    LEARNER_NAMES,
    DiscreteMMSE,
    GradientDescent,
    NearestNeighbours,
    Ridge,
    averaging,
    best_gd_step_size,
    least_squares,
    make_learner,
    predict_every_position,
    predict_query,
)
from mesaopt.tasks.regression import (
    INPUT_DISTRIBUTIONS,
    Prompts,
    RegressionTask,
    batch_key,
    draw_task_pool,
    normalized_squared_error,
    sample_prompts,
    skewed_scales,
)

# ---------------------------------------------------------------------------------------------------- tasks


def test_prompt_shapes_fresh_and_pooled():
    task = RegressionTask(d=3, n_context=5)
    p = sample_prompts(jax.random.key(0), task, 4)
    assert isinstance(p, Prompts)
    assert task.n_examples == 6
    assert p.xs.shape == (4, 6, 3) and p.ys.shape == (4, 6) and p.ws.shape == (4, 3)
    pool = draw_task_pool(jax.random.key(1), RegressionTask(d=3, n_context=5, pool_size=7))
    assert pool.shape == (7, 3)
    q = sample_prompts(jax.random.key(0), task, 4, pool=pool)
    assert q.xs.shape == (4, 6, 3) and q.ys.shape == (4, 6) and q.ws.shape == (4, 3)


def test_draw_task_pool_size_override_and_missing_size():
    task = RegressionTask(d=2, pool_size=3)
    assert draw_task_pool(jax.random.key(0), task).shape == (3, 2)
    assert draw_task_pool(jax.random.key(0), task, size=9).shape == (9, 2)
    with pytest.raises(MesaoptError):
        draw_task_pool(jax.random.key(0), RegressionTask(d=2))  # no pool_size, no size
    with pytest.raises(MesaoptError):
        draw_task_pool(jax.random.key(0), task, size=0)


@pytest.mark.parametrize("dist", INPUT_DISTRIBUTIONS)
def test_noiseless_labels_are_exactly_linear(dist):
    task = RegressionTask(d=4, n_context=6, noise_std=0.0, input_dist=dist)
    p = sample_prompts(jax.random.key(3), task, 8)
    np.testing.assert_array_equal(np.asarray(p.ys), np.asarray(jnp.einsum("bnd,bd->bn", p.xs, p.ws)))
    expected = np.einsum("bnd,bd->bn", np.asarray(p.xs, np.float64), np.asarray(p.ws, np.float64))
    np.testing.assert_allclose(np.asarray(p.ys), expected, rtol=1e-5, atol=1e-5)


def test_label_noise_has_the_configured_std():
    task = RegressionTask(d=3, n_context=9, noise_std=0.3)
    p = sample_prompts(jax.random.key(4), task, 2000)
    resid = np.asarray(p.ys) - np.einsum("bnd,bd->bn", np.asarray(p.xs), np.asarray(p.ws))
    assert abs(resid.std() - 0.3) < 0.3 * 0.03
    assert abs(resid.mean()) < 0.01


def test_batches_are_a_pure_function_of_key_and_step():
    task = RegressionTask(d=3, n_context=4, noise_std=0.1)
    key = jax.random.key(5)
    a, b = sample_prompts(key, task, 5), sample_prompts(key, task, 5)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    s0 = sample_prompts(batch_key(key, 0), task, 5)
    s0_again = sample_prompts(batch_key(key, 0), task, 5)
    s1 = sample_prompts(batch_key(key, 1), task, 5)
    np.testing.assert_array_equal(np.asarray(s0.xs), np.asarray(s0_again.xs))
    np.testing.assert_array_equal(np.asarray(s0.ys), np.asarray(s0_again.ys))
    assert not np.allclose(np.asarray(s0.xs), np.asarray(s1.xs))
    assert not np.allclose(np.asarray(s0.ws), np.asarray(s1.ws))
    assert not np.allclose(np.asarray(s0.ys), np.asarray(s1.ys))


def _pool_row_index(ws, pool):
    """Index of the pool row each w equals (fails if some w is not a pool row)."""
    ws, pool = np.asarray(ws), np.asarray(pool)
    match = np.all(ws[:, None, :] == pool[None, :, :], axis=-1)  # (B, M)
    assert match.any(axis=1).all(), "a task weight vector is not a row of the pool"
    return match.argmax(axis=1)


def test_pool_sampling_uses_only_pool_rows():
    task = RegressionTask(d=3, n_context=4, pool_size=6)
    pool = draw_task_pool(jax.random.key(6), task)
    p = sample_prompts(jax.random.key(7), task, 200, pool=pool)
    idx = _pool_row_index(p.ws, pool)
    assert set(idx.tolist()) == set(range(6))  # every row gets used over 200 draws
    np.testing.assert_allclose(
        np.asarray(p.ys), np.einsum("bnd,bd->bn", np.asarray(p.xs), np.asarray(pool)[idx]), rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("traced", [False, True])
def test_pool_sampling_with_n_active_uses_only_the_first_rows(traced):
    task = RegressionTask(d=3, n_context=4, pool_size=6)
    pool = draw_task_pool(jax.random.key(8), task)
    if traced:  # one compiled program serving several pool sizes
        p = jax.jit(lambda k, m: sample_prompts(k, task, 200, pool=pool, n_active=m))(jax.random.key(9), 2)
    else:
        p = sample_prompts(jax.random.key(9), task, 200, pool=pool, n_active=2)
    idx = _pool_row_index(p.ws, pool)
    assert set(idx.tolist()) == {0, 1}


def test_orthant_context_shares_one_orthant_but_the_query_does_not():
    task = RegressionTask(d=4, n_context=8, input_dist="orthant")
    xs = np.asarray(sample_prompts(jax.random.key(10), task, 300).xs)
    signs = np.sign(xs)
    ctx, query = signs[:, :-1], signs[:, -1]
    assert (ctx == ctx[:, :1]).all()  # per prompt and dimension, one sign across every context row
    # the orthant itself varies between prompts and dimensions
    assert 0.3 < (ctx[:, 0] > 0).mean() < 0.7
    # the query is unconstrained: it agrees with the context orthant only about half the time
    agree = (query == ctx[:, 0]).mean()
    assert 0.35 < agree < 0.65


def test_skewed_scales_decrease_with_trace_d_and_match_the_inputs():
    for d in (1, 2, 5, 10):
        var = np.asarray(skewed_scales(d), np.float64) ** 2
        assert var.shape == (d,)
        assert np.isclose(var.sum(), d, rtol=1e-5)
        assert (np.diff(var) < 0).all()
        np.testing.assert_allclose(var / var[0], 1.0 / np.arange(1, d + 1) ** 2, rtol=1e-5)
    task = RegressionTask(d=5, n_context=9, input_dist="skewed")
    xs = np.asarray(sample_prompts(jax.random.key(11), task, 4000).xs).reshape(-1, 5)
    np.testing.assert_allclose(xs.var(axis=0), np.asarray(skewed_scales(5)) ** 2, rtol=0.05)


def test_uniform_inputs_lie_in_minus_one_one():
    task = RegressionTask(d=3, n_context=9, input_dist="uniform")
    xs = np.asarray(sample_prompts(jax.random.key(12), task, 500).xs)
    assert xs.min() >= -1.0 and xs.max() <= 1.0
    assert xs.min() < -0.98 and xs.max() > 0.98
    assert abs(xs.var() - 1.0 / 3.0) < 0.01  # U(-1, 1), not N(0, 1)


@pytest.mark.parametrize("dist", INPUT_DISTRIBUTIONS)
def test_input_scale_multiplies_every_input(dist):
    base = RegressionTask(d=3, n_context=5, input_dist=dist)
    scaled = RegressionTask(d=3, n_context=5, input_dist=dist, input_scale=2.5)
    a = sample_prompts(jax.random.key(13), base, 6)
    b = sample_prompts(jax.random.key(13), scaled, 6)
    np.testing.assert_allclose(np.asarray(b.xs), 2.5 * np.asarray(a.xs), rtol=1e-6)
    np.testing.assert_allclose(np.asarray(b.ws), np.asarray(a.ws))
    np.testing.assert_allclose(np.asarray(b.ys), 2.5 * np.asarray(a.ys), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"d": 0}, "d"),
        ({"d": -2}, "d"),
        ({"pool_size": 0}, "pool_size"),
        ({"pool_size": -1}, "pool_size"),
        ({"input_dist": "cauchy"}, "cauchy"),
        ({"noise_std": -0.1}, "noise_std"),
        ({"n_context": -1}, "n_context"),
    ],
)
def test_validate_rejects_impossible_values(kwargs, word):
    with pytest.raises(MesaoptError, match=word):
        RegressionTask(**kwargs).validate()


def test_validate_accepts_sensible_values():
    for dist in INPUT_DISTRIBUTIONS:
        RegressionTask(d=1, n_context=0, noise_std=0.0, input_dist=dist, pool_size=1).validate()
    RegressionTask().validate()


def test_unknown_input_dist_error_lists_the_allowed_ones():
    with pytest.raises(MesaoptError) as err:
        RegressionTask(input_dist="cauchy").validate()
    for name in INPUT_DISTRIBUTIONS:
        assert name in str(err.value)


def test_normalized_squared_error():
    err = normalized_squared_error(jnp.array([1.0, 0.0]), jnp.array([3.0, 0.0]), d=4)
    np.testing.assert_allclose(np.asarray(err), [1.0, 0.0])


# ---------------------------------------------------------------------------------------------------- learners

N, D = 8, 3
MASKS = {
    "prefix5": np.arange(N) < 5,  # over-determined (k > d)
    "prefix2": np.arange(N) < 2,  # under-determined (k < d): minimum-norm solution
    "scattered": np.isin(np.arange(N), [0, 3, 4, 6]),
}


def _prompt(seed, noise=0.2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N, D)).astype(np.float32)
    w = rng.normal(size=D).astype(np.float32)
    y = (X @ w + noise * rng.normal(size=N)).astype(np.float32)
    xq = rng.normal(size=D).astype(np.float32)
    return X, y, xq


def _call(learner, X, y, mask, xq):
    return float(learner(jnp.asarray(X), jnp.asarray(y), jnp.asarray(mask, jnp.float32), jnp.asarray(xq)))


def _active(X, y, mask):
    return np.asarray(X, np.float64)[mask], np.asarray(y, np.float64)[mask]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_least_squares_matches_pinv(seed, mask_name):
    X, y, xq = _prompt(seed)
    mask = MASKS[mask_name]
    Xk, yk = _active(X, y, mask)
    expected = xq @ np.linalg.pinv(Xk) @ yk
    assert np.isclose(_call(least_squares, X, y, mask, xq), expected, rtol=1e-3, atol=1e-4)
    if mask.sum() < D:  # under-determined: interpolates the context
        for i in np.flatnonzero(mask):
            assert np.isclose(_call(least_squares, X, y, mask, X[i]), y[i], rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_ridge_matches_closed_form(seed, mask_name):
    X, y, xq = _prompt(seed, noise=0.5)
    mask = MASKS[mask_name]
    Xk, yk = _active(X, y, mask)
    lam = 0.5**2
    expected = xq @ np.linalg.solve(Xk.T @ Xk + lam * np.eye(D), Xk.T @ yk)
    assert np.isclose(_call(Ridge(lam), X, y, mask, xq), expected, rtol=1e-4, atol=1e-5)
    learner = make_learner("ridge", RegressionTask(d=D, n_context=N - 1, noise_std=0.5))
    assert np.isclose(_call(learner, X, y, mask, xq), expected, rtol=1e-4, atol=1e-5)
    # λ = noise_var / prior_var
    expected2 = xq @ np.linalg.solve(Xk.T @ Xk + (0.25 / 2.0) * np.eye(D), Xk.T @ yk)
    assert np.isclose(_call(Ridge(0.25, prior_var=2.0), X, y, mask, xq), expected2, rtol=1e-4, atol=1e-5)
    # λ = 0 is least squares
    assert np.isclose(_call(Ridge(0.0), X, y, mask, xq), xq @ np.linalg.pinv(Xk) @ yk, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("mask_name", list(MASKS))
@pytest.mark.parametrize("steps", [1, 3])
def test_gradient_descent_matches_hand_written_steps(seed, mask_name, steps):
    X, y, xq = _prompt(seed)
    mask = MASKS[mask_name]
    Xk, yk = _active(X, y, mask)
    eta, n_active = 0.3, len(yk)
    w = np.zeros(D)
    for _ in range(steps):  # L(w) = 1/(2N) Σ (w·x_i − y_i)², ∇L = Xᵀ(Xw − y)/N
        w = w - eta * Xk.T @ (Xk @ w - yk) / n_active
    assert np.isclose(_call(GradientDescent(eta, steps), X, y, mask, xq), xq @ w, rtol=1e-4, atol=1e-5)
    learner = make_learner("gd", RegressionTask(d=D), gd_step_size=eta, gd_steps=steps)
    assert np.isclose(_call(learner, X, y, mask, xq), xq @ w, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_averaging_is_the_mean_of_y_x(seed, mask_name):
    X, y, xq = _prompt(seed)
    mask = MASKS[mask_name]
    Xk, yk = _active(X, y, mask)
    expected = xq @ np.mean(yk[:, None] * Xk, axis=0)
    assert np.isclose(_call(averaging, X, y, mask, xq), expected, rtol=1e-4, atol=1e-5)
    assert np.isclose(_call(GradientDescent(1.0, 1), X, y, mask, xq), expected, rtol=1e-4, atol=1e-5)
    assert _call(averaging, X, y, np.zeros(N, bool), xq) == 0.0


def _knn_numpy(X, y, mask, xq, k=3):
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        return 0.0
    dist = np.sum((X[idx].astype(np.float64) - xq) ** 2, axis=1)
    nearest = idx[np.argsort(dist)[:k]]
    return float(np.mean(y[nearest]))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n_active", [0, 1, 2, 3, 5, 7])
def test_three_nearest_neighbours_brute_force(seed, n_active):
    X, y, xq = _prompt(seed)
    mask = np.arange(N) < n_active
    # an inactive row sitting on the query with a huge label must be ignored
    X[-1], y[-1] = xq, 1000.0
    expected = _knn_numpy(X, y, mask, xq)
    got = _call(NearestNeighbours(3), X, y, mask, xq)
    assert np.isclose(got, expected, rtol=1e-5, atol=1e-6)
    assert np.isclose(_call(make_learner("knn3", RegressionTask(d=D)), X, y, mask, xq), expected, rtol=1e-5, atol=1e-6)
    if n_active == 0:
        assert got == 0.0


def test_nearest_neighbours_with_fewer_rows_than_k():
    X, y, xq = _prompt(3)
    X, y = X[:2], y[:2]
    mask = np.ones(2, bool)
    assert np.isclose(_call(NearestNeighbours(3), X, y, mask, xq), y.mean(), rtol=1e-5)


def _dmmse_numpy(X, y, mask, xq, pool, noise_var, n_active=None):
    Xk, yk = _active(X, y, mask)
    pool = np.asarray(pool, np.float64)
    m = len(pool) if n_active is None else n_active
    logits = -np.sum((Xk @ pool[:m].T - yk[:, None]) ** 2, axis=0) / (2 * max(noise_var, 1e-4))
    post = np.exp(logits - logits.max())
    post /= post.sum()
    return xq @ (post @ pool[:m]), post


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("mask_name", list(MASKS))
def test_dmmse_is_the_posterior_mean_over_the_pool(seed, mask_name):
    rng = np.random.default_rng(100 + seed)
    pool = rng.normal(size=(6, D)).astype(np.float32)
    X, _, xq = _prompt(seed)
    noise_var = 1.0
    y = (X @ pool[2] + np.sqrt(noise_var) * rng.normal(size=N)).astype(np.float32)
    mask = MASKS[mask_name]
    expected, post = _dmmse_numpy(X, y, mask, xq, pool, noise_var)
    assert 0.0 < post.max() < 0.999  # a genuinely mixed posterior, so the weights matter
    got = _call(DiscreteMMSE(jnp.asarray(pool), noise_var), X, y, mask, xq)
    assert np.isclose(got, expected, rtol=1e-4, atol=1e-5)
    learner = make_learner("dmmse", RegressionTask(d=D, noise_std=1.0), pool=jnp.asarray(pool))
    assert np.isclose(_call(learner, X, y, mask, xq), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_dmmse_ignores_inactive_pool_rows(seed):
    rng = np.random.default_rng(200 + seed)
    pool = rng.normal(size=(6, D)).astype(np.float32)
    X, _, xq = _prompt(seed)
    y = (X @ pool[4]).astype(np.float32)  # the true task is an inactive row
    mask = np.arange(N) < 6
    expected, _ = _dmmse_numpy(X, y, mask, xq, pool, 0.25, n_active=3)
    for learner in (
        DiscreteMMSE(jnp.asarray(pool), 0.25, 3),
        make_learner("dmmse", RegressionTask(d=D, noise_std=0.5), pool=jnp.asarray(pool), n_active=3),
    ):
        got = _call(learner, X, y, mask, xq)
        assert np.isclose(got, expected, rtol=1e-4, atol=1e-4)
    # the inactive rows can be anything
    other = pool.copy()
    other[3:] = rng.normal(size=(3, D))
    assert np.isclose(_call(DiscreteMMSE(jnp.asarray(other), 0.25, 3), X, y, mask, xq), expected, rtol=1e-4, atol=1e-4)
    # with the whole pool active a sharp posterior finds the true task; with 3 active it cannot
    full = _call(DiscreteMMSE(jnp.asarray(pool), 0.01), X, y, mask, xq)
    assert np.isclose(full, xq @ pool[4], atol=1e-3)
    assert not np.isclose(_call(DiscreteMMSE(jnp.asarray(pool), 0.01, 3), X, y, mask, xq), xq @ pool[4], atol=5e-2)
    # a traced n_active behaves the same
    traced = jax.jit(
        lambda m: DiscreteMMSE(jnp.asarray(pool), 0.25, m)(
            jnp.asarray(X), jnp.asarray(y), jnp.asarray(mask, jnp.float32), jnp.asarray(xq)
        )
    )(3)
    assert np.isclose(float(traced), expected, rtol=1e-4, atol=1e-4)


def test_dmmse_noiseless_recovers_the_active_true_task():
    rng = np.random.default_rng(7)
    pool = rng.normal(size=(10, D)).astype(np.float32)
    X, _, xq = _prompt(7)
    y = (X @ pool[1]).astype(np.float32)
    got = _call(DiscreteMMSE(jnp.asarray(pool), 0.0), X, y, MASKS["prefix5"], xq)
    assert np.isfinite(got) and np.isclose(got, xq @ pool[1], rtol=1e-4, atol=1e-4)


# ---------------------------------------------------------------------------------------------------- prediction drivers


def _all_learners(pool):
    return {
        "least_squares": least_squares,
        "ridge": Ridge(0.25),
        "gd3": GradientDescent(0.3, 3),
        "averaging": averaging,
        "knn3": NearestNeighbours(3),
        "dmmse": DiscreteMMSE(pool, 0.25),
    }


@pytest.fixture(scope="module")
def small_batch():
    task = RegressionTask(d=3, n_context=6, noise_std=0.5, pool_size=5)
    pool = draw_task_pool(jax.random.key(20), task)
    p = sample_prompts(jax.random.key(21), task, 3, pool=pool)
    return pool, p


@pytest.mark.parametrize("name", ["least_squares", "ridge", "gd3", "averaging", "knn3", "dmmse"])
def test_predict_every_position_uses_only_earlier_rows(small_batch, name):
    pool, p = small_batch
    learner = _all_learners(pool)[name]
    B, n = p.ys.shape
    preds = np.asarray(predict_every_position(learner, p.xs, p.ys))
    assert preds.shape == (B, n)
    for i in range(n):  # matches a direct call with context j < i
        mask = (jnp.arange(n) < i).astype(jnp.float32)
        direct = jax.vmap(lambda X, y, m=mask, i=i: learner(X, y, m, X[i]))(p.xs, p.ys)
        np.testing.assert_allclose(preds[:, i], np.asarray(direct), rtol=1e-4, atol=1e-5)
    for i in (0, 3, n - 1):  # labels at positions ≥ i do not change prediction i
        ys2 = p.ys.at[:, i:].add(7.0)
        preds2 = np.asarray(predict_every_position(learner, p.xs, ys2))
        np.testing.assert_allclose(preds2[:, : i + 1], preds[:, : i + 1], rtol=1e-5, atol=1e-5)
        if i < n - 1:  # ... but they do change the later ones
            assert not np.allclose(preds2[:, i + 1 :], preds[:, i + 1 :])


def test_predict_every_position_least_squares_predicts_zero_without_context(small_batch):
    _, p = small_batch
    preds = np.asarray(predict_every_position(least_squares, p.xs, p.ys))
    np.testing.assert_array_equal(preds[:, 0], 0.0)
    assert np.all(preds[:, 1:] != 0.0)


@pytest.mark.parametrize("name", ["least_squares", "ridge", "gd3", "knn3", "dmmse"])
def test_predict_query_uses_all_but_the_last_row(small_batch, name):
    pool, p = small_batch
    learner = _all_learners(pool)[name]
    B, n = p.ys.shape
    got = np.asarray(predict_query(learner, p.xs, p.ys))
    assert got.shape == (B,)
    mask = (jnp.arange(n) < n - 1).astype(jnp.float32)
    direct = jax.vmap(lambda X, y: learner(X, y, mask, X[-1]))(p.xs, p.ys)
    np.testing.assert_allclose(got, np.asarray(direct), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        got, np.asarray(predict_every_position(learner, p.xs, p.ys))[:, -1], rtol=1e-5, atol=1e-6
    )
    # the query label is not seen; the context labels are
    np.testing.assert_allclose(np.asarray(predict_query(learner, p.xs, p.ys.at[:, -1].add(9.0))), got, rtol=1e-6)
    assert not np.allclose(np.asarray(predict_query(learner, p.xs, p.ys.at[:, :-1].add(9.0))), got)


def test_least_squares_query_against_numpy_on_sampled_prompts():
    task = RegressionTask(d=3, n_context=6, noise_std=0.1)
    p = sample_prompts(jax.random.key(22), task, 4)
    got = np.asarray(predict_query(least_squares, p.xs, p.ys))
    xs, ys = np.asarray(p.xs, np.float64), np.asarray(p.ys, np.float64)
    expected = [xs[b, -1] @ np.linalg.pinv(xs[b, :-1]) @ ys[b, :-1] for b in range(4)]
    np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-4)


# ---------------------------------------------------------------------------------------------------- make_learner


def test_make_learner_unknown_name_lists_allowed_names():
    with pytest.raises(MesaoptError) as err:
        make_learner("transformer", RegressionTask())
    for name in LEARNER_NAMES:
        assert name in str(err.value)


def test_make_learner_missing_inputs():
    with pytest.raises(MesaoptError, match="step size"):
        make_learner("gd", RegressionTask())
    with pytest.raises(MesaoptError, match="pool"):
        make_learner("dmmse", RegressionTask())


def test_make_learner_builds_every_name():
    task = RegressionTask(d=D, noise_std=0.5)
    pool = jnp.asarray(np.random.default_rng(0).normal(size=(4, D)), jnp.float32)
    X, y, xq = _prompt(0)
    mask = MASKS["prefix5"]
    for name in LEARNER_NAMES:
        learner = make_learner(name, task, pool=pool, gd_step_size=0.1)
        assert np.isfinite(_call(learner, X, y, mask, xq))
    assert make_learner("gd", task, gd_step_size=0.1, gd_steps=4) == GradientDescent(0.1, 4)
    assert make_learner("ridge", task) == Ridge(0.25)


# ---------------------------------------------------------------------------------------------------- GD step size, ridge


def _query_mse(learner, p):
    return float(jnp.mean((predict_query(learner, p.xs, p.ys) - p.ys[:, -1]) ** 2))


def test_best_gd_step_size_one_step_is_optimal_on_a_fresh_sample():
    task = RegressionTask(d=5, n_context=10)
    eta = best_gd_step_size(jax.random.key(30), task, steps=1, n_prompts=4096)
    assert np.isfinite(eta) and eta > 0
    fresh = sample_prompts(jax.random.key(31), task, 4096)
    err = _query_mse(GradientDescent(eta, 1), fresh)
    assert err < _query_mse(GradientDescent(0.8 * eta, 1), fresh)
    assert err < _query_mse(GradientDescent(1.25 * eta, 1), fresh)


def test_best_gd_step_size_three_steps_beats_one_step():
    task = RegressionTask(d=5, n_context=10)
    eta1 = best_gd_step_size(jax.random.key(32), task, steps=1, n_prompts=4096)
    eta3 = best_gd_step_size(jax.random.key(32), task, steps=3, n_prompts=4096)
    assert np.isfinite(eta3) and eta3 > 0
    fresh = sample_prompts(jax.random.key(33), task, 4096)
    assert _query_mse(GradientDescent(eta3, 3), fresh) < _query_mse(GradientDescent(eta1, 1), fresh)


def test_best_gd_step_size_multi_step_grid_reaches_the_optimum():
    """d=20, n_context=40 (Garg et al.'s setting): the 3-step optimum (≈0.65) must lie inside the search grid."""
    task = RegressionTask(d=20, n_context=40)
    eta = best_gd_step_size(jax.random.key(34), task, steps=3, n_prompts=2048)
    fresh = sample_prompts(jax.random.key(35), task, 2048)
    err = _query_mse(GradientDescent(eta, 3), fresh)
    assert err < _query_mse(GradientDescent(0.8 * eta, 3), fresh)
    assert err < _query_mse(GradientDescent(1.25 * eta, 3), fresh)


def test_ridge_beats_least_squares_with_noise():
    task = RegressionTask(d=5, n_context=5, noise_std=0.5)
    p = sample_prompts(jax.random.key(40), task, 4096)
    ridge = _query_mse(make_learner("ridge", task), p)
    ls = _query_mse(make_learner("least_squares", task), p)
    assert ridge < ls
    assert np.isfinite(ridge)
