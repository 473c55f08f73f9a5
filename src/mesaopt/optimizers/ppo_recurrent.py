"""PPO for recurrent models (purejaxrl-style): a hidden state per environment, minibatches over environments.

While collecting, each environment carries its model's hidden state; it is reset to ``initial_hidden()`` right
after a step that ends the episode (the auto-reset observation that follows starts a new episode). The rollout
keeps the hidden state every environment started it with. In the learning phase a minibatch is a group of
whole environments (``n_envs / n_minibatches`` of them, shuffled per epoch), and the model is re-run through
the whole rollout from those starting states with the same resets, so the fresh log-probs under unchanged
parameters equal the stored ones (the PPO ratio starts at exactly 1).
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from mesaopt.optimizers.gae import generalized_advantages
from mesaopt.optimizers.ppo_types import PPOLike, RunnerState, Transition, UpdateMetrics, summarize_update
from mesaopt.optimizers.ppo_steps import clipped_objective, minibatch_step, refresh_levels, sample_actions, step_envs


def initial_hiddens(model: eqx.Module, n_envs: int):
    """``model.initial_hidden()`` stacked ``n_envs`` times (leading axis)."""
    return jax.tree_util.tree_map(lambda h: jnp.broadcast_to(h, (n_envs, *h.shape)), model.initial_hidden())


def reset_hiddens(model: eqx.Module, hidden, done):
    """Each environment's hidden state, replaced by the initial one where ``done [n_envs]`` is set."""
    start = model.initial_hidden()

    def select(h, h0):
        mask = done.reshape(done.shape + (1,) * (h.ndim - done.ndim)) > 0
        return jnp.where(mask, h0, h)

    return jax.tree_util.tree_map(select, hidden, start)


def _recurrent_env_step(ppo: PPOLike, env_params, carry: RunnerState, _):
    key, k_act, k_env = jax.random.split(carry.key, 3)
    model = ppo.model(carry.params)
    hidden, (logits, value) = jax.vmap(model.step)(carry.hidden, carry.obs)
    action, log_prob = sample_actions(k_act, logits)
    carry, transition = step_envs(ppo, env_params, carry, key, k_env, action, log_prob, value)
    carry = eqx.tree_at(lambda s: s.hidden, carry, reset_hiddens(model, hidden, transition.done))
    return carry, transition


def collect_recurrent_rollout(ppo: PPOLike, state: RunnerState, env_params):
    """Like ``collect_rollout``; also returns the hidden states the rollout started from."""
    state = refresh_levels(ppo, state, env_params)
    start_hidden = state.hidden
    state, rollout = jax.lax.scan(
        lambda c, x: _recurrent_env_step(ppo, env_params, c, x), state, None, length=ppo.cfg.n_steps
    )
    _, (_, last_value) = jax.vmap(ppo.model(state.params).step)(state.hidden, state.obs)
    return state, rollout, last_value, start_hidden


def replay_rollout(model: eqx.Module, start_hidden, obs, done):
    """Re-run ``model`` over a rollout (time-major ``obs [t, n, ...]``, ``done [t, n]``) from ``start_hidden``,
    resetting each environment's hidden state after the steps that ended its episodes; ``(logits, value)``."""

    def step(hidden, xs):
        obs_t, done_t = xs
        hidden, out = jax.vmap(model.step)(hidden, obs_t)
        return reset_hiddens(model, hidden, done_t), out

    _, (logits, value) = jax.lax.scan(step, start_hidden, (obs, done))
    return logits, value


def recurrent_ppo_loss(params, ppo: PPOLike, batch: dict[str, jax.Array]):
    """The clipped PPO loss with the policy recomputed through the minibatch's whole rollout."""
    logits, value = replay_rollout(ppo.model(params), batch["hidden"], batch["obs"], batch["done"])
    flat = {k: v.reshape(-1, *v.shape[2:]) for k, v in batch.items() if k not in ("hidden", "obs", "done")}
    return clipped_objective(ppo.cfg, logits.reshape(-1, logits.shape[-1]), value.reshape(-1), flat)


def split_by_envs(key, batch: dict, n_minibatches: int) -> dict:
    """Shuffle environments and cut them into ``n_minibatches`` groups.

    ``batch["hidden"]`` has environments on axis 0; every other entry is time-major (environments on axis 1).
    Returns arrays with a leading minibatch axis (``hidden``: ``[m, n / m, ...]``, others ``[m, t, n / m, ...]``).
    """
    n_envs = jax.tree_util.tree_leaves(batch["hidden"])[0].shape[0]
    perm = jax.random.permutation(key, n_envs)
    per = n_envs // n_minibatches
    hidden = jax.tree_util.tree_map(lambda x: x[perm].reshape(n_minibatches, per, *x.shape[1:]), batch["hidden"])
    timed = {
        k: jnp.swapaxes(v[:, perm].reshape(v.shape[0], n_minibatches, per, *v.shape[2:]), 0, 1)
        for k, v in batch.items() if k != "hidden"
    }
    return {**timed, "hidden": hidden}


def _recurrent_epoch(ppo: PPOLike, carry, key, batch):
    minibatches = split_by_envs(key, batch, ppo.cfg.n_minibatches)
    return jax.lax.scan(lambda c, b: minibatch_step(ppo, c, b, recurrent_ppo_loss), carry, minibatches)


def learn_from_recurrent_rollout(ppo: PPOLike, state: RunnerState, rollout: Transition, last_value, start_hidden):
    """GAE, then ``n_epochs`` × ``n_minibatches`` Adam steps, each on a group of whole environments."""
    cfg = ppo.cfg
    advantage, target = generalized_advantages(
        rollout.reward, rollout.value, rollout.done, rollout.trunc, last_value, cfg.gamma, cfg.gae_lambda
    )
    batch = {
        "obs": rollout.obs, "done": rollout.done, "action": rollout.action, "log_prob": rollout.log_prob,
        "value": rollout.value, "advantage": advantage, "target": target, "hidden": start_hidden,
    }
    key, k_epochs = jax.random.split(state.key)
    (params, opt_state), diagnostics = jax.lax.scan(
        lambda c, k: _recurrent_epoch(ppo, c, k, batch), (state.params, state.opt_state),
        jax.random.split(k_epochs, cfg.n_epochs),
    )
    state = eqx.tree_at(lambda s: (s.params, s.opt_state, s.key), state, (params, opt_state, key))
    return state, jax.tree_util.tree_map(jnp.mean, diagnostics)


def recurrent_update(ppo: PPOLike, state: RunnerState, env_params) -> tuple[RunnerState, UpdateMetrics]:
    """One PPO update of a recurrent model: collect a rollout, then learn from it."""
    state, rollout, last_value, start_hidden = collect_recurrent_rollout(ppo, state, env_params)
    state, losses = learn_from_recurrent_rollout(ppo, state, rollout, last_value, start_hidden)
    return state, summarize_update(rollout, losses)
