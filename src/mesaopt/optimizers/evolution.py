"""Evolution strategies and genetic algorithms as base optimizers (evosax; the ``evolution`` extra).

A genome is any pytree (reward weights, network parameters); ``fitness_fn(genome, key, problem) -> scalar`` scores
one (higher is fitter) and is evaluated for the whole population in one ``vmap``. One step of :class:`Evolution`
is one generation (ask, evaluate, tell), so :func:`~mesaopt.optimizers.chunks.train_in_chunks` runs generations in
chunks, seeds and sweep points as a batch axis, exactly as for gradient descent. The strategies are evosax's
(pinned in the ``evolution`` extra); evosax minimizes, so the fitness is negated on the way in and nothing
outside this module sees that.

Exposed strategies (``STRATEGIES``): ``cma_es`` (CMA-ES: the standard for genomes of a few to a few hundred numbers,
e.g. reward weights), ``snes`` (separable natural evolution strategy: a diagonal covariance, cheap enough for larger
genomes), ``open_es`` (OpenAI-ES: antithetic Gaussian perturbations and Adam on the estimated gradient, what is
used for network parameters) and ``simple_ga`` (a genetic algorithm: the fitter half survives and mutates; no
gradient estimate, the "blind variation and selective retention" of biological evolution).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import jax
import jax.flatten_util
import jax.numpy as jnp
import optax

from mesaopt.errors import MesaoptError

STRATEGIES = ("cma_es", "snes", "open_es", "simple_ga")
"""Strategy names accepted by :class:`EvolutionConfig` (see the module docstring for when to use which)."""

EVOSAX_VERSION = "0.3.2"
"""The evosax release the ``evolution`` extra pins (its ask/tell API changed at 0.3)."""


@dataclass(frozen=True)
class EvolutionConfig:
    """Settings of an evolutionary base optimizer."""

    strategy: str = "cma_es"
    """One of ``cma_es``, ``snes``, ``open_es``, ``simple_ga``."""
    population_size: int = 16
    """Genomes per generation (>= 2; even for ``open_es``, whose perturbations come in antithetic pairs)."""
    generations: int = 100
    """Generations per run (the optimizer's steps)."""
    mutation_scale: float = 0.5
    """Initial standard deviation of the search distribution (ES) or of the mutations (GA), in genome units."""
    learning_rate: float = 0.05
    """Step size of ``open_es``'s Adam on its fitness-gradient estimate (unused by the other strategies)."""
    common_random_numbers: bool = False
    """Score every genome of a generation with the same random key (the same worlds, the same luck), so that the
    fitness differences within a generation come from the genomes; a fresh key each generation either way."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        if self.strategy not in STRATEGIES:
            raise MesaoptError(f"evolution strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.population_size < 2:
            raise MesaoptError(f"population_size must be >= 2, got {self.population_size}")
        if self.strategy == "open_es" and self.population_size % 2:
            raise MesaoptError(f"open_es needs an even population_size (antithetic pairs), got {self.population_size}")
        if self.generations < 1:
            raise MesaoptError(f"generations must be >= 1, got {self.generations}")
        for name in ("mutation_scale", "learning_rate"):
            value = getattr(self, name)
            if not (isinstance(value, numbers.Real) and math.isfinite(value) and value > 0):
                raise MesaoptError(f"{name} must be a finite number > 0, got {value!r}")


class GenerationMetrics(NamedTuple):
    """What one generation reports (fitness as the caller defines it: higher is fitter)."""

    best_fitness: jax.Array
    """The fittest genome of this generation."""
    mean_fitness: jax.Array
    """The population's mean."""
    best_fitness_so_far: jax.Array
    """The fittest genome of any generation of this run."""


class EvolutionState(NamedTuple):
    """One run of an evolutionary base optimizer."""

    strategy: Any
    """evosax's state (search distribution or population, best genome so far as a flat vector)."""
    key: jax.Array
    """This run's random key for the next generation."""


def import_evosax():
    """evosax, or a one-line ``MesaoptError`` saying how to install it."""
    try:
        import evosax.algorithms as algorithms
    except ImportError as err:  # pragma: no cover - exercised only without the extra
        raise MesaoptError(f"evolution needs evosax: pip install 'mesaopt[evolution]' (evosax=={EVOSAX_VERSION}); "
                           f"{err}") from None
    return algorithms


def _strategy(cfg: EvolutionConfig, genome):
    """The evosax algorithm object and its params for ``cfg`` and a genome of ``genome``'s shape."""
    algorithms = import_evosax()
    size, scale = cfg.population_size, cfg.mutation_scale
    if cfg.strategy == "cma_es":
        algo = algorithms.CMA_ES(size, genome)
    elif cfg.strategy == "snes":
        algo = algorithms.SNES(size, genome)
    elif cfg.strategy == "open_es":
        algo = algorithms.Open_ES(size, genome, optimizer=optax.adam(cfg.learning_rate),
                                  std_schedule=optax.constant_schedule(scale))
    else:
        algo = algorithms.SimpleGA(size, genome, std_schedule=optax.constant_schedule(scale))
    params = algo.default_params
    if hasattr(params, "std_init"):
        params = params.replace(std_init=scale)
    return algo, params


@dataclass(frozen=True, eq=False)
class Evolution:
    """A :class:`~mesaopt.optimizers.contract.BaseOptimizer`: one step is one generation of one run.

    ``init(key, problem)`` draws the starting genome from ``genome_factory(key)`` (the centre of the search
    distribution; for the GA, the population is that genome plus mutations). ``step(state, problem)`` asks for a
    population, scores it with ``fitness_fn(genome, key, problem)`` (``vmap`` over the population, a fresh key per
    genome, or one shared key with ``common_random_numbers``) and tells the strategy. ``best_genome(state)`` and
    ``center_genome(state)`` read the result.
    """

    cfg: EvolutionConfig
    """The strategy and its settings."""
    genome_factory: Callable
    """``genome_factory(key) -> genome pytree`` (the starting point; also fixes the genome's shape)."""
    fitness_fn: Callable
    """``fitness_fn(genome, key, problem) -> scalar``, higher is fitter; pure and jittable."""
    algo: Any
    """The evosax algorithm object."""
    params: Any
    """Its params (evosax's hyperparameters)."""
    finite_metrics: ClassVar[tuple[str, ...]] = ("best_fitness", "mean_fitness")

    @property
    def n_steps(self) -> int:
        """Generations per run."""
        return self.cfg.generations

    def init(self, key, problem=None) -> EvolutionState:
        """One run's starting state."""
        k_genome, k_strategy, k_run = jax.random.split(key, 3)
        genome = self.genome_factory(k_genome)
        if self.cfg.strategy == "simple_ga":
            flat, unravel = jax.flatten_util.ravel_pytree(genome)
            noise = jax.random.normal(k_strategy, (self.cfg.population_size, flat.size)) * self.cfg.mutation_scale
            population = jax.vmap(unravel)(flat + noise.at[0].set(0.0))
            worst = jnp.full((self.cfg.population_size,), jnp.inf)
            state = self.algo.init(k_strategy, population, worst, self.params)
        else:
            state = self.algo.init(k_strategy, genome, self.params)
        return EvolutionState(self._typed_as_after_a_generation(state), k_run)

    def _typed_as_after_a_generation(self, strategy):
        """``strategy`` with every weakly typed leaf that a generation returns strongly typed made strong: evosax
        starts some fields (best fitness, step size) weakly typed, and a jitted step given the starting state
        would otherwise compile a second time at the second generation."""
        def one_generation(state):
            key = jax.random.key(0)
            population, state = self.algo.ask(key, state, self.params)
            return self.algo.tell(key, population, jnp.zeros(self.cfg.population_size), state, self.params)[0]

        after = jax.eval_shape(one_generation, strategy)
        return jax.tree.map(lambda x, a: x.astype(x.dtype) if jax.typeof(x).weak_type and not a.weak_type else x,
                            strategy, after)

    def step(self, state: EvolutionState, problem=None) -> tuple[EvolutionState, GenerationMetrics]:
        """One generation: ask, score every genome, tell."""
        k_ask, k_eval, k_tell, k_next = jax.random.split(state.key, 4)
        population, strategy = self.algo.ask(k_ask, state.strategy, self.params)
        keys = jax.random.split(k_eval, self.cfg.population_size)
        if self.cfg.common_random_numbers:
            keys = jnp.broadcast_to(k_eval, keys.shape)
        fitness = jax.vmap(self.fitness_fn, in_axes=(0, 0, None))(population, keys, problem)
        strategy, _ = self.algo.tell(k_tell, population, -fitness, strategy, self.params)
        metrics = GenerationMetrics(best_fitness=jnp.max(fitness), mean_fitness=jnp.mean(fitness),
                                    best_fitness_so_far=-strategy.best_fitness)
        return EvolutionState(strategy, k_next), metrics

    def best_genome(self, state: EvolutionState):
        """The fittest genome any generation of this run scored (a pytree like the factory's)."""
        return self.algo._unravel_solution(state.strategy.best_solution)

    def center_genome(self, state: EvolutionState):
        """Where the search stands: the distribution's mean (ES), or the fittest member of the current population
        (GA; the one it would keep)."""
        if hasattr(state.strategy, "mean"):
            return self.algo._unravel_solution(state.strategy.mean)
        best = jnp.argmin(state.strategy.fitness)
        return self.algo._unravel_solution(state.strategy.population[best])


def make_evolution(cfg: EvolutionConfig, genome_factory: Callable, fitness_fn: Callable,
                   generations: int | None = None) -> Evolution:
    """An :class:`Evolution` (``generations``, if given, replaces ``cfg.generations``)."""
    if generations is not None:
        cfg = dataclasses.replace(cfg, generations=generations)
    cfg.validate()
    shapes = jax.eval_shape(genome_factory, jax.random.key(0))
    algo, params = _strategy(cfg, jax.tree.map(lambda s: jnp.zeros(s.shape, s.dtype), shapes))
    return Evolution(cfg, genome_factory, fitness_fn, algo, params)
