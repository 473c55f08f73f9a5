"""The lifetime learner: rewarded by nutrition felt at once it learns to eat well (its second half of life beats its
first and random choice); felt later, the same reward teaches it almost nothing; rewarded by sweetness it eats well
where sweet is nourishing and badly where it is not."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs.foraging import ForagingTask, random_choice_nutrition, sample_world
from mesaopt.errors import MesaoptError
from mesaopt.models.reward_learner import FITNESS_AS_REWARD, ValueLearner, live

TASK = ForagingTask(n_types=6, lifetime=200)
LEARNER = ValueLearner()


def lives(weights, rho, delay, n=128, seed=0):
    def one(k):
        k_world, k_life = jax.random.split(k)
        world = sample_world(k_world, TASK, rho)
        life = live(jnp.asarray(weights), world, k_life, delay, LEARNER)
        eaten = world.nutrition[life.eaten]
        return life.nutrition, eaten[:10].mean(), eaten[-50:].mean(), random_choice_nutrition(world)

    return [np.asarray(x).mean() for x in jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(seed), n))]


def test_nutrition_felt_at_once_is_learned():
    total, early, late, chance = lives(FITNESS_AS_REWARD, 0.0, 0)
    assert late > early + 0.15 and total > chance + 50, (total, early, late, chance)  # per meal; per lifetime


def test_nutrition_felt_late_teaches_the_myopic_learner_little():
    prompt, *_ = lives(FITNESS_AS_REWARD, 0.0, 0)
    late_total, _, _, chance = lives(FITNESS_AS_REWARD, 0.0, 2)
    assert late_total < 0.3 * prompt and late_total < chance + 25, (late_total, prompt, chance)


def test_eligibility_traces_bridge_the_delay():
    def credited(credit, window, n=128):
        def one(k):
            k_world, k_life = jax.random.split(k)
            world = sample_world(k_world, TASK, 0.0)
            return live(FITNESS_AS_REWARD, world, k_life, 2, LEARNER, credit, credit_window=window).nutrition

        return np.asarray(jax.jit(jax.vmap(one))(jax.random.split(jax.random.key(5), n)))

    myopic, zero_decay, traced = credited(0.0, 0), credited(0.0, 2), credited(1.0, 2)
    np.testing.assert_allclose(zero_decay, myopic)  # a window with decay 0 is the myopic learner
    assert traced.mean() > myopic.mean() + 20, (traced.mean(), myopic.mean())  # the meal two back gets its due


def test_sweetness_is_a_good_guide_only_where_sweet_is_nourishing():
    ancestral, *_ = lives([1.0, 0.0], 0.9, 0)
    junk, *_ = lives([1.0, 0.0], -0.9, 0)
    assert ancestral > 40 and junk < -40, (ancestral, junk)


def test_the_declined_kind_is_the_other_offered_one():
    world = sample_world(jax.random.key(3), TASK, 0.0)
    life = live(jnp.array([0.0, 1.0]), world, jax.random.key(4), 0, LEARNER)
    pairs = np.sort(np.stack([np.asarray(life.eaten), np.asarray(life.declined)], axis=1), axis=1)
    np.testing.assert_array_equal(pairs, np.sort(np.asarray(world.offers), axis=1))


@pytest.mark.parametrize("changes, message", [({"learning_rate": 0.0}, "learning_rate must be in"),
                                              ({"exploration": 1.5}, "exploration must be in"),
                                              ({"max_delay": -1}, "max_delay must be >= 0")])
def test_impossible_learners_fail_with_one_line(changes, message):
    with pytest.raises(MesaoptError, match=message):
        ValueLearner(**changes).validate()
