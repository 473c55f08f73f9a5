"""The hungry-thirsty Q-learner: with fitness as its reward it learns slowly; a planted reward that also punishes
hunger and thirst makes it far fitter on the same lifetimes; a zero reward learns nothing; lifetimes longer than
``settings.lifetime`` neither learn nor eat."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs.hungry_thirsty import HungryThirstyTask
from mesaopt.errors import MesaoptError
from mesaopt.models.q_learner import FITNESS_AS_REWARD, QLearner, lifetime_meals

TASK = HungryThirstyTask()
LEARNER = QLearner(lifetime=3000)
KEYS = jax.random.split(jax.random.key(0), 48)


def meals(weights, learner=LEARNER, settings=None, steps=None):
    run = jax.vmap(lambda k: lifetime_meals(jnp.asarray(weights, jnp.float32), k, TASK, learner, settings, steps))
    return np.asarray(jax.jit(run)(KEYS))


def test_a_reward_that_punishes_hunger_and_thirst_beats_fitness_as_reward():
    shaped, fitness = meals([1.0, 1.0, -0.05, -0.1]), meals(FITNESS_AS_REWARD)
    assert shaped.mean() > 5 * max(fitness.mean(), 10.0), (shaped.mean(), fitness.mean())


def test_meals_come_from_learning():
    nothing = meals([0.0, 0.0, 0.0, 0.0])  # no reward: a random walk with random ties
    assert nothing.mean() < 0.2 * meals([1.0, 1.0, -0.05, -0.1]).mean()


def test_steps_after_the_lifetime_count_for_nothing():
    short = QLearner(lifetime=500)
    alone = meals([1.0, 1.0, -0.05, -0.1], short)
    padded = meals([1.0, 1.0, -0.05, -0.1], short, short.settings(), steps=2000)
    np.testing.assert_array_equal(alone, padded)


@pytest.mark.parametrize("changes, message", [({"lifetime": 0}, "lifetime must be >= 1"),
                                              ({"learning_rate": 0.0}, "learning_rate must be in"),
                                              ({"discount": 1.0}, "discount must be in"),
                                              ({"exploration": -0.1}, "exploration must be in")])
def test_impossible_learners_fail_with_one_line(changes, message):
    with pytest.raises(MesaoptError, match=message):
        QLearner(**changes).validate()
