"""Auto-reset: when an episode ends, the returned state is the first state of a new episode.

The returned ``obs`` is the new episode's first observation (as in gymnax); the ``reward``, ``terminated``,
``truncated`` and ``info`` belong to the step that ended the old episode.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

MAX_UNROLLED_SPARES = 8
"""Up to this many spares, the one a reset uses is picked with unrolled selects (cheaper on CPU under vmap
than a dynamic index); beyond it, a gather keeps the program small."""


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
    started: jax.Array
    """False while no episode has begun (a state from :meth:`BufferedAutoReset.unstarted`), True after."""


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
        return jax.vmap(self.env.sample_level, (0, None))(jax.random.split(key, self.n_spares), params)

    def reset(self, key, params):
        """A fresh episode and ``n_spares`` spare levels, all drawn by one ``vmap`` of ``sample_level`` (one copy
        of the level generator in the compiled program instead of ``1 + n_spares``)."""
        k_level, k_spares = jax.random.split(key)
        keys = jnp.concatenate([k_level[None], jax.random.split(k_spares, self.n_spares)])
        levels = jax.vmap(self.env.sample_level, (0, None))(keys, params)
        obs, env_state = self.env.reset_to_level(jax.tree_util.tree_map(lambda leaf: leaf[0], levels), params)
        spares = jax.tree_util.tree_map(lambda leaf: leaf[1:], levels)
        return obs, BufferedState(env_state, spares, jnp.asarray(0, jnp.int32), jnp.asarray(True))

    def unstarted(self, params):
        """``(obs, state)`` of an environment with no level drawn yet: zeros shaped like :meth:`reset`'s.

        :meth:`refresh` (or :meth:`refresh_batch`) then draws its spares and :meth:`start` begins its first
        episode on one. A learner that refreshes before its first step (PPO does, once per rollout) starts this
        way instead of with :meth:`reset`, whose spares the first refresh would redraw unused: its init program
        then holds no copy of the level generator, which was 2-4 s of PPO's cold compile on 2 CPU cores.
        """
        shapes = jax.eval_shape(self.reset, jax.random.key(0), params)
        obs, state = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape, s.dtype), shapes)
        return obs, eqx.tree_at(lambda s: s.started, state, jnp.asarray(False))

    def start(self, obs, state: BufferedState, params):
        """Begin the first episode of an :meth:`unstarted` environment on its next spare; ``(obs, state)``.

        A started environment is returned unchanged, so this can run at every refresh.
        """
        begin = ~state.started
        first_obs, first_state = self.env.reset_to_level(self._next_level(state), params)
        obs = jnp.where(begin, first_obs, obs)
        env_state = _select(begin, first_state, state.env_state)
        next_spare = state.next_spare + begin.astype(jnp.int32)
        return obs, BufferedState(env_state, state.spares, next_spare, jnp.ones_like(state.started))

    def refresh(self, key, state: BufferedState, params) -> BufferedState:
        """Redraw every spare level of one environment (call once per rollout, outside the per-step loop).

        For a batch of environments prefer :meth:`refresh_batch`: the same levels, faster than ``vmap(refresh)``.
        """
        spares = self._draw_spares(key, params)
        return BufferedState(state.env_state, spares, jnp.asarray(0, jnp.int32), state.started)

    def refresh_batch(self, keys, states: BufferedState, params) -> BufferedState:
        """``vmap(refresh)`` over a batch of environments (one key each), with the same levels.

        The spares of every environment are drawn as one flat batch. On XLA CPU a ``vmap`` nested inside the
        batch's ``vmap`` ran ~1.5x slower, and drawing the spares one by one (unrolled) made the buffered maze
        ~1.4x slower at batch 1024 (benchmarks/README.md, "Where mesaopt's environment time goes").
        """
        spare_keys = jax.vmap(lambda key: jax.random.split(key, self.n_spares))(keys)
        flat = jax.vmap(self.env.sample_level, (0, None))(spare_keys.reshape(-1), params)
        spares = jax.tree_util.tree_map(lambda leaf: leaf.reshape(keys.shape[0], self.n_spares, *leaf.shape[1:]), flat)
        return BufferedState(states.env_state, spares, jnp.zeros_like(states.next_spare), states.started)

    def step(self, key, state: BufferedState, action, params):
        return self.step_with_final(key, state, action, params)[:6]

    def step_with_final(self, key, state: BufferedState, action, params):
        """:meth:`step`, plus the observation the step reached before any reset (the ended episode's last one,
        which a value bootstrap after a time-limit truncation needs). Unused, XLA drops it."""
        final_obs, env_state, reward, terminated, truncated, info = self.env.step(key, state.env_state, action,
                                                                                   params)
        obs = final_obs
        done = terminated | truncated
        reset_obs, reset_state = self.env.reset_to_level(self._next_level(state), params)
        env_state = _select(done, reset_state, env_state)
        if hasattr(self.env, "observe"):  # observe the selected state once; XLA drops the two unused observations
            obs = self.env.observe(env_state)
        else:
            obs = jnp.where(done, reset_obs, obs)
        next_spare = state.next_spare + done.astype(jnp.int32)
        new_state = BufferedState(env_state, state.spares, next_spare, state.started)
        return obs, new_state, reward, terminated, truncated, info, final_obs

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
