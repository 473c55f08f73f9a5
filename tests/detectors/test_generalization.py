"""Layout generalization: a planner generalizes to new layouts, a memorizing lookup policy does not."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

from mesaopt.detectors.generalization import measure_layout_generalization
from mesaopt.envs import ENVS, misgeneralization_params
from mesaopt.envs.planners import BFSPolicy, as_grid

SIZE = 5


class PoolLookupPolicy(eqx.Module):
    """Plans perfectly on layouts it has stored and acts at random on any other: a memorizer."""

    pool: jax.Array
    planner: BFSPolicy

    def __call__(self, obs):
        walls = as_grid(obs, SIZE)[0] > 0.5
        known = jnp.any(jnp.all(self.pool == walls[None], axis=(1, 2)))
        return jnp.where(known, self.planner(obs), jnp.zeros(4))


@pytest.fixture(scope="module")
def pooled():
    env = ENVS["maze"](size=SIZE, obs_format="grid")
    keys = jax.random.split(jax.random.key(5), 6)
    pool = jax.vmap(lambda k: env.generate_layout(k, env.default_params()))(keys)
    _, shifted = misgeneralization_params(SIZE, 1, max_steps=25, layout_pool=jax.device_get(pool))
    return env, shifted, pool


def test_a_planner_generalizes_to_unseen_layouts(pooled):
    env, params, _ = pooled
    report = measure_layout_generalization(jax.random.key(0), env, params, BFSPolicy(SIZE, "goal"),
                                           n_episodes=200, horizon=25)
    assert report.goal_rate_seen == 1.0 and report.goal_rate_unseen == 1.0 and report.gap == 0.0
    assert report.n_unseen > 150


def test_a_memorizer_fails_on_unseen_layouts(pooled):
    env, params, pool = pooled
    policy = PoolLookupPolicy(pool=pool, planner=BFSPolicy(SIZE, "goal"))
    report = measure_layout_generalization(jax.random.key(0), env, params, policy, n_episodes=200, horizon=25)
    assert report.goal_rate_seen == 1.0 and report.goal_rate_unseen < 0.6
    assert report.gap_ci[0] > 0.3


def test_params_without_a_pool_are_one_clear_error(pooled):
    env, _, _ = pooled
    _, fresh = misgeneralization_params(SIZE, 1)
    with pytest.raises(ValueError, match="needs params with a layout pool"):
        measure_layout_generalization(jax.random.key(0), env, fresh, BFSPolicy(SIZE), n_episodes=4, horizon=4)
