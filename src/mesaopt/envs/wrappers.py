"""Auto-reset: when an episode ends, the returned state is the first state of a new episode.

The returned ``obs`` is the new episode's first observation (as in gymnax); the ``reward``, ``terminated``,
``truncated`` and ``info`` belong to the step that ended the old episode.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

MAX_UNROLLED_SPARES = 8
"""Up to this many spares, drawing and picking them is unrolled (cheaper on CPU under vmap than a nested
vmap or a dynamic index); beyond it, vmap and a gather keep the program small."""


def _select(pred, on_true, on_false):
    return jax.tree_util.tree_map(lambda a, b: jnp.where(pred, a, b), on_true, on_false)


class AutoReset(eqx.Module):
    """Wraps an environment so ``step`` starts a fresh episode (drawn from ``params``) when one ends."""

    env: eqx.Module

    def __getattr__(self, name):
        if name == "env" or name.startswith("__"):  # not yet set (copy/pickle): no recursion
            raise AttributeError(name)
        return getattr(self.env, name)

    def reset(self, key, params):
        return self.env.reset(key, params)

    def step(self, key, state, action, params):
        k_step, k_reset = jax.random.split(key)
        obs, state, reward, terminated, truncated, info = self.env.step(k_step, state, action, params)
        reset_obs, reset_state = self.env.reset(k_reset, params)
        done = terminated | truncated
        obs = jnp.where(done, reset_obs, obs)
        state = _select(done, reset_state, state)
        return obs, state, reward, terminated, truncated, info


class BufferedState(eqx.Module):
    """Episode state plus pre-drawn levels that upcoming resets consume in order."""

    env_state: eqx.Module
    """The running episode."""
    spares: eqx.Module
    """``Level`` with a leading axis of size ``n_spares``: the next episodes' levels."""
    next_spare: jax.Array
    """Index of the spare the next reset uses (wraps around; a wrap replays a level until ``refresh``)."""


class BufferedAutoReset(eqx.Module):
    """Auto-reset that draws new levels lazily, for environments with ``sample_level`` / ``reset_to_level``.

    Drawing a level (a fresh maze) costs ~12x a step on CPU; resetting eagerly inside ``vmap`` draws one on
    *every* step for *every* environment (both ``where`` branches run). Here each environment holds
    ``n_spares`` pre-drawn levels; an ending episode starts the next spare, and :meth:`refresh` redraws all
    spares once per rollout. With ``n_spares`` >= episodes finished per environment between refreshes, every
    episode gets a fresh level; beyond that, levels repeat until the next refresh.
    """

    env: eqx.Module
    n_spares: int = eqx.field(static=True, default=2)

    def __getattr__(self, name):
        if name == "env" or name.startswith("__"):  # not yet set (copy/pickle): no recursion
            raise AttributeError(name)
        return getattr(self.env, name)

    def _draw_spares(self, key, params):
        keys = jax.random.split(key, self.n_spares)
        if self.n_spares > MAX_UNROLLED_SPARES:
            return jax.vmap(self.env.sample_level, (0, None))(keys, params)
        # Unrolled: under the caller's vmap over environments, a nested vmap over spares was ~1.5x slower on CPU.
        levels = [self.env.sample_level(keys[i], params) for i in range(self.n_spares)]
        return jax.tree_util.tree_map(lambda *leaves: jnp.stack(leaves), *levels)

    def reset(self, key, params):
        k_level, k_spares = jax.random.split(key)
        obs, env_state = self.env.reset(k_level, params)
        spares = self._draw_spares(k_spares, params)
        return obs, BufferedState(env_state=env_state, spares=spares, next_spare=jnp.asarray(0, jnp.int32))

    def refresh(self, key, state: BufferedState, params) -> BufferedState:
        """Redraw every spare level (call once per rollout, outside the per-step loop)."""
        spares = self._draw_spares(key, params)
        return BufferedState(env_state=state.env_state, spares=spares, next_spare=jnp.asarray(0, jnp.int32))

    def step(self, key, state: BufferedState, action, params):
        obs, env_state, reward, terminated, truncated, info = self.env.step(key, state.env_state, action, params)
        done = terminated | truncated
        reset_obs, reset_state = self.env.reset_to_level(self._next_level(state), params)
        env_state = _select(done, reset_state, env_state)
        if hasattr(self.env, "observe"):  # observe the selected state once; XLA drops the two unused observations
            obs = self.env.observe(env_state)
        else:
            obs = jnp.where(done, reset_obs, obs)
        next_spare = state.next_spare + done.astype(jnp.int32)
        new_state = BufferedState(env_state=env_state, spares=state.spares, next_spare=next_spare)
        return obs, new_state, reward, terminated, truncated, info

    def _next_level(self, state: BufferedState):
        """The spare the next reset uses, picked with ``n_spares`` selects (a dynamic index is a slow gather on CPU)."""
        slot = state.next_spare % self.n_spares
        if self.n_spares > MAX_UNROLLED_SPARES:
            return jax.tree_util.tree_map(lambda leaf: leaf[slot], state.spares)

        def pick(leaf):
            chosen = leaf[0]
            for i in range(1, self.n_spares):
                chosen = jnp.where(slot == i, leaf[i], chosen)
            return chosen

        return jax.tree_util.tree_map(pick, state.spares)
