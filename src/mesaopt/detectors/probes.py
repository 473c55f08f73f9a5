"""Linear probes: does a layer linearly encode the goal cell, the next action, the cells on the path?

Pipeline (all pure, jittable, vmappable over agents): roll the policy out (:func:`measure_episode_outcomes`),
rebuild the observation at every step, read one named activation there (:func:`collect_probe_dataset`), label
each acting step (:func:`probe_dataset`), and fit closed-form ridge probes on a train/test split BY EPISODE
(:func:`fit_probes`), so that steps of one episode — which share a layout and a goal — never sit on both sides.

A recurrent model plugs in by computing the features ``[n, t, d]`` along the same rollouts itself (its
activations depend on the hidden state, so they cannot be read from a single observation) and calling
:func:`probe_dataset` with them.
"""

from __future__ import annotations

from collections.abc import Callable

import equinox as eqx
import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from mesaopt.detectors.outcomes import EpisodeOutcomes, measure_episode_outcomes
from mesaopt.detectors.policies import policy_from_model
from mesaopt.envs.bfs import UNREACHABLE, distance_map
from mesaopt.envs.maze import MazeState

INPUT_LAYER = "input"
"""Pseudo-layer name for the raw observation (the probe's reference point: what is decodable without the net)."""


def model_activations(model) -> Callable[[Array], dict[str, Array]]:
    """``obs -> {"input": obs, **activations}`` for a model following the ``capture=True`` contract."""
    return lambda obs: {INPUT_LAYER: obs, **model(obs, capture=True)[1]}


def check_layer(env, activations: Callable[[Array], dict[str, Array]], layer: str) -> None:
    """Raise ``ValueError`` unless ``activations`` (traced abstractly on one observation) has ``layer``."""
    names = jax.eval_shape(activations, jax.ShapeDtypeStruct(env.obs_shape, jnp.float32))
    if layer not in names:
        raise ValueError(f"unknown layer {layer!r}; allowed: {sorted(names)}")


class ProbeDataset(eqx.Module):
    """Features and labels at every step of ``n`` rollouts of ``t`` steps (only ``acting`` steps are used)."""

    features: Float[Array, "n t d"]
    """The probed activation, flattened, at each step's observation (before the step's action)."""
    goal_cell: Int[Array, " n"]
    """Absolute goal cell of the episode, as ``row * size + col``."""
    relative_goal: Int[Array, "n t"]
    """Goal minus agent position, as ``(d_row + size - 1) * (2 size - 1) + (d_col + size - 1)``."""
    action: Int[Array, "n t"]
    """The action the policy took at that step."""
    on_path: Bool[Array, "n t h w"]
    """Cells on some shortest path from the agent (at that step) to the goal, both ends included."""
    acting: Bool[Array, "n t"]
    """Steps before the goal was reached; the others are ignored."""


def rollout_observations(env, outcomes: EpisodeOutcomes) -> Array:
    """The observation at every step ``[n, t, *obs_shape]`` (agent at ``positions[:, t]``), rebuilt from outcomes."""

    def observe(walls, pos, goal):
        return env.observe(MazeState(walls=walls, agent_pos=pos, goal_pos=goal, time=jnp.asarray(0, jnp.int32)))

    per_step = jax.vmap(observe, (None, 0, None))
    return jax.vmap(per_step)(outcomes.walls, outcomes.positions[:, :-1], outcomes.goal_pos)


def _on_path(walls: Array, agent: Array, goal: Array) -> Array:
    """Cells x with d(agent, x) + d(x, goal) = d(agent, goal) (empty when the goal is unreachable)."""
    size = walls.shape[0]
    one_hot = lambda p: jnp.zeros((size, size), bool).at[p[0], p[1]].set(True)
    from_agent, to_goal = distance_map(walls, one_hot(agent)), distance_map(walls, one_hot(goal))
    length = to_goal[agent[0], agent[1]]
    return ((from_agent + to_goal) == length) & (length < UNREACHABLE)


def probe_dataset(env, outcomes: EpisodeOutcomes, features: Float[Array, "n t d"]) -> ProbeDataset:
    """Label each step of ``outcomes`` (goal cell, relative goal, action, on-path cells) next to ``features``."""
    size = env.size
    agent = outcomes.positions[:, :-1]
    offset = outcomes.goal_pos[:, None, :] - agent + (size - 1)
    path = jax.vmap(jax.vmap(_on_path, (None, 0, None)))(outcomes.walls, agent, outcomes.goal_pos)
    return ProbeDataset(
        features=features.reshape(*features.shape[:2], -1).astype(jnp.float32),
        goal_cell=outcomes.goal_pos[:, 0] * size + outcomes.goal_pos[:, 1],
        relative_goal=offset[..., 0] * (2 * size - 1) + offset[..., 1],
        action=outcomes.actions, on_path=path, acting=outcomes.acting,
    )


def collect_probe_dataset(
    key: PRNGKeyArray, env, params, policy, activations: Callable[[Array], dict[str, Array]], layer: str, *,
    n_episodes: int = 256, horizon: int, greedy: bool = False, action_of: Callable[[Array], Array] | None = None,
) -> ProbeDataset:
    """Roll ``policy`` out on levels from ``params`` and read ``activations(obs)[layer]`` at every step.

    ``activations`` must be a function of one observation (feed-forward models: :func:`model_activations`).
    ``action_of(obs) -> action``, if given, replaces the action label (e.g. the probed model's greedy action when
    ``policy`` is some other, reference policy).
    """
    check_layer(env, activations, layer)
    outcomes = measure_episode_outcomes(key, env, params, policy, n_episodes=n_episodes, horizon=horizon,
                                        greedy=greedy)
    obs = rollout_observations(env, outcomes)
    features = jax.vmap(jax.vmap(lambda o: activations(o)[layer].reshape(-1)))(obs)
    data = probe_dataset(env, outcomes, features)
    if action_of is None:
        return data
    return eqx.tree_at(lambda d: d.action, data, jax.vmap(jax.vmap(action_of))(obs).astype(data.action.dtype))


class ProbeReport(eqx.Module):
    """Held-out accuracy of ridge probes from one layer (examples: acting steps of the test episodes).

    Probes are one-vs-rest ridge regressions on one-hot targets (argmax classifies; the on-path probe is one
    binary regression per cell, thresholded at 0.5) over standardized features, fitted in closed form on the
    train episodes. Accuracies are in [0, 1], higher = the layer encodes the label more linearly; compare each
    with its ``*_chance`` (predicting the train set's most frequent label) and with the same probe on the
    ``"input"`` pseudo-layer. Steps are weighted equally, so long episodes count more than short ones.

    The goal probe targets the ABSOLUTE goal cell, the question being whether the network knows where the goal
    is in the maze. For egocentric observations this assumes the absolute position is recoverable from the
    observation — it is, since the (2·size − 1)² window always shows the maze's border — but it asks for more
    than the input offers linearly (absolute cell = agent cell + relative offset), so an egocentric network
    that keeps the goal only in its own frame scores low here and high on ``relative_goal_accuracy``.
    """

    goal_accuracy: Float[Array, ""]
    """P(probe's argmax = absolute goal cell) over test steps. Range [0, 1]; higher = goal cell encoded."""
    goal_chance: Float[Array, ""]
    """Accuracy of always answering the most frequent training goal cell. Range [0, 1]."""
    goal_accuracy_per_cell: Float[Array, "h w"]
    """Goal-probe accuracy over test steps whose goal is at that cell; NaN where no test example has it."""
    relative_goal_accuracy: Float[Array, ""]
    """The same for the goal's offset from the agent ((2·size − 1)² classes). Range [0, 1]."""
    relative_goal_chance: Float[Array, ""]
    """Majority-class accuracy for the offset. Range [0, 1]."""
    action_accuracy: Float[Array, ""]
    """P(probe's argmax = the action taken next). Range [0, 1]; a policy layer near the head should score high."""
    action_chance: Float[Array, ""]
    """Majority-action accuracy. Range [0, 1]."""
    path_accuracy: Float[Array, ""]
    """Mean over informative cells (both labels occur among test steps) of the per-cell on-path accuracy."""
    path_chance: Float[Array, ""]
    """Mean over the same cells of the per-cell majority-label accuracy."""
    path_accuracy_per_cell: Float[Array, "h w"]
    """On-path accuracy per cell; NaN where the cell's label never varies among test steps."""
    n_train: Int[Array, ""]
    """Training examples (acting steps of train episodes)."""
    n_test: Int[Array, ""]
    """Test examples (acting steps of test episodes)."""


def ridge_fit_predict(x: Array, y: Array, w_train: Array, ridge: float) -> Array:
    """Predictions on all rows of a ridge regression fitted on rows weighted by ``w_train`` (0/1).

    Features are standardized with train statistics and targets centred, so the intercept is unpenalized;
    ``ridge`` is relative to the mean squared (standardized) feature, i.e. scale-free.
    """
    total = jnp.maximum(w_train.sum(), 1.0)
    mean = (w_train[:, None] * x).sum(0) / total
    std = jnp.sqrt((w_train[:, None] * (x - mean) ** 2).sum(0) / total) + 1e-6
    z = (x - mean) / std
    y_mean = (w_train[:, None] * y).sum(0) / total
    gram = (z * w_train[:, None]).T @ z / total
    rhs = (z * w_train[:, None]).T @ (y - y_mean) / total
    coef = jnp.linalg.solve(gram + ridge * jnp.eye(x.shape[1]), rhs)
    return z @ coef + y_mean


def _accuracy_and_chance(pred: Array, label: Array, n_classes: int, w_train: Array, w_test: Array):
    """Held-out accuracy of ``pred`` and of always predicting the train majority label."""
    majority = jnp.argmax(jnp.zeros(n_classes).at[label].add(w_train))
    n_test = jnp.maximum(w_test.sum(), 1.0)
    return (w_test * (pred == label)).sum() / n_test, (w_test * (label == majority)).sum() / n_test


def _per_cell_mean(values: Array, cell: Array, w: Array, n_cells: int) -> Array:
    """Weighted mean of ``values`` grouped by ``cell``; NaN for cells with no weight."""
    total = jnp.zeros(n_cells).at[cell].add(w)
    summed = jnp.zeros(n_cells).at[cell].add(w * values)
    return jnp.where(total > 0, summed / jnp.maximum(total, 1e-9), jnp.nan)


def _path_scores(pred: Array, path: Array, w_train: Array, w_test: Array):
    """Per-cell on-path accuracy and majority accuracy; means over informative cells."""
    n_test = jnp.maximum(w_test.sum(), 1.0)
    acc = (w_test[:, None] * ((pred > 0.5) == path)).sum(0) / n_test
    majority = (w_train[:, None] * path).sum(0) >= 0.5 * w_train.sum()
    chance = (w_test[:, None] * (path == majority)).sum(0) / n_test
    positives = (w_test[:, None] * path).sum(0)
    informative = (positives > 0) & (positives < w_test.sum())
    n_inf = jnp.maximum(informative.sum(), 1)
    mean_of = lambda v: jnp.where(informative.any(), jnp.sum(jnp.where(informative, v, 0.0)) / n_inf, jnp.nan)
    return mean_of(acc), mean_of(chance), jnp.where(informative, acc, jnp.nan)


def fit_probes(key: PRNGKeyArray, data: ProbeDataset, *, test_fraction: float = 0.5, ridge: float = 1e-2
               ) -> ProbeReport:
    """Fit goal / relative-goal / action / on-path ridge probes on train episodes; score them on test episodes."""
    n, t, _ = data.features.shape
    n_test_eps = round(n * test_fraction)
    if not 0 < n_test_eps < n:
        raise ValueError(f"test_fraction {test_fraction} leaves no train or no test episode of {n}; allowed: (0, 1)")
    if ridge <= 0:
        raise ValueError(f"ridge must be > 0, got {ridge}")
    size = data.on_path.shape[-1]
    is_test = jnp.zeros(n, bool).at[jax.random.permutation(key, n)[:n_test_eps]].set(True)
    acting = data.acting.reshape(-1).astype(jnp.float32)
    w_test = acting * jnp.repeat(is_test, t)
    w_train = acting - w_test
    goal = jnp.repeat(data.goal_cell, t)
    rel, action = data.relative_goal.reshape(-1), data.action.reshape(-1)
    path = data.on_path.reshape(n * t, -1).astype(jnp.float32)
    n_cells, n_rel = size * size, (2 * size - 1) ** 2
    y = jnp.concatenate([jax.nn.one_hot(goal, n_cells), jax.nn.one_hot(rel, n_rel), jax.nn.one_hot(action, 4), path], 1)
    pred = ridge_fit_predict(data.features.reshape(n * t, -1), y, w_train, ridge)
    goal_pred = jnp.argmax(pred[:, :n_cells], 1)
    rel_pred = jnp.argmax(pred[:, n_cells : n_cells + n_rel], 1)
    action_pred = jnp.argmax(pred[:, n_cells + n_rel : n_cells + n_rel + 4], 1)
    goal_acc, goal_chance = _accuracy_and_chance(goal_pred, goal, n_cells, w_train, w_test)
    rel_acc, rel_chance = _accuracy_and_chance(rel_pred, rel, n_rel, w_train, w_test)
    act_acc, act_chance = _accuracy_and_chance(action_pred, action, 4, w_train, w_test)
    path_acc, path_chance, path_cells = _path_scores(pred[:, n_cells + n_rel + 4 :], path, w_train, w_test)
    per_cell = _per_cell_mean((goal_pred == goal).astype(jnp.float32), goal, w_test, n_cells)
    return ProbeReport(
        goal_accuracy=goal_acc, goal_chance=goal_chance, goal_accuracy_per_cell=per_cell.reshape(size, size),
        relative_goal_accuracy=rel_acc, relative_goal_chance=rel_chance,
        action_accuracy=act_acc, action_chance=act_chance, path_accuracy=path_acc, path_chance=path_chance,
        path_accuracy_per_cell=path_cells.reshape(size, size),
        n_train=w_train.sum().astype(jnp.int32), n_test=w_test.sum().astype(jnp.int32),
    )


def measure_probes(
    key: PRNGKeyArray, env, params, model, layer: str, *, n_episodes: int = 256, horizon: int,
    greedy: bool = False, test_fraction: float = 0.5, ridge: float = 1e-2, rollout_policy: Callable | None = None,
) -> ProbeReport:
    """Probe ``layer`` of a feed-forward actor-critic ``model`` along rollouts on ``params``.

    ``rollout_policy=None``: the model's own rollouts (the states it visits; action label = its action). Accuracy
    then depends on where the agent goes — an agent that always walks to the same corner makes its own position,
    and so the absolute goal, easy to decode. Pass a shared reference policy (e.g. a uniform random one) to probe
    every agent on the same states; the action label is then the model's greedy action on those states.
    """
    k_roll, k_split = jax.random.split(key)
    own = rollout_policy is None
    data = collect_probe_dataset(
        k_roll, env, params, policy_from_model(model) if own else rollout_policy, model_activations(model), layer,
        n_episodes=n_episodes, horizon=horizon, greedy=greedy, action_of=None if own else lambda o: jnp.argmax(model(o)[0]),
    )
    return fit_probes(k_split, data, test_fraction=test_fraction, ridge=ridge)
