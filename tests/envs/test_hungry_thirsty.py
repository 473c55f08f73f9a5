"""The hungry-thirsty room: food and water in different corners, eating needs quenched thirst, drinking quenches,
thirst returns at its rate, the edge holds the agent in."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs.hungry_thirsty import DRINK, EAT, Body, HungryThirstyTask, Layout, sample_layout, step_body
from mesaopt.errors import MesaoptError

TASK = HungryThirstyTask(side=4, thirst_rate=0.0)
LAYOUT = Layout(jnp.asarray(0), jnp.asarray(15))
KEY = jax.random.key(0)


def body(cell, hungry=True, thirsty=True):
    return Body(jnp.asarray(cell), jnp.asarray(hungry), jnp.asarray(thirsty))


def test_food_and_water_lie_in_two_different_corners():
    layouts = jax.vmap(lambda k: sample_layout(k, TASK))(jax.random.split(KEY, 200))
    food, water = np.asarray(layouts.food), np.asarray(layouts.water)
    assert set(food) | set(water) <= {0, 3, 12, 15} and np.all(food != water) and len(set(food)) == 4


def test_eating_needs_quenched_thirst_and_drinking_quenches():
    thirsty, ate = step_body(body(0), EAT, LAYOUT, TASK, KEY)
    assert float(ate) == 0 and bool(thirsty.hungry)
    quenched, _ = step_body(body(15), DRINK, LAYOUT, TASK, KEY)
    assert not bool(quenched.thirsty)
    sated, ate = step_body(body(0, thirsty=False), EAT, LAYOUT, TASK, KEY)
    assert float(ate) == 1 and not bool(sated.hungry)
    nowhere, ate = step_body(body(5, thirsty=False), EAT, LAYOUT, TASK, KEY)  # no food here
    assert float(ate) == 0 and bool(nowhere.hungry)


def test_moves_stop_at_the_edge():
    up, _ = step_body(body(1), 0, LAYOUT, TASK, KEY)
    down, _ = step_body(body(1), 1, LAYOUT, TASK, KEY)
    left, _ = step_body(body(4), 2, LAYOUT, TASK, KEY)
    assert (int(up.cell), int(down.cell), int(left.cell)) == (1, 5, 4)


def test_thirst_returns_at_its_rate():
    task = HungryThirstyTask(side=4, thirst_rate=0.3)
    after = jax.vmap(lambda k: step_body(body(5, thirsty=False), 0, LAYOUT, task, k)[0].thirsty)(
        jax.random.split(KEY, 4000))
    assert abs(float(np.mean(np.asarray(after))) - 0.3) < 0.03


@pytest.mark.parametrize("changes, message", [({"side": 1}, "side must be >= 2"),
                                              ({"thirst_rate": 1.5}, "thirst_rate must be between 0 and 1")])
def test_impossible_rooms_fail_with_one_line(changes, message):
    with pytest.raises(MesaoptError, match=message):
        HungryThirstyTask(**changes).validate()
