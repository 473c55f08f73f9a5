"""The individual-based population under sexual selection: parents are drawn by their weights, a neutral population
settles at its Beverton-Holt equilibrium, the females' preference pushes the ornament towards beta / 2c and no
preference does not, harm to others at low fecundity kills the population while the same population without
mutation survives, and an extinct population stays extinct."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.contract import BaseOptimizer
from mesaopt.optimizers.sexual_selection import PopulationParams, PopulationState, SexualSelection, draw_by_weight

MODEL = SexualSelection(generations=150, capacity=160, founders=40)
K = 60.0


def params(n, fecundity=20.0, preference=0.5, cost=0.05, to_others=0.0, to_bearer=0.0, mutation=0.3):
    values = (fecundity, K, preference, cost, to_others, to_bearer, mutation)
    return PopulationParams(*(jnp.full(n, v, jnp.float32) for v in values))


def simulate(p, seed=0):
    n = p.fecundity.shape[0]
    _, records, _ = train_in_chunks(MODEL, jax.random.split(jax.random.key(seed), n), p, 2)
    return records


def test_parents_are_drawn_in_proportion_to_their_weights():
    weights = jnp.array([0.0, 1.0, 3.0, 0.0, 4.0])
    draws = np.asarray(draw_by_weight(jax.random.key(0), weights, 40_000))
    shares = np.bincount(draws, minlength=5) / draws.size
    np.testing.assert_allclose(shares, np.asarray(weights) / 8.0, atol=0.01)
    assert shares[0] == 0 and shares[3] == 0


def test_a_neutral_population_settles_at_its_equilibrium():
    records = simulate(params(8, fecundity=10.0, preference=0.0, cost=0.05))
    late = np.asarray(records["population"])[:, -50:].mean()
    assert isinstance(MODEL, BaseOptimizer)
    assert abs(late - K * (1 - 2 / 10.0)) < 0.15 * K, late  # Beverton-Holt: N* = K (1 - 2 / b)
    assert abs(float(np.asarray(records["mean_trait"])[:, -1].mean())) < 1.0  # drift only, no direction


def test_preference_drives_the_ornament_up_and_its_absence_does_not():
    chosen = simulate(params(6, preference=0.5))
    neutral = simulate(params(6, preference=0.0))
    o_star = 0.5 / (2 * 0.05)
    chosen_end = float(np.asarray(chosen["mean_ornament_males"])[:, -10:].mean())
    neutral_end = float(np.asarray(neutral["mean_ornament_males"])[:, -10:].mean())
    assert 0.5 * o_star < chosen_end < 1.2 * o_star, chosen_end
    assert neutral_end < 0.2 * o_star, neutral_end


def test_harm_to_others_at_low_fecundity_is_suicide_and_needs_mutation():
    harmed = simulate(params(8, fecundity=6.0, to_others=0.6))
    frozen = simulate(params(8, fecundity=6.0, to_others=0.6, mutation=0.0))
    assert np.all(np.asarray(harmed["population"])[:, -1] == 0)
    assert np.all(np.asarray(frozen["population"])[:, -1] > 0)


def test_the_same_harm_on_the_bearer_is_kept_small_by_selection():
    records = simulate(params(6, fecundity=6.0, to_bearer=0.6))
    assert np.all(np.asarray(records["population"])[:, -1] > 0)
    assert float(np.asarray(records["mean_ornament_males"])[:, -10:].mean()) < 0.5


def test_an_extinct_population_stays_extinct():
    empty = PopulationState(jnp.zeros(16), jnp.zeros(16, bool), jnp.zeros(16, bool), jax.random.key(1))
    model = SexualSelection(generations=3, capacity=16, founders=4)
    state, record = jax.jit(model.step)(empty, jax.tree.map(lambda x: x[0], params(1, fecundity=100.0)))
    assert float(record.population) == 0 and not bool(state.alive.any())


@pytest.mark.parametrize("only", ["females", "males"])
def test_one_sex_alone_has_no_next_generation(only):
    male = jnp.full(16, only == "males")
    state = PopulationState(jnp.zeros(16), male, jnp.arange(16) < 8, jax.random.key(2))
    model = SexualSelection(generations=1, capacity=16, founders=8)
    _, record = jax.jit(model.step)(state, jax.tree.map(lambda x: x[0], params(1, fecundity=100.0)))
    assert float(record.population) == 0
