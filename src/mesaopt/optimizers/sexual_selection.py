"""Evolution in its rawest form: an individual-based population under sexual and viability selection.

No fitness function is written down anywhere: who survives and who fathers the next generation *is* the base
optimizer. Each individual carries a heritable trait z (expressed in males as an ornament ``max(z, 0)``, carried
silently by females). One step is one generation (non-overlapping):

1. **Viability.** A male survives with probability ``exp(-c o^2)`` (the ornament's cost to its bearer), times
   ``exp(-h_bearer o)`` when the harm is paid by the bearer. Females survive.
2. **Mating.** The females produce ``b F exp(-h_others ō)`` offspring in expectation (b the fecundity, F the
   females, ō the mean ornament of the surviving males: harm done to others, e.g. harassment that costs every
   female some of her offspring; Rankin, Dieckmann & Kokko 2011: male harm as a tragedy of the commons);
   density-dependent recruitment (Beverton-Holt) lets ``Poisson(m / (1 + m / K))`` of those ``m`` become adults.
   Each recruit's mother is a uniform female, its father a surviving male drawn with weight ``exp(beta o)`` (the
   females' preference: sexual selection).
3. **Inheritance.** The recruit's trait is the mid-parent value plus a mutation ``N(0, mutation_sd^2)``; its sex
   is a fair coin.

A population with no female or no male left has no next generation: it is extinct, and stays so. Sexual selection
alone drives the ornament towards ``o* = beta / (2 c)`` (where the mating gain meets the bearer's survival cost),
whatever it does to the population; with the harm on others the growth rate at low density is about
``(b / 2) exp(-h_others o*)``, so the population dies out below the fecundity ``b* = 2 exp(h_others o*)``
(Kokko & Brooks 2003: suicide through sexual selection needs costs that others pay).

The model is a :class:`~mesaopt.optimizers.contract.BaseOptimizer` (``problem`` = :class:`PopulationParams`), so
:func:`~mesaopt.optimizers.chunks.train_in_chunks` simulates many populations at once, in chunks of generations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, NamedTuple

import jax
import jax.numpy as jnp


class PopulationParams(NamedTuple):
    """What varies between populations (each a scalar; batched over populations)."""

    fecundity: jax.Array
    """b: offspring per surviving female before density regulation."""
    carrying_capacity: jax.Array
    """K of the Beverton-Holt recruitment: at most about K recruits per generation."""
    preference: jax.Array
    """beta: a male's mating weight is ``exp(beta o)``."""
    viability_cost: jax.Array
    """c: a male's survival is ``exp(-c o^2)``."""
    harm_to_others: jax.Array
    """h_others: every female's fecundity is multiplied by ``exp(-h_others ō)``."""
    harm_to_bearer: jax.Array
    """h_bearer: a male's survival is also ``exp(-h_bearer o)``."""
    mutation_sd: jax.Array
    """Standard deviation of the mutation added to each recruit's mid-parent trait (0: no new variation)."""


class PopulationState(NamedTuple):
    """One population: fixed-size arrays with an ``alive`` mask."""

    trait: jax.Array
    """z of every slot (meaningless where not alive)."""
    male: jax.Array
    """Sex of every slot."""
    alive: jax.Array
    """Which slots hold an adult."""
    key: jax.Array
    """The population's random key for the next generation."""


class GenerationRecord(NamedTuple):
    """The adults after one generation."""

    population: jax.Array
    """Adults alive (0: extinct)."""
    mean_trait: jax.Array
    """Mean z of the adults (0 when extinct)."""
    mean_ornament_males: jax.Array
    """Mean ornament ``max(z, 0)`` of the adult males (0 when there are none)."""


def ornament(trait: jax.Array) -> jax.Array:
    """The ornament a male expresses: the positive part of its trait."""
    return jnp.maximum(trait, 0.0)


def survivors(key, state: PopulationState, params: PopulationParams) -> jax.Array:
    """Which adults live to mate: every female, and each male with probability ``exp(-c o^2 - h_bearer o)``."""
    o = ornament(state.trait)
    male_survival = jnp.exp(-params.viability_cost * o**2 - params.harm_to_bearer * o)
    lives = jax.random.uniform(key, state.trait.shape) < male_survival
    return state.alive & (~state.male | lives)


def harm_factor(males: jax.Array, trait: jax.Array, params: PopulationParams) -> jax.Array:
    """``exp(-h_others ō)``: what the surviving males' mean ornament ō leaves of every female's fecundity."""
    mean_ornament = jnp.sum(jnp.where(males, ornament(trait), 0.0)) / jnp.maximum(jnp.sum(males), 1)
    return jnp.exp(-params.harm_to_others * mean_ornament)


def draw_by_weight(key, weights: jax.Array, n: int) -> jax.Array:
    """``n`` indices drawn with replacement in proportion to ``weights`` (inverse CDF, O(n log n); weights may be
    all zero, then the draws are meaningless and must be masked by the caller)."""
    cdf = jnp.cumsum(weights)
    u = jax.random.uniform(key, (n,)) * cdf[-1]
    return jnp.minimum(jnp.searchsorted(cdf, u, side="right"), weights.shape[0] - 1)


def next_generation(state: PopulationState, params: PopulationParams) -> PopulationState:
    """Viability selection, mating and inheritance: the next generation's adults."""
    k_survive, k_count, k_mother, k_father, k_mutate, k_sex, k_next = jax.random.split(state.key, 7)
    capacity = state.trait.shape[0]
    alive = survivors(k_survive, state, params)
    females, males = alive & ~state.male, alive & state.male
    n_females = jnp.sum(females)
    breeding = (n_females > 0) & (jnp.sum(males) > 0)
    offspring = params.fecundity * n_females * harm_factor(males, state.trait, params)
    recruits = jax.random.poisson(k_count, offspring / (1.0 + offspring / params.carrying_capacity))
    recruits = jnp.where(breeding, jnp.minimum(recruits, capacity), 0)
    mothers = draw_by_weight(k_mother, females.astype(jnp.float32), capacity)
    o = ornament(state.trait)
    # mating weights relative to the most ornamented male: exp(beta (o - max o)) cannot overflow
    top = jnp.max(jnp.where(males, o, -jnp.inf))
    fathers = draw_by_weight(k_father, jnp.where(males, jnp.exp(params.preference * (o - top)), 0.0), capacity)
    mid_parent = 0.5 * (state.trait[mothers] + state.trait[fathers])
    trait = mid_parent + params.mutation_sd * jax.random.normal(k_mutate, (capacity,))
    alive = jnp.arange(capacity) < recruits
    male = jax.random.bernoulli(k_sex, 0.5, (capacity,))
    return PopulationState(jnp.where(alive, trait, 0.0), male, alive, k_next)


def generation_record(state: PopulationState) -> GenerationRecord:
    """Population size and mean traits of the adults of ``state``."""
    n = jnp.sum(state.alive)
    males = state.alive & state.male
    mean_trait = jnp.sum(jnp.where(state.alive, state.trait, 0.0)) / jnp.maximum(n, 1)
    mean_ornament = jnp.sum(jnp.where(males, ornament(state.trait), 0.0)) / jnp.maximum(jnp.sum(males), 1)
    return GenerationRecord(n.astype(jnp.float32), mean_trait, mean_ornament)


@dataclass(frozen=True)
class SexualSelection:
    """The base optimizer: ``init(key, params)`` founds a population, ``step`` runs one generation."""

    generations: int
    """Generations per run (the optimizer's steps)."""
    capacity: int
    """Slots per population (the most adults it can hold; keep it well above the carrying capacity)."""
    founders: int
    """Adults at generation 0, trait 0 (no ornament, no variation), sexes drawn at random."""
    finite_metrics: ClassVar[tuple[str, ...]] = ("population", "mean_trait")

    @property
    def n_steps(self) -> int:
        """Generations per run."""
        return self.generations

    def init(self, key, params: PopulationParams | None = None) -> PopulationState:
        """A founding population of ``founders`` adults with trait 0."""
        k_sex, k_run = jax.random.split(key)
        alive = jnp.arange(self.capacity) < self.founders
        return PopulationState(jnp.zeros(self.capacity), jax.random.bernoulli(k_sex, 0.5, (self.capacity,)),
                               alive, k_run)

    def step(self, state: PopulationState, params: PopulationParams) -> tuple[PopulationState, GenerationRecord]:
        """One generation."""
        new = next_generation(state, params)
        return new, generation_record(new)
