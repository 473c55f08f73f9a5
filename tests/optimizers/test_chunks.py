"""Chunked training splits its runs over devices (one per CPU core) and gives each run what it would get alone."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.optimizers.chunks import run_sharding, train_in_chunks
from mesaopt.optimizers.contract import FunctionalOptimizer

N_UPDATES = 12


class ToyMetrics(NamedTuple):
    loss: jax.Array


def toy_init(key, target):
    """A run: a weight vector, a key and the target it walks towards (with noise from its own key)."""
    return {"w": jax.random.normal(key, (4,)), "key": jax.random.key_data(key), "target": target}


def toy_update(state, target):
    key = jax.random.wrap_key_data(state["key"])
    key, k_noise = jax.random.split(key)
    w = state["w"] - 0.3 * (state["w"] - target) + 0.01 * jax.random.normal(k_noise, (4,))
    # a scan whose initial carry is a constant, as single-run code writes them (the maze generator does)
    w, _ = jax.lax.scan(lambda carry, x: (carry + x, None), jnp.zeros(4), jnp.stack([w, jnp.zeros(4)]))
    new = {"w": w, "key": jax.random.key_data(key), "target": state["target"]}
    return new, ToyMetrics(loss=jnp.sum((w - target) ** 2))


def train(n_runs: int, devices, sequential_runs: bool = False):
    keys = jax.random.split(jax.random.key(3), n_runs)
    targets = jnp.arange(n_runs * 4, dtype=jnp.float32).reshape(n_runs, 4)
    return train_in_chunks(FunctionalOptimizer(toy_init, toy_update, N_UPDATES, ("loss",)), keys, targets, 3,
                           devices=devices, sequential_runs=sequential_runs)


def test_runs_one_after_the_other_match_runs_side_by_side():
    side_by_side, _, _ = train(3, jax.devices()[:1])
    sequential, metrics, _ = train(3, jax.devices()[:1], sequential_runs=True)
    np.testing.assert_allclose(sequential["w"], side_by_side["w"], rtol=1e-5, atol=1e-6)
    assert not np.allclose(metrics["loss"][0], metrics["loss"][2])  # three different runs, not one thrice


def test_one_device_or_one_run_is_not_split():
    devices = jax.devices()
    assert run_sharding(5, devices[:1]) == (None, 5)
    assert run_sharding(1, devices) == (None, 1)


@pytest.mark.skipif(len(jax.devices()) < 2, reason="needs >= 2 JAX devices (mesaopt asks for one per CPU core)")
def test_runs_are_padded_to_a_multiple_of_the_devices():
    sharding, padded = run_sharding(3, jax.devices()[:2])
    assert padded == 4
    assert len(sharding.mesh.devices) == 2


@pytest.mark.skipif(len(jax.devices()) < 2, reason="needs >= 2 JAX devices (mesaopt asks for one per CPU core)")
@pytest.mark.parametrize("n_runs", [2, 3], ids=["one run per device (no vmap)", "two per device, one padding"])
def test_split_training_matches_training_on_one_device(n_runs):
    alone_state, alone_metrics, alone_timings = train(n_runs, jax.devices()[:1])
    split_state, split_metrics, split_timings = train(n_runs, jax.devices()[:2])
    assert (alone_timings["devices"], split_timings["devices"]) == (1, 2)
    assert split_metrics["loss"].shape == alone_metrics["loss"].shape == (n_runs, N_UPDATES)
    np.testing.assert_allclose(split_metrics["loss"], alone_metrics["loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(split_state["w"], alone_state["w"], rtol=1e-5, atol=1e-6)
    # any padding copy is dropped, and the state comes back as ordinary one-device arrays
    assert split_state["w"].shape == (n_runs, 4)
    assert split_state["w"].sharding.device_set == {jax.devices()[0]}
    # and the runs really differ (a broken split that trained run 0 three times would fail here)
    assert not np.allclose(split_metrics["loss"][0], split_metrics["loss"][1])


def test_a_non_finite_metric_or_state_stops_training_with_one_line():
    from mesaopt.errors import TrainingDivergedError
    from mesaopt.optimizers.chunks import check_finite_metrics, check_finite_state

    finite = {"loss": np.ones((2, 3)), "episode_return": np.full((2, 3), np.nan)}
    check_finite_metrics(finite, ("loss",), first_step=0)  # NaN where NaN is allowed passes
    with pytest.raises(TrainingDivergedError, match=r"loss is nan at step 5 of run 1") as err:
        check_finite_metrics({"loss": np.array([[1.0, 1.0], [1.0, np.nan]])}, ("loss",), first_step=3)
    assert "\n" not in str(err.value) and err.value.exit_code == 3
    check_finite_state({"params": {"w": jnp.ones(3)}, "key": jax.random.key(0)}, step=4)
    with pytest.raises(TrainingDivergedError, match=r"params\.w became non-finite by step 4"):
        check_finite_state({"params": {"b": jnp.ones(2), "w": jnp.array([1.0, jnp.inf])}}, step=4)


def test_diverging_training_raises_before_the_next_chunk():
    from mesaopt.errors import TrainingDivergedError

    def explode(state, target):
        state, metrics = toy_update(state, target)
        return {**state, "w": state["w"] * 1e5}, metrics

    keys = jax.random.split(jax.random.key(0), 2)
    chunks_seen = []
    with pytest.raises(TrainingDivergedError, match="loss is inf at step 5 of run 0"):
        train_in_chunks(FunctionalOptimizer(toy_init, explode, N_UPDATES, ("loss",)), keys, jnp.zeros((2, 4)), 6,
                        on_chunk=lambda done, total, m: chunks_seen.append(done), devices=jax.devices()[:1])
    assert chunks_seen == [1, 2]  # w grows 1e5-fold a step: its squared loss overflows float32 at step 5, in chunk 3
