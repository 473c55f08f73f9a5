"""The two halves of a PPO update: collect a rollout, then learn from it (clipped objective, GAE)."""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp

from mesaopt.optimizers.gae import generalized_advantages
from mesaopt.optimizers.ppo_types import EpisodeTracker, PPOLike, RunnerState, Transition


def sample_actions(key, logits):
    """Sample one action per row of ``logits``; returns actions and their log-probs."""
    action = jax.random.categorical(key, logits)
    log_prob = jnp.take_along_axis(jax.nn.log_softmax(logits), action[:, None], axis=1)[:, 0]
    return action, log_prob


def _policy_step(ppo: PPOLike, params, key, obs):
    """Sample actions for a batch of observations; returns actions, log-probs and values."""
    logits, value = jax.vmap(ppo.model(params))(obs)
    action, log_prob = sample_actions(key, logits)
    return action, log_prob, value


def _env_step(ppo: PPOLike, env_params, carry: RunnerState, _):
    key, k_act, k_env = jax.random.split(carry.key, 3)
    action, log_prob, value = _policy_step(ppo, carry.params, k_act, carry.obs)
    return step_envs(ppo, env_params, carry, key, k_env, action, log_prob, value)


def step_envs(ppo: PPOLike, env_params, carry: RunnerState, key, k_env, action, log_prob, value):
    """Step every environment with ``action``; returns the carry (``key`` as its new key) and the transition."""
    env_keys = jax.random.split(k_env, ppo.cfg.n_envs)
    obs, env_state, reward, term, trunc, _, final_obs = jax.vmap(ppo.env.step_with_final, (0, 0, 0, None))(
        env_keys, carry.env_state, action, env_params
    )
    done = (term | trunc).astype(jnp.float32)
    truncation_value = None
    if ppo.cfg.bootstrap_truncation:  # the ended episode's last observation, valued by the current parameters
        _, final_value = jax.vmap(ppo.model(carry.params))(final_obs)
        truncation_value = jnp.where(trunc & ~term, final_value, 0.0)
    ep_return = carry.episodes.returns + reward
    ep_length = carry.episodes.lengths + 1
    transition = Transition(
        obs=carry.obs, action=action, log_prob=log_prob, value=value, reward=reward, done=done,
        trunc=trunc.astype(jnp.float32), success=term.astype(jnp.float32), ep_return=ep_return, ep_length=ep_length,
        truncation_value=truncation_value,
    )
    episodes = EpisodeTracker(returns=ep_return * (1 - done), lengths=ep_length * (1 - done))
    carry = eqx.tree_at(lambda s: (s.key, s.obs, s.env_state, s.episodes), carry, (key, obs, env_state, episodes))
    return carry, transition


def refresh_levels(ppo: PPOLike, state: RunnerState, env_params) -> RunnerState:
    """Redraw every environment's spare levels (once per rollout); the first time, start each on a spare.

    ``PPO.init`` draws no level (``BufferedAutoReset.unstarted``): the first refresh supplies every level.
    """
    key, k_refresh = jax.random.split(state.key)
    env_state = ppo.env.refresh_batch(jax.random.split(k_refresh, ppo.cfg.n_envs), state.env_state, env_params)
    obs, env_state = jax.vmap(ppo.env.start, (0, 0, None))(state.obs, env_state, env_params)
    return eqx.tree_at(lambda s: (s.key, s.obs, s.env_state), state, (key, obs, env_state))


def collect_rollout(ppo: PPOLike, state: RunnerState, env_params):
    """Refresh the spare levels, step ``n_steps`` times; returns the state, transitions and bootstrap values."""
    state = refresh_levels(ppo, state, env_params)
    state, rollout = jax.lax.scan(
        lambda c, x: _env_step(ppo, env_params, c, x), state, None, length=ppo.cfg.n_steps
    )
    _, last_value = jax.vmap(ppo.model(state.params))(state.obs)
    return state, rollout, last_value


def ppo_loss(params, ppo: PPOLike, batch: dict[str, jax.Array]):
    """Clipped surrogate + clipped value loss − entropy bonus; returns (loss, diagnostics)."""
    logits, value = jax.vmap(ppo.model(params))(batch["obs"])
    return clipped_objective(ppo.cfg, logits, value, batch)


def clipped_objective(cfg, logits, value, batch: dict[str, jax.Array]):
    """The PPO loss of fresh ``logits [b, a]`` and ``value [b]`` against the rollout's ``batch`` (flat rows)."""
    log_probs = jax.nn.log_softmax(logits)
    log_prob = jnp.take_along_axis(log_probs, batch["action"][:, None], axis=1)[:, 0]
    adv = batch["advantage"]
    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
    log_ratio = log_prob - batch["log_prob"]
    ratio = jnp.exp(log_ratio)
    policy_loss = -jnp.mean(jnp.minimum(ratio * adv, jnp.clip(ratio, 1 - cfg.clip_eps, 1 + cfg.clip_eps) * adv))
    value_clipped = batch["value"] + jnp.clip(value - batch["value"], -cfg.clip_eps, cfg.clip_eps)
    value_loss = 0.5 * jnp.mean(
        jnp.maximum((value - batch["target"]) ** 2, (value_clipped - batch["target"]) ** 2)
    )
    entropy = -jnp.mean(jnp.sum(jnp.exp(log_probs) * log_probs, axis=1))
    loss = policy_loss + cfg.vf_coef * value_loss - cfg.ent_coef * entropy
    approx_kl = jnp.mean((ratio - 1) - log_ratio)
    return loss, {"policy_loss": policy_loss, "value_loss": value_loss, "entropy": entropy, "approx_kl": approx_kl}


def minibatch_step(ppo: PPOLike, carry, batch, loss_fn=ppo_loss):
    params, opt_state = carry
    grads, diagnostics = jax.grad(loss_fn, has_aux=True)(params, ppo, batch)
    updates, opt_state = ppo.optimizer.update(grads, opt_state, params)
    return (eqx.apply_updates(params, updates), opt_state), diagnostics


def _epoch(ppo: PPOLike, carry, key, batch):
    n = ppo.cfg.steps_per_update
    perm = jax.random.permutation(key, n)
    shuffled = jax.tree_util.tree_map(
        lambda x: x[perm].reshape(ppo.cfg.n_minibatches, n // ppo.cfg.n_minibatches, *x.shape[1:]), batch
    )
    return jax.lax.scan(lambda c, b: minibatch_step(ppo, c, b), carry, shuffled)


def learn_from_rollout(ppo: PPOLike, state: RunnerState, rollout: Transition, last_value):
    """GAE, then ``n_epochs`` × ``n_minibatches`` Adam steps on the clipped objective."""
    cfg = ppo.cfg
    advantage, target = generalized_advantages(
        rollout.reward, rollout.value, rollout.done, rollout.trunc, last_value, cfg.gamma, cfg.gae_lambda,
        truncation_values=rollout.truncation_value,
    )
    flat = lambda x: x.reshape(cfg.steps_per_update, *x.shape[2:])
    batch = {
        "obs": flat(rollout.obs), "action": flat(rollout.action), "log_prob": flat(rollout.log_prob),
        "value": flat(rollout.value), "advantage": flat(advantage), "target": flat(target),
    }
    key, k_epochs = jax.random.split(state.key)
    (params, opt_state), diagnostics = jax.lax.scan(
        lambda c, k: _epoch(ppo, c, k, batch), (state.params, state.opt_state), jax.random.split(k_epochs, cfg.n_epochs)
    )
    state = eqx.tree_at(lambda s: (s.params, s.opt_state, s.key), state, (params, opt_state, key))
    return state, jax.tree_util.tree_map(jnp.mean, diagnostics)
