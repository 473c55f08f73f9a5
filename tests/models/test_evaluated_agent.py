"""The candidate of principal-agent is an optimizer of its own utility: planted loyal and disloyal agents, watched
and unwatched, and the metric it plays to under oversight."""

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.envs.hiring import ACTIONS, Candidates, HiringMarket, action_table, expected_metric, measured_metric
from mesaopt.models.evaluated_agent import choose_actions

MARKET = HiringMarket(gaming_yield=2.0, gaming_cost=1.5, take_cost=1.0, metric_noise=0.0)
WORK, GAME, TAKE = (ACTIONS.index(a) for a in ("work", "game", "take"))


def _act(loyalty, belief, oversight, skill=1.0):
    cand = Candidates(jnp.full(len(loyalty), skill), jnp.asarray(loyalty), jnp.zeros(len(loyalty)))
    table = action_table(cand, MARKET)
    beliefs = jnp.asarray(belief, jnp.float32)[:, None]
    return np.asarray(choose_actions(cand.loyalty, table.value, table.private, expected_metric(table, oversight),
                                     beliefs, 1.0))[:, 0].tolist()


def test_loyal_agents_work_watched_or_not_and_disloyal_ones_take_unwatched():
    assert _act([0.9, 0.9], [0.0, 1.0], 0.0) == [WORK, WORK]
    assert _act([0.1], [0.0], 0.0) == [TAKE]


def test_a_disloyal_agent_that_believes_it_is_watched_plays_to_the_metric():
    assert _act([0.1], [1.0], 0.0) == [GAME]  # no inspection: gaming scores 2 against working's 1
    assert _act([0.1], [1.0], 1.0) == [WORK]  # full inspection: the metric is company value
    assert _act([0.1], [1.0], 1.0, skill=0.1) == [WORK]  # working still beats taking (-1) when inspected


def test_the_metric_is_the_true_value_when_inspected_and_the_apparent_output_otherwise():
    cand = Candidates(jnp.array([1.5, 1.5, 1.5]), jnp.ones(3), jnp.zeros(3))
    table = action_table(cand, MARKET)
    actions = jnp.array([[WORK], [GAME], [TAKE]])
    seen = measured_metric(jax.random.key(0), table, actions, 1.0, MARKET)[:, 0]
    unseen = measured_metric(jax.random.key(0), table, actions, 0.0, MARKET)[:, 0]
    assert np.allclose(seen, [1.5, -1.5, -1.0]) and np.allclose(unseen, [1.5, 2.0, 0.0])
