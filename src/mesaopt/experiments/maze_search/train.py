"""Training of the two thinking networks: the recurrent one with the progressive loss, the feed-forward control
with the plain loss after its fixed depth. Batches of mixed sides are drawn inside the compiled loop."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import optax

from mesaopt.experiments.maze_search.config import MazeSearchConfig
from mesaopt.models.thinking import FeedForwardThinker, RecurrentThinker
from mesaopt.optimizers.supervised import Supervised, make_supervised
from mesaopt.tasks.maze_algorithms import dead_end_fill_rounds
from mesaopt.tasks.maze_paths import MazeBatch, sample_mixed_side_batch

IN_CHANNELS = 3
"""Image channels: open, start, goal."""


def path_loss(logits: jax.Array, path: jax.Array, path_weight: float = 1.0) -> jax.Array:
    """Mean per-cell cross-entropy of the path / not-path logits (every cell of the canvas counts); with
    ``path_weight`` w, the cells of the path count w times."""
    cross_entropy = optax.softmax_cross_entropy_with_integer_labels(logits, path.astype(jnp.int32))
    if path_weight != 1.0:
        cross_entropy = cross_entropy * jnp.where(path, path_weight, 1.0)
    return cross_entropy.mean()


def progressive_loss(model: RecurrentThinker, batch: MazeBatch, key, max_iterations: int, window: int,
                     every_iteration: bool = False, start_noise: float = 0.0,
                     wrong_start_share: float = 0.0, min_free: int = 0, cell_loss=path_loss,
                     target_after=None) -> jax.Array:
    """Loss after ``n + window`` iterations, ``n`` uniform in ``min_free`` .. ``max_iterations - window``, with
    gradients through the last ``window`` only: the network learns to continue from any of its own intermediate states
    (what lets it keep going at test time), at the cost of ``window`` differentiated iterations. With
    ``every_iteration``, the mean of the losses after each of those ``window`` iterations instead: it pays to be
    right early (a time pressure). With ``start_noise`` σ > 0, the free iterations start from the initial state
    plus Gaussian noise of σ times its standard deviation, clipped at 0 like the state (a perturbed start the
    network must recover from: a pressure towards one fixed point whatever the start, "path independence"). With
    ``wrong_start_share`` p > 0, see :func:`free_inputs`. ``cell_loss(logits, path)``: the loss of one readout;
    ``target_after(t)``: the cells it asks for after ``t`` iterations in all (None: the path, whatever ``t``; see
    :func:`trace_targets`)."""
    images = batch.images

    def asked_after(t):
        return batch.path if target_after is None else target_after(t)

    n_free = jax.random.randint(key, (), min_free, max_iterations - window + 1)
    start = model.initial_state(images)
    first_images, n_wrong = images, None
    if wrong_start_share > 0:  # its own key (fold_in), as the noise's
        first_images, n_wrong = free_inputs(jax.random.fold_in(key, 2), images, n_free, wrong_start_share)
    first = start if n_wrong is None else model.initial_state(first_images)
    if start_noise > 0:  # the noise's own key (fold_in): without noise the draws are those of runs before the option
        noise = jax.random.normal(jax.random.fold_in(key, 1), first.shape)
        first = jnp.maximum(first + start_noise * first.std() * noise, 0.0)

    def free_step(t, state):
        return model.step(state, images if n_wrong is None else jnp.where(t < n_wrong, first_images, images))

    free = jax.lax.fori_loop(0, n_free, free_step, jax.lax.stop_gradient(first))
    # straight-through: the free iterations' value, the initial projection's gradient
    state = start + jax.lax.stop_gradient(free - start)
    if every_iteration:
        states = model.think(images, window, state=state, every_state=True)
        done = n_free + 1 + jnp.arange(window)
        return jax.vmap(lambda s, t: cell_loss(model.readout(s), asked_after(t)))(states, done).mean()
    return cell_loss(model.readout(model.think(images, window, state=state)), asked_after(n_free + window))


def trace_targets(batch: MazeBatch, rate: float):
    """Process supervision: ``t -> `` the open cells dead-end filling has not filled by round ``floor(rate * t)``
    (the path and the dead-end cells it has not reached yet). Once every dead end is filled it is the path. A loss
    on it asks for the filling's trace, ``rate`` rounds per iteration, not only for its answer."""
    fill_round = jax.vmap(dead_end_fill_rounds)(batch.images)
    open_cells = batch.images[..., 0] > 0.5

    def target_after(t):
        rounds = jnp.floor(rate * t).astype(fill_round.dtype)
        return open_cells & ~((fill_round > 0) & (fill_round <= rounds))

    return target_after


def free_inputs(key, images: jax.Array, n_free: jax.Array, share: float) -> tuple[jax.Array, jax.Array]:
    """The images the free iterations begin on, and for how many of them: each maze with probability ``share``
    begins on the batch's next maze instead (another maze, its walls, start and goal), for a number of iterations
    uniform in 0 .. ``n_free``; then on its own. The network must leave a search for a wrong maze that is already
    under way (a state that no Gaussian perturbation reaches), so that a state it cannot leave costs it."""
    k_which, k_length = jax.random.split(key)
    wrong = jax.random.bernoulli(k_which, share, images.shape[:1])
    begun = jnp.where(wrong[:, None, None, None], jnp.roll(images, 1, axis=0), images)
    return begun, jax.random.randint(k_length, (), 0, n_free + 1)


def _recurrent_loss(cfg: MazeSearchConfig):
    per_side = cfg.train.microbatch_size // len(cfg.train_sides)

    def loss_fn(model, key, step, _):
        k_batch, k_depth = jax.random.split(key)
        batch = sample_mixed_side_batch(k_batch, cfg.train_sides, per_side, cfg.goal_region, cfg.far_start_share)
        return progressive_loss(model, batch, k_depth, cfg.train_iterations, cfg.gradient_window, cfg.time_pressure,
                                cfg.start_noise, cfg.wrong_start_share, cfg.min_free_iterations,
                                functools.partial(path_loss, path_weight=cfg.path_weight),
                                trace_targets(batch, cfg.trace_rate) if cfg.trace_rate > 0 else None)

    return loss_fn


def _feedforward_loss(cfg: MazeSearchConfig):
    per_side = cfg.train.microbatch_size // len(cfg.train_sides)

    def loss_fn(model, key, step, _):
        batch = sample_mixed_side_batch(key, cfg.train_sides, per_side, cfg.goal_region)
        return path_loss(model(batch.images), batch.path, cfg.path_weight)

    return loss_fn


def make_trainer(cfg: MazeSearchConfig, kind: str) -> Supervised:
    """Supervised training of one model class (``"recurrent"`` or ``"feedforward"``)."""
    if kind == "recurrent":
        return make_supervised(cfg.train, lambda k: RecurrentThinker(
            IN_CHANNELS, width=cfg.width, residual_layers=cfg.residual_layers, key=k), _recurrent_loss(cfg))
    if kind == "feedforward":
        steps = cfg.train.steps if cfg.feedforward_steps is None else cfg.feedforward_steps
        return make_supervised(
            dataclasses.replace(cfg.train, steps=steps),
            lambda k: FeedForwardThinker(IN_CHANNELS, depth=cfg.train_iterations, width=cfg.width,
                                         residual_layers=cfg.residual_layers, key=k),
            _feedforward_loss(cfg))
    raise ValueError(f"unknown model kind {kind!r}; allowed: recurrent, feedforward")


def checkpoint_metadata(cfg: MazeSearchConfig, kind: str) -> dict:
    """What a checkpoint must match to load into this preset's model of ``kind``."""
    deeper = {} if cfg.residual_layers == 1 else {"residual_layers": cfg.residual_layers}  # runs before it load
    return {"preset": "maze-search", "model": kind, "width": cfg.width, "depth": cfg.train_iterations,
            "n_runs": cfg.n_seeds, **deeper}
