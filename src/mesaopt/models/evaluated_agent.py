"""An agent that optimizes its own objective and models whether it is being evaluated: the candidate of the
principal-agent experiment, a mesa-optimizer with a hidden mesa-objective.

Each period it takes the action that maximizes

    u(a) = w * value(a) + (1 - w) * private(a) + b * stake * E[metric | a]

where w is its loyalty (weight of company value), and b its belief that this period's metric decides whether it
keeps the job: 1 in a period of the evaluation it recognizes, otherwise the audit rate it expects. A loyal agent
works; a disloyal one takes when it believes no one counts, and maximizes the metric when it believes someone does
(deceptive alignment: performing well in the evaluation *because* it wants to stay and do something else).
"""

from __future__ import annotations

import jax.numpy as jnp
from jaxtyping import Array, Float, Int


def action_utilities(loyalty: Float[Array, " n"], value: Float[Array, "n 3"], private: Float[Array, "n 3"],
                     metric: Float[Array, "n 3"], belief: Float[Array, "n t"], stake: float) -> Float[Array, "n t 3"]:
    """``u(a)`` for every agent, period and action (``metric``: the expected metric of each action)."""
    own = loyalty[:, None] * value + (1.0 - loyalty[:, None]) * private
    return own[:, None, :] + belief[..., None] * stake * metric[:, None, :]


def choose_actions(loyalty, value, private, metric, belief, stake: float) -> Int[Array, "n t"]:
    """The utility-maximizing action of every agent in every period (ties: the first action, ``work``)."""
    return jnp.argmax(action_utilities(loyalty, value, private, metric, belief, stake), axis=-1)
