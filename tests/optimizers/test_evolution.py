"""Evolution as a base optimizer: every exposed strategy finds a planted optimum (and each run its own, when the
problem differs per run), the fitness sign is the caller's (higher is fitter), a run through the chunked driver
equals its own generations, and impossible settings fail with one line."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.evolution import STRATEGIES, EvolutionConfig, make_evolution

TARGETS = jnp.array([[1.0, -2.0, 0.5], [-1.5, 0.5, 2.0]])
"""One planted optimum per run: the runs are two sweep points of one compiled program."""


def start_at_zero(key):
    return {"w": jnp.zeros(3)}


def negative_distance(genome, key, problem):
    return -jnp.sum((genome["w"] - problem) ** 2)


@pytest.fixture(scope="module", params=STRATEGIES)
def evolved(request):
    cfg = EvolutionConfig(strategy=request.param, population_size=16, generations=60)
    evolution = make_evolution(cfg, start_at_zero, negative_distance)
    state, metrics, _ = train_in_chunks(evolution, jax.random.split(jax.random.key(0), 2), TARGETS, 3)
    return evolution, state, metrics


def test_every_strategy_finds_each_runs_planted_optimum(evolved):
    evolution, state, metrics = evolved
    best = np.asarray(jax.vmap(evolution.best_genome)(state)["w"])
    center = np.asarray(jax.vmap(evolution.center_genome)(state)["w"])
    start_fitness = -np.sum(np.asarray(TARGETS) ** 2, axis=1)  # the genome at zero
    assert np.all(metrics["best_fitness_so_far"][:, -1] > 0.05 * start_fitness), metrics["best_fitness_so_far"][:, -1]
    np.testing.assert_allclose(best, TARGETS, atol=0.35)
    np.testing.assert_allclose(center, TARGETS, atol=0.5)
    assert np.all(np.diff(metrics["best_fitness_so_far"], axis=1) >= -1e-6)  # the best so far never gets worse


def test_fitness_is_maximized_not_minimized():
    # the same problem with the sign flipped: evolution must walk away from the target, not towards it
    evolution = make_evolution(EvolutionConfig(generations=30), start_at_zero,
                               lambda g, k, p: -negative_distance(g, k, p))
    state, metrics, _ = train_in_chunks(evolution, jax.random.split(jax.random.key(1), 1), TARGETS[:1], 1)
    assert metrics["best_fitness_so_far"][0, -1] > 10 * metrics["best_fitness"][0, 0]


def test_chunks_equal_one_scan_of_generations():
    evolution = make_evolution(EvolutionConfig(strategy="snes", generations=6), start_at_zero, negative_distance)
    key = jax.random.key(3)

    def whole(key, problem):
        return jax.lax.scan(lambda s, _: evolution.step(s, problem), evolution.init(key, problem), None, length=6)

    final, metrics = jax.jit(whole)(key, TARGETS[0])
    state, chunked, _ = train_in_chunks(evolution, key[None], TARGETS[:1], 3)
    np.testing.assert_allclose(chunked["best_fitness"][0], np.asarray(metrics.best_fitness), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(state.strategy.mean[0]), np.asarray(final.strategy.mean), rtol=1e-5)


@pytest.mark.parametrize("changes, message", [
    ({"strategy": "hill_climbing"}, "strategy must be one of cma_es, snes, open_es, simple_ga"),
    ({"population_size": 1}, "population_size must be >= 2"),
    ({"strategy": "open_es", "population_size": 7}, "open_es needs an even population_size"),
    ({"generations": 0}, "generations must be >= 1"),
    ({"mutation_scale": 0.0}, "mutation_scale must be a finite number > 0"),
    ({"learning_rate": math.nan}, "learning_rate must be a finite number > 0"),
])
def test_impossible_settings_fail_with_one_line(changes, message):
    with pytest.raises(MesaoptError, match=message):
        make_evolution(EvolutionConfig(**changes), start_at_zero, negative_distance)


def test_common_random_numbers_give_every_genome_the_same_key():
    def key_fitness(genome, key, problem):  # the fitness is the key's first random number: luck only
        return jax.random.uniform(key) + 0.0 * genome["w"][0]

    for shared in (True, False):
        cfg = EvolutionConfig(strategy="snes", population_size=6, generations=1, common_random_numbers=shared)
        evolution = make_evolution(cfg, start_at_zero, key_fitness)
        _, metrics = evolution.step(evolution.init(jax.random.key(0)), None)
        spread = float(metrics.best_fitness - metrics.mean_fitness)
        assert (spread == 0.0) if shared else (spread > 0.0), (shared, spread)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_starting_state_has_the_types_a_generation_returns(strategy):
    # a jitted step then compiles once: evosax starts some fields weakly typed and returns them strongly typed
    evolution = make_evolution(EvolutionConfig(strategy=strategy, population_size=4, generations=1),
                               lambda key: jnp.zeros(3), lambda genome, key, problem: -jnp.sum(genome**2))
    start = evolution.init(jax.random.key(0))
    after, _ = jax.eval_shape(evolution.step, start)

    def types(tree):
        return [(x.shape, x.dtype, getattr(x, "weak_type", False)) for x in jax.tree.leaves(tree)]
    assert types(jax.eval_shape(lambda s: s, start)) == types(after)
