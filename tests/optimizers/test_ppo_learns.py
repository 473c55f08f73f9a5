"""PPO must learn: a trained agent beats a uniformly random policy by a wide margin on a small maze."""

import jax
import pytest

from mesaopt.detectors import measure_episode_outcomes, summarize_outcomes
from mesaopt.envs import Maze, misgeneralization_params
from mesaopt.envs.planners import UniformPolicy
from mesaopt.models import MLPActorCritic
from mesaopt.optimizers import PPOConfig, make_ppo

SIZE, STEPS = 5, 60_000


@pytest.fixture(scope="module")
def trained():
    env = Maze(SIZE, obs_format="egocentric")
    train, _ = misgeneralization_params(SIZE, 1)
    cfg = PPOConfig(n_envs=32, n_steps=16, learning_rate=2e-3)
    ppo = make_ppo(cfg, env, lambda k: MLPActorCritic(env.obs_shape, 4, key=k), STEPS)
    result = jax.jit(ppo.train)(jax.random.key(0), train)
    return env, train, ppo, result


def _goal_rate(env, params, policy):
    out = jax.jit(lambda k: summarize_outcomes(
        measure_episode_outcomes(k, env, params, policy, n_episodes=400, horizon=SIZE * SIZE)))(jax.random.key(1))
    return float(out.goal_rate)


def test_ppo_beats_random_policy_by_a_wide_margin(trained):
    env, train, ppo, result = trained
    model = ppo.model(result.params)
    learned = _goal_rate(env, train, lambda obs: model(obs)[0])
    random = _goal_rate(env, train, UniformPolicy())
    assert learned >= random + 0.3, (learned, random)
    assert learned >= 0.7, learned


def test_training_metrics_have_one_row_per_update(trained):
    _, _, ppo, result = trained
    assert result.metrics.success_rate.shape == (ppo.n_steps,)
    late = float(result.metrics.success_rate[-5:].mean())
    early = float(result.metrics.success_rate[:5].mean())
    assert late > early
