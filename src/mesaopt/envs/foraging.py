"""A foraging world for the evolved-reward experiment: food items with a visible cue and a hidden value.

A world has ``n_types`` kinds of food. Each kind has a *sweetness* s in [0, 1], tasted the moment it is eaten (the
cue), and a *nutrition* n, which is what fitness counts (the value). Nutrition is standard normal with correlation
``correlation`` to sweetness: ``n = rho z(s) + sqrt(1 - rho^2) xi``, ``z(s)`` the standardized sweetness, ``xi ~
N(0, 1)``. In the ancestral (training) world the two agree (rho > 0: sweet food is nourishing); in the junk-food
world they do not (rho < 0: the sweetest food harms). Every step of a lifetime offers two distinct kinds drawn
uniformly, and the forager eats one. Worlds are drawn fresh per lifetime, so no fixed preference for a kind can be
inherited: only a way of learning which kinds to prefer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, Int

from mesaopt.errors import MesaoptError

SWEETNESS_SD = 12 ** -0.5
"""Standard deviation of a uniform [0, 1] sweetness."""


@dataclass(frozen=True)
class ForagingTask:
    """Shape of a forager's life."""

    n_types: int = 6
    """Kinds of food per world (>= 2)."""
    lifetime: int = 200
    """Meals per lifetime (one per step, >= 1)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the allowed values."""
        if self.n_types < 2:
            raise MesaoptError(f"n_types must be >= 2 (each step offers two kinds), got {self.n_types}")
        if self.lifetime < 1:
            raise MesaoptError(f"lifetime must be >= 1, got {self.lifetime}")


class World(NamedTuple):
    """One lifetime's food and offers."""

    sweetness: Float[Array, " types"]
    """The cue of each kind, in [0, 1]."""
    nutrition: Float[Array, " types"]
    """The value of each kind (what fitness sums)."""
    offers: Int[Array, "steps 2"]
    """The two kinds offered at each step."""


def check_correlation(name: str, value: float) -> None:
    """One-line ``MesaoptError`` unless ``value`` is a correlation in [-1, 1]."""
    if not -1.0 <= value <= 1.0:  # NaN fails too
        raise MesaoptError(f"{name} must be between -1 and 1, got {value!r}")


def uniform_below(words: Array, n: int) -> Array:
    """Integers in [0, n) from the top 16 bits of random 32-bit ``words`` (multiply-shift: bias below n / 65536,
    and one random word per draw instead of ``randint``'s two, which made random numbers most of a lifetime's cost)."""
    return (((words >> 16) * n) >> 16).astype(jnp.int32)


def sample_world(key, task: ForagingTask, correlation) -> World:
    """A fresh world whose nutrition has correlation ``correlation`` (may be traced) with sweetness."""
    k_sweet, k_noise, k_offers = jax.random.split(key, 3)
    sweetness = jax.random.uniform(k_sweet, (task.n_types,))
    noise = jax.random.normal(k_noise, (task.n_types,))
    nutrition = correlation * (sweetness - 0.5) / SWEETNESS_SD + jnp.sqrt(1.0 - correlation**2) * noise
    words = jax.random.bits(k_offers, (2, task.lifetime), jnp.uint32)
    first = uniform_below(words[0], task.n_types)
    # the second kind is any other kind: shift a draw over n_types - 1 past the first
    second = (first + 1 + uniform_below(words[1], task.n_types - 1)) % task.n_types
    return World(sweetness, nutrition, jnp.stack([first, second], axis=1))


def best_possible_nutrition(world: World) -> Float[Array, ""]:
    """Nutrition of an omniscient forager's lifetime: the more nourishing kind of every offer."""
    return jnp.sum(jnp.max(world.nutrition[world.offers], axis=1))


def random_choice_nutrition(world: World) -> Float[Array, ""]:
    """Expected nutrition of a forager choosing at random."""
    return jnp.sum(jnp.mean(world.nutrition[world.offers], axis=1))
