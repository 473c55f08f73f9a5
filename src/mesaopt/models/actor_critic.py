"""Actor-critic networks for discrete-action grid environments (equinox).

Contract: ``model(obs, *, capture=False, steer=None)`` on ONE observation returns ``(logits, value)``, or
``((logits, value), activations)`` with stable TransformerLens-style names when ``capture=True``.
``steer={name: delta}`` adds ``delta`` to the activation ``name`` (one of ``model.activation_names()``) before it
flows on; captured activations are then the steered ones. Batch with ``jax.vmap``. Constructors take
``(obs_shape, n_actions, ..., *, key)``.
"""

from __future__ import annotations

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, PRNGKeyArray

Steer = dict[str, Array] | None


def check_steer(steer: Steer, allowed: tuple[str, ...]) -> None:
    """Raise ``ValueError`` if ``steer`` names an activation the model does not have (static: keys only)."""
    unknown = sorted(set(steer or {}) - set(allowed))
    if unknown:
        raise ValueError(f"cannot steer unknown activation(s) {unknown}; allowed: {list(allowed)}")


def hook(acts: dict[str, Array], name: str, x: Array, steer: Steer) -> Array:
    """Record activation ``name`` after adding ``steer[name]`` if given; returns what flows on."""
    if steer is not None and name in steer:
        x = x + steer[name]
    acts[name] = x
    return x


def dense(layer: eqx.nn.Linear, x: Array) -> Array:
    """``layer(x)`` computed as ``x @ W.T + b``: the same sum, but under ``vmap`` XLA gets a plain row-major matmul.

    Equinox's ``W @ x``, vmapped, puts the batch axis last and XLA then transposes activations back and forth in
    the backward pass: PPO trained one seed on the 7×7 maze about 1.5x slower (benchmarks/README.md).
    """
    y = x @ layer.weight.T
    return y if layer.bias is None else y + layer.bias


def conv3x3(conv: eqx.nn.Conv2d, x: Float[Array, "c h w"]) -> Float[Array, "o h w"]:
    """``conv(x)`` for a 3×3, stride-1, padding-1 ``Conv2d``, computed as one matmul over the 9 shifted copies
    of ``x`` (im2col). Same numbers up to rounding; on a 2-core CPU with 9×9 grids it ran ~7× faster forward and
    ~9× faster backward than ``lax.conv`` inside a vmapped scan (XLA's CPU convolution is slow for tiny grids)."""
    c, h, w = x.shape
    padded = jnp.pad(x, ((0, 0), (1, 1), (1, 1)))
    patches = jnp.concatenate([padded[:, i : i + h, j : j + w] for i in range(3) for j in range(3)], axis=0)
    weight = jnp.transpose(conv.weight, (2, 3, 1, 0)).reshape(9 * c, -1)  # rows ordered (i, j, channel)
    out = (patches.reshape(9 * c, h * w).T @ weight).T.reshape(-1, h, w)
    return out if conv.bias is None else out + conv.bias


def orthogonal_linear(in_size: int, out_size: int, scale: float, *, key: PRNGKeyArray) -> eqx.nn.Linear:
    """Linear layer with orthogonal weights (gain ``scale``) and zero bias, the usual PPO initialisation."""
    layer = eqx.nn.Linear(in_size, out_size, key=key)
    weight = jax.nn.initializers.orthogonal(scale)(key, (out_size, in_size))
    layer = eqx.tree_at(lambda lin: lin.weight, layer, weight)
    return eqx.tree_at(lambda lin: lin.bias, layer, jnp.zeros(out_size))


class MLPTrunk(eqx.Module):
    """``depth`` tanh layers of ``width`` units."""

    layers: list[eqx.nn.Linear]

    def __init__(self, in_size: int, width: int, depth: int, *, key: PRNGKeyArray):
        keys = jax.random.split(key, depth)
        sizes = [in_size] + [width] * depth
        self.layers = [orthogonal_linear(a, b, float(np.sqrt(2)), key=k) for a, b, k in zip(sizes, sizes[1:], keys)]

    def __call__(self, x: Array, prefix: str, acts: dict[str, Array], steer: Steer = None) -> Array:
        for i, layer in enumerate(self.layers):
            x = hook(acts, f"{prefix}.{i}.hook_post", jnp.tanh(dense(layer, x)), steer)
        return x


class MLPActorCritic(eqx.Module):
    """Separate actor and critic MLPs over the flattened observation."""

    actor: MLPTrunk
    critic: MLPTrunk
    policy_head: eqx.nn.Linear
    value_head: eqx.nn.Linear

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, width: int = 64, depth: int = 2, *, key):
        k_actor, k_critic, k_pi, k_v = jax.random.split(key, 4)
        in_size = int(np.prod(obs_shape))
        self.actor = MLPTrunk(in_size, width, depth, key=k_actor)
        self.critic = MLPTrunk(in_size, width, depth, key=k_critic)
        self.policy_head = orthogonal_linear(width, n_actions, 0.01, key=k_pi)
        self.value_head = orthogonal_linear(width, 1, 1.0, key=k_v)

    def activation_names(self) -> tuple[str, ...]:
        """Names of the activations ``capture=True`` returns and ``steer`` accepts."""
        trunks = [f"{p}.{i}.hook_post" for p in ("actor", "critic") for i in range(len(self.actor.layers))]
        return (*trunks, "hook_logits", "hook_value")

    def __call__(self, obs: Float[Array, ...], *, capture: bool = False, steer: Steer = None):
        check_steer(steer, self.activation_names())
        acts: dict[str, Array] = {}
        x = obs.reshape(-1)
        logits = hook(acts, "hook_logits", dense(self.policy_head, self.actor(x, "actor", acts, steer)), steer)
        value = hook(acts, "hook_value", dense(self.value_head, self.critic(x, "critic", acts, steer))[0], steer)
        return ((logits, value), acts) if capture else (logits, value)


class CNNActorCritic(eqx.Module):
    """Two 3×3 convolutions (same padding) shared by a policy and a value head. The convolutions run as
    :func:`conv3x3` (one matmul over shifted copies): with ``eqx.nn.Conv2d``'s own ``lax.conv`` PPO trained
    about 60x slower than the MLP on 9×9 mazes (docs/mazes.md), the backward convolution being slow in a loop."""

    convs: list[eqx.nn.Conv2d]
    dense: eqx.nn.Linear
    policy_head: eqx.nn.Linear
    value_head: eqx.nn.Linear

    def __init__(self, obs_shape: tuple[int, ...], n_actions: int, channels: int = 16, width: int = 128, *, key):
        if len(obs_shape) != 3:
            raise ValueError(f"the cnn model needs (channels, height, width) observations, got shape {obs_shape}")
        k1, k2, k_dense, k_pi, k_v = jax.random.split(key, 5)
        c_in, h, w = obs_shape
        self.convs = [
            eqx.nn.Conv2d(c_in, channels, 3, padding=1, key=k1),
            eqx.nn.Conv2d(channels, channels, 3, padding=1, key=k2),
        ]
        self.dense = orthogonal_linear(channels * h * w, width, float(np.sqrt(2)), key=k_dense)
        self.policy_head = orthogonal_linear(width, n_actions, 0.01, key=k_pi)
        self.value_head = orthogonal_linear(width, 1, 1.0, key=k_v)

    def activation_names(self) -> tuple[str, ...]:
        """Names of the activations ``capture=True`` returns and ``steer`` accepts."""
        return (*[f"convs.{i}.hook_post" for i in range(len(self.convs))], "dense.hook_post", "hook_logits",
                "hook_value")

    def __call__(self, obs: Float[Array, "c h w"], *, capture: bool = False, steer: Steer = None):
        check_steer(steer, self.activation_names())
        acts: dict[str, Array] = {}
        x = obs
        for i, conv in enumerate(self.convs):
            x = hook(acts, f"convs.{i}.hook_post", jax.nn.relu(conv3x3(conv, x)), steer)
        x = hook(acts, "dense.hook_post", jax.nn.relu(dense(self.dense, x.reshape(-1))), steer)
        logits = hook(acts, "hook_logits", dense(self.policy_head, x), steer)
        value = hook(acts, "hook_value", dense(self.value_head, x)[0], steer)
        return ((logits, value), acts) if capture else (logits, value)
