"""The foraging world: nutrition has the asked-for correlation with sweetness (positive, zero, reversed), every offer
is two different kinds, and the omniscient forager beats random choice."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs.foraging import (ForagingTask, best_possible_nutrition, check_correlation, random_choice_nutrition,
                                   sample_world)
from mesaopt.errors import MesaoptError

TASK = ForagingTask(n_types=6, lifetime=50)


@pytest.mark.parametrize("rho", [0.9, 0.0, -0.9])
def test_nutrition_has_the_asked_correlation_with_sweetness(rho):
    worlds = jax.vmap(lambda k: sample_world(k, TASK, rho))(jax.random.split(jax.random.key(0), 2000))
    s, n = np.asarray(worlds.sweetness).ravel(), np.asarray(worlds.nutrition).ravel()
    assert abs(np.corrcoef(s, n)[0, 1] - rho) < 0.03
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


def test_offers_are_two_different_kinds_and_cover_all_kinds():
    world = sample_world(jax.random.key(1), ForagingTask(n_types=4, lifetime=400), 0.5)
    offers = np.asarray(world.offers)
    assert offers.shape == (400, 2) and np.all(offers[:, 0] != offers[:, 1])
    assert set(offers.ravel()) == {0, 1, 2, 3}


def test_the_omniscient_forager_beats_random_choice():
    world = sample_world(jax.random.key(2), TASK, 0.0)
    assert float(best_possible_nutrition(world)) > float(random_choice_nutrition(world))
    assert float(best_possible_nutrition(world)) == pytest.approx(
        float(jnp.sum(jnp.maximum(world.nutrition[world.offers[:, 0]], world.nutrition[world.offers[:, 1]]))))


def test_impossible_settings_fail_with_one_line():
    with pytest.raises(MesaoptError, match="n_types must be >= 2"):
        ForagingTask(n_types=1).validate()
    with pytest.raises(MesaoptError, match="lifetime must be >= 1"):
        ForagingTask(lifetime=0).validate()
    for bad in (1.5, float("nan")):
        with pytest.raises(MesaoptError, match="rho must be between -1 and 1"):
            check_correlation("rho", bad)
