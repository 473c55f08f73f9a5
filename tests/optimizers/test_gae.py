"""GAE: the reverse-scan implementation against plain-Python references, and episode boundaries."""

import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.optimizers.gae import generalized_advantages

N_STEPS, N_ENVS = 24, 5


def random_batch(seed: int, done_rate: float = 0.15):
    rng = np.random.default_rng(seed)
    rewards = rng.normal(size=(N_STEPS, N_ENVS)).astype(np.float32)
    values = rng.normal(size=(N_STEPS, N_ENVS)).astype(np.float32)
    dones = (rng.random((N_STEPS, N_ENVS)) < done_rate).astype(np.float32)
    dones[:, 0] = 0.0  # one environment never ends: it bootstraps from last_value
    dones[N_STEPS - 1, 1] = 1.0  # one ends on the last step: last_value must not count
    last_value = rng.normal(size=N_ENVS).astype(np.float32)
    return rewards, values, dones, last_value


def gae_reference(rewards, values, dones, last_value, gamma, lam):
    """Definition as a sum: A_t = sum_l (gamma lam)^l delta_{t+l}, stopping after the step that ends the episode."""
    n_steps, n_envs = rewards.shape
    advantages = np.zeros((n_steps, n_envs))
    for env in range(n_envs):
        for t in range(n_steps):
            total, weight = 0.0, 1.0
            for u in range(t, n_steps):
                next_value = last_value[env] if u + 1 == n_steps else values[u + 1, env]
                bootstrap = 0.0 if dones[u, env] else gamma * next_value
                total += weight * (rewards[u, env] + bootstrap - values[u, env])
                if dones[u, env]:
                    break
                weight *= gamma * lam
            advantages[t, env] = total
    return advantages


def monte_carlo_returns(rewards, dones, last_value, gamma):
    """Discounted return to the end of each episode (bootstrapped with last_value if it runs past the batch)."""
    n_steps, n_envs = rewards.shape
    returns = np.zeros((n_steps, n_envs))
    for env in range(n_envs):
        for t in range(n_steps):
            total, discount = 0.0, 1.0
            for u in range(t, n_steps):
                total += discount * rewards[u, env]
                discount *= gamma
                if dones[u, env]:
                    break
            else:
                total += discount * last_value[env]
            returns[t, env] = total
    return returns


def run_gae(rewards, values, dones, last_value, gamma, lam):
    truncs = np.zeros_like(dones)
    advantages, targets = generalized_advantages(
        jnp.asarray(rewards), jnp.asarray(values), jnp.asarray(dones), jnp.asarray(truncs), jnp.asarray(last_value),
        gamma, lam,
    )
    return np.asarray(advantages, np.float64), np.asarray(targets, np.float64)


@pytest.mark.parametrize("gamma, lam", [(0.99, 0.95), (0.9, 0.5), (0.99, 0.0), (0.95, 1.0), (1.0, 1.0)])
def test_scan_matches_python_reference(gamma, lam):
    rewards, values, dones, last_value = random_batch(seed=int(100 * gamma + 10 * lam))
    assert dones[:, 2:].sum() >= 3  # episode ends really are sprinkled in
    advantages, targets = run_gae(rewards, values, dones, last_value, gamma, lam)
    expected = gae_reference(rewards, values, dones, last_value, gamma, lam)
    np.testing.assert_allclose(advantages, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(targets, expected + values, rtol=1e-4, atol=1e-4)


def test_lambda_zero_is_one_step_td():
    rewards, values, dones, last_value = random_batch(seed=1)
    gamma = 0.97
    advantages, _ = run_gae(rewards, values, dones, last_value, gamma, 0.0)
    next_values = np.concatenate([values[1:], last_value[None]])
    td = rewards + gamma * next_values * (1 - dones) - values
    np.testing.assert_allclose(advantages, td, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("gamma", [0.9, 1.0])
def test_lambda_one_is_monte_carlo_return_minus_value(gamma):
    rewards, values, dones, last_value = random_batch(seed=2)
    advantages, targets = run_gae(rewards, values, dones, last_value, gamma, 1.0)
    returns = monte_carlo_returns(rewards, dones, last_value, gamma)
    np.testing.assert_allclose(advantages, returns - values, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(targets, returns, rtol=1e-4, atol=1e-4)


def test_nothing_after_an_episode_end_leaks_backwards():
    rewards, values, dones, last_value = random_batch(seed=3, done_rate=0.0)
    end = 9
    dones[end, :] = 1.0
    before, _ = run_gae(rewards, values, dones, last_value, 0.99, 0.95)
    rng = np.random.default_rng(4)
    rewards[end + 1 :] = rng.normal(size=rewards[end + 1 :].shape) * 100
    values[end + 1 :] = rng.normal(size=values[end + 1 :].shape) * 100  # includes V(s_{end+1}), the reset state
    after, _ = run_gae(rewards, values, dones, last_value * 100, 0.99, 0.95)
    np.testing.assert_array_equal(after[: end + 1], before[: end + 1])
    assert not np.allclose(after[end + 1 :], before[end + 1 :])  # the later episode did change
    # the ending step's advantage is its reward minus its value: no bootstrap across the boundary
    np.testing.assert_allclose(after[end], rewards[end] - values[end], rtol=1e-5, atol=1e-6)


def test_truncation_bootstraps_from_the_value_it_reached():
    rewards, values, dones, last_value = random_batch(seed=5)
    gamma, lam = 0.97, 0.9
    rng = np.random.default_rng(6)
    truncated = dones * (rng.random(dones.shape) < 0.5)  # half the ends are time limits
    assert truncated.sum() >= 3 and (dones - truncated).sum() >= 3
    truncation_values = (truncated * rng.normal(size=dones.shape)).astype(np.float32)
    advantages, targets = generalized_advantages(
        *(jnp.asarray(a) for a in (rewards, values, dones, truncated, last_value)), gamma, lam,
        truncation_values=jnp.asarray(truncation_values),
    )
    # reference: a truncated step bootstraps from its truncation value, a terminated one from 0
    expected = np.zeros(rewards.shape)
    for env in range(N_ENVS):
        for t in range(N_STEPS):
            total, weight = 0.0, 1.0
            for u in range(t, N_STEPS):
                next_value = last_value[env] if u + 1 == N_STEPS else values[u + 1, env]
                bootstrap = gamma * truncation_values[u, env] if dones[u, env] else gamma * next_value
                total += weight * (rewards[u, env] + bootstrap - values[u, env])
                if dones[u, env]:
                    break
                weight *= gamma * lam
            expected[t, env] = total
    np.testing.assert_allclose(advantages, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(targets, expected + values, rtol=1e-4, atol=1e-4)
    plain, _ = run_gae(rewards, values, dones, last_value, gamma, lam)
    assert not np.allclose(advantages, plain, atol=1e-3)  # the bootstrap changed the truncated episodes
    zeros, _ = generalized_advantages(
        *(jnp.asarray(a) for a in (rewards, values, dones, truncated, last_value)), gamma, lam,
        truncation_values=jnp.zeros_like(jnp.asarray(truncation_values)),
    )
    np.testing.assert_array_equal(np.asarray(zeros, np.float64), plain)  # value 0: a termination, bit for bit
