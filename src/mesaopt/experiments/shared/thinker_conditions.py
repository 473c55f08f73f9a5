"""The learned-search measurements every gradient-descent ``conditions-*`` factor shares: train recurrent thinkers
(``models.thinking``, the progressive loss of ``maze-search``) on pools of maze problems, then measure accuracy on
the training pool, on novel mazes of the training side, and on larger mazes given more iterations (extrapolation,
thinking gain).

A run's ``problem`` is ``(pool size, pool key)``: problem i of a run's pool is drawn from ``fold_in(pool key, i)``
(``tasks.maze_paths.sample_pool_batch``), so every level of a factor and every seed trains in one compiled program
and a pool of ``FRESH`` is a fresh maze per example.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.errors import MesaoptError
from mesaopt.experiments.maze_search.evaluate import correct_on_ladder
from mesaopt.experiments.maze_search.train import IN_CHANNELS, path_loss, progressive_loss
from mesaopt.experiments.shared.common import take
from mesaopt.experiments.shared.icl import check_positive, ci_summary
from mesaopt.models.thinking import FeedForwardThinker, RecurrentThinker
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.supervised import SupervisedConfig, make_supervised
from mesaopt.tasks.maze_paths import MazeBatch, MazePathTask, draw_maze_batch, sample_pool_batch
from mesaopt.tasks.maze_walks import wall_follower_cells

FRESH = 2**31 - 1
"""Pool size that stands for a fresh maze per example."""


@dataclass(frozen=True)
class ThinkerSetup:
    """What the factors hold fixed: the maze sizes, the network, its training and its tests."""

    side: int = 7
    """Training maze side (odd, >= 5); novel-maze accuracy is measured at this side too."""
    extrapolation_side: int = 15
    """Side of the larger test mazes (odd, > side)."""
    width: int = 16
    """Channels of the thinking state."""
    train_iterations: int = 20
    """Most iterations in training (the progressive loss's range)."""
    gradient_window: int = 10
    """Iterations with a gradient at the end of each training pass (<= train_iterations)."""
    test_iterations: tuple[int, ...] = (5, 10, 20, 40, 80)
    """Test-time iteration ladder (increasing; must include train_iterations)."""
    steps: int = 2000
    """Gradient steps per network."""
    batch_size: int = 32
    """Mazes per step."""
    learning_rate: float = 3e-3
    """AdamW peak learning rate (warm-up 50 steps, cosine decay)."""
    weight_decay: float = 0.3
    """AdamW weight decay (maze-search's default: a description-length pressure held fixed here)."""
    eval_mazes: int = 100
    """Test mazes per side, and most pool mazes scored for training accuracy."""
    n_chunks: int = 10
    """Training is streamed in this many chunks (progress, resume)."""

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        MazePathTask(self.side).validate()
        MazePathTask(self.extrapolation_side).validate()
        if self.extrapolation_side <= self.side:
            raise MesaoptError(f"extrapolation_side must be larger than side ({self.side}), "
                               f"got {self.extrapolation_side}")
        check_positive(width=self.width, train_iterations=self.train_iterations, steps=self.steps,
                       batch_size=self.batch_size, eval_mazes=self.eval_mazes, n_chunks=self.n_chunks,
                       gradient_window=self.gradient_window)
        if self.gradient_window > self.train_iterations:
            raise MesaoptError(f"gradient_window must be between 1 and train_iterations ({self.train_iterations}), "
                               f"got {self.gradient_window}")
        ladder = list(self.test_iterations)
        if not ladder or ladder != sorted(set(ladder)) or ladder[0] < 1 or self.train_iterations not in ladder:
            raise MesaoptError(f"test_iterations must be increasing whole numbers >= 1 that include "
                               f"train_iterations ({self.train_iterations}), got {tuple(ladder)}")

    def supervised(self, **overrides) -> SupervisedConfig:
        """The optimizer config (``overrides`` replace fields, e.g. a factor's weight decay)."""
        fields = {"learning_rate": self.learning_rate, "steps": self.steps, "batch_size": self.batch_size,
                  "warmup_steps": 50, "weight_decay": self.weight_decay, **overrides}
        return SupervisedConfig(**fields)


def pool_problems(pool_sizes, key) -> tuple[jax.Array, jax.Array]:
    """``(sizes [runs], pool key data [runs, ...])``: one independent pool per run."""
    keys = jax.random.split(key, len(pool_sizes))
    return jnp.asarray(pool_sizes, jnp.int32), jax.vmap(jax.random.key_data)(keys)


TARGETS = ("path", "wall_follower")
"""What a network is trained to mark: ``path`` (the start-goal path, what a BFS planner walks: maze-search's
target) or ``wall_follower`` (every cell the left-hand wall follower visits on its way to the goal,
:func:`mesaopt.tasks.maze_walks.wall_follower_cells`: a non-optimizer's trajectory)."""


def check_target(target: str) -> None:
    """One-line ``MesaoptError`` unless ``target`` is one of :data:`TARGETS`."""
    if target not in TARGETS:
        raise MesaoptError(f"target must be one of {', '.join(TARGETS)}, got {target!r}")


def relabel(batch: MazeBatch, target: str) -> MazeBatch:
    """``batch`` with its ``path`` replaced by ``target``'s cells (:data:`TARGETS`)."""
    check_target(target)
    if target == "path":
        return batch
    return batch._replace(path=_wall_follower_batch(batch.images))


_wall_follower_batch = jax.jit(jax.vmap(wall_follower_cells))
"""The wall follower's cells for a batch of images (compiled once per shape)."""


LOSSES = ("progressive", "every_iteration")
"""Training losses: ``progressive`` (maze-search's: the loss at the end of a random number of iterations) and
``every_iteration`` (the mean loss after each of 1 .. train_iterations iterations, all differentiated: it rewards
being right early, a time pressure)."""


def every_iteration_loss(model: RecurrentThinker, batch, iterations: int) -> jax.Array:
    """Mean over ``k = 1 .. iterations`` of the loss of the readout after ``k`` iterations."""
    states = model.think(batch.images, iterations, every_state=True)
    return jax.vmap(lambda state: path_loss(model.readout(state), batch.path))(states).mean()


def make_pool_trainer(setup: ThinkerSetup, train_iterations: int | None = None, loss: str = "progressive",
                      task: MazePathTask | None = None, target: str = "path", **overrides):
    """Supervised training of a :class:`RecurrentThinker` on each run's pool, with one of :data:`LOSSES`, on
    ``task`` (default: any goal at the setup's side), marking ``target`` (:data:`TARGETS`); ``overrides`` replace
    optimizer fields (e.g. ``weight_decay``)."""
    if loss not in LOSSES:
        raise MesaoptError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
    check_target(target)
    task = MazePathTask(setup.side) if task is None else task
    iterations = setup.train_iterations if train_iterations is None else train_iterations
    window = min(setup.gradient_window, iterations)

    def loss_fn(model, key, step, problem):
        size, pool = problem
        k_batch, k_depth = jax.random.split(key)
        batch = relabel(sample_pool_batch(jax.random.wrap_key_data(pool), size, k_batch, task, setup.batch_size),
                        target)
        if loss == "every_iteration":
            return every_iteration_loss(model, batch, iterations)
        return progressive_loss(model, batch, k_depth, iterations, window)

    return make_supervised(setup.supervised(**overrides),
                           lambda k: RecurrentThinker(IN_CHANNELS, width=setup.width, key=k), loss_fn)


def make_feedforward_trainer(setup: ThinkerSetup, depth: int, width: int | None = None, **overrides):
    """Supervised training of a :class:`FeedForwardThinker` (``depth`` untied blocks; the loss after all of them)
    on each run's pool."""
    task = MazePathTask(setup.side)

    def loss_fn(model, key, step, problem):
        size, pool = problem
        batch = sample_pool_batch(jax.random.wrap_key_data(pool), size, key, task, setup.batch_size)
        return path_loss(model(batch.images), batch.path)

    return make_supervised(setup.supervised(**overrides), lambda k: FeedForwardThinker(
        IN_CHANNELS, depth=depth, width=setup.width if width is None else width, key=k), loss_fn)


def train_pool_runs(setup: ThinkerSetup, trainer, problems, key, ctx) -> tuple:
    """Train one network per run (runs split over the devices, one after the other on each), checkpointing each
    chunk in the run's store; ``(params, final losses [runs], timings)``."""
    n_runs = problems[0].shape[0]
    state, metrics, timings = train_in_chunks(trainer, jax.random.split(key, n_runs), problems,
                                              min(setup.n_chunks, trainer.n_steps), on_chunk=ctx.on_chunk,
                                              store=ctx.checkpoints, sequential_runs=True)
    final_loss = np.asarray(metrics["loss"])[:, -max(1, trainer.n_steps // 20):].mean(axis=1)
    return state.params, final_loss, timings


def accuracy_ladders(setup: ThinkerSetup, trainer, params, problems, key, target: str = "path"
                     ) -> dict[str, np.ndarray]:
    """Per run and iteration count of the ladder, exact accuracy (every cell right, against ``target``'s cells) on
    ``train`` (``eval_mazes`` problems drawn uniformly from the run's pool), ``novel`` (fresh mazes of the training
    side) and ``extrapolation`` (fresh mazes of the larger side): arrays ``[runs, len(test_iterations)]``."""
    k_novel, k_large, k_pool = jax.random.split(key, 3)
    ladder = tuple(setup.test_iterations)

    def run(model, images, path):
        return _ladder_accuracy(model, images, path, ladder)

    shared = {"novel": draw_maze_batch(k_novel, MazePathTask(setup.side), setup.eval_mazes),
              "extrapolation": draw_maze_batch(k_large, MazePathTask(setup.extrapolation_side), setup.eval_mazes)}
    shared = {name: relabel(batch, target) for name, batch in shared.items()}
    sizes, pools = problems
    out = {name: [] for name in ("train", "novel", "extrapolation")}
    for r in range(sizes.shape[0]):
        model = trainer.model(take(params, r))
        pool = relabel(_pool_batch(pools[r], sizes[r], jax.random.fold_in(k_pool, r), MazePathTask(setup.side),
                                   setup.eval_mazes), target)
        out["train"].append(run(model, pool.images, pool.path))
        for name, batch in shared.items():
            out[name].append(run(model, batch.images, batch.path))
    return {name: np.asarray(jnp.stack(rows)) for name, rows in out.items()}


@functools.partial(jax.jit, static_argnums=(3, 4))
def _pool_batch(pool_key_data, pool_size, key, task: MazePathTask, batch_size: int):
    """:func:`sample_pool_batch` from a run's pool key data, compiled once per task and batch size."""
    return sample_pool_batch(jax.random.wrap_key_data(pool_key_data), pool_size, key, task, batch_size)


@functools.partial(jax.jit, static_argnums=3)
def _ladder_accuracy(model, images, path, ladder: tuple[int, ...]) -> jax.Array:
    """Accuracy after each count of ``ladder`` (one compilation per model structure, shape and ladder)."""
    return ladder_correctness(model, images, path, ladder).mean(axis=1)


def ladder_correctness(model, images, path, ladder):
    """``correct_on_ladder``; a fixed-depth network's one answer repeated along the ladder (it cannot think
    longer, so its thinking gain is 0 by construction)."""
    if isinstance(model, FeedForwardThinker):
        right = jnp.all((jnp.argmax(model(images), axis=-1) == 1) == path, axis=(-2, -1))
        return jnp.broadcast_to(right, (len(ladder), images.shape[0]))
    return correct_on_ladder(model, images, path, ladder)


def search_measures(setup: ThinkerSetup, ladders: dict[str, np.ndarray],
                    train_iterations: int | None = None) -> dict[str, np.ndarray]:
    """Per run: ``train_accuracy`` and ``novel_accuracy`` at the training iteration count (default
    ``setup.train_iterations``; it must be on the ladder), ``extrapolation_accuracy`` (the best over the ladder at
    the larger side) and ``thinking_gain`` (larger side: accuracy at the most iterations minus at the training
    count)."""
    at_train = list(setup.test_iterations).index(setup.train_iterations if train_iterations is None
                                                 else train_iterations)
    large = ladders["extrapolation"]
    return {"train_accuracy": ladders["train"][:, at_train], "novel_accuracy": ladders["novel"][:, at_train],
            "extrapolation_accuracy": large.max(axis=1), "thinking_gain": large[:, -1] - large[:, at_train]}


MEASURES = ("train_accuracy", "novel_accuracy", "extrapolation_accuracy", "thinking_gain")
"""The per-network measurements of :func:`search_measures`, in report order."""


def summarize_measures(per_level: dict) -> dict:
    """``{name: [mean per level], name_ci: [[low, high] per level]}`` (95 % t-intervals over seeds) from
    ``{name: [levels][seeds]}``: the factors' headline lists."""
    out = {}
    for name in MEASURES:
        clip = (-1.0, 1.0) if name == "thinking_gain" else (0.0, 1.0)
        cells = [ci_summary(row, clip=clip) for row in per_level[name]]
        out[name] = [round(c["mean"], 4) for c in cells]
        out[f"{name}_ci"] = [[round(x, 4) for x in c["ci"]] for c in cells]
    return out


@dataclass(frozen=True)
class LevelSpec:
    """One level of a factor: how its networks are trained and at which iteration count they are read."""

    label: str
    """Name in the report."""
    trainer: object
    """Its :class:`~mesaopt.optimizers.supervised.Supervised` (one compiled program per level)."""
    train_iterations: int
    """Iterations it trains with (a fixed-depth network: its depth), where novel accuracy and the gain are read."""
    target: str = "path"
    """What it is trained to mark and scored against (:data:`TARGETS`)."""


def level_store(ctx, tag: str | None):
    """``ctx``'s checkpoint store (``tag`` None) or a store of its own in the run's work directory, so that a killed
    run resumes each training phase from that phase's chunks."""
    from mesaopt.runs.resume import ChunkCheckpoints

    if tag is None or ctx.checkpoints is None:
        return ctx.checkpoints
    return ChunkCheckpoints(ctx.writer.work_dir, tag=tag)


def run_levels(setup: ThinkerSetup, levels: list[LevelSpec], n_seeds: int, ctx, key,
               keep_params: bool = False) -> dict:
    """Train ``n_seeds`` networks per level on a fresh maze per example and measure them: ``{"per_seed": {measure:
    [levels][seeds]}, "final_loss": [levels][seeds]}`` (and with ``keep_params`` the trained ``"params"`` per
    level). Level i > 0 checkpoints in its own store (:func:`level_store`, tag ``level-i``)."""
    k_pools, k_train, k_eval = jax.random.split(key, 3)
    per_level, losses, kept = {name: [] for name in MEASURES}, [], []
    for i, level in enumerate(levels):
        ctx.phase(f"{level.label}: training {n_seeds} networks ({level.trainer.n_steps} steps each)")
        problems = pool_problems([FRESH] * n_seeds, jax.random.fold_in(k_pools, i))
        store = level_store(ctx, None if i == 0 else f"level-{i}")
        params, final_loss, _ = train_pool_runs(setup, level.trainer, problems, jax.random.fold_in(k_train, i),
                                                dataclasses.replace(ctx, checkpoints=store))
        ladders = accuracy_ladders(setup, level.trainer, params, problems, k_eval, level.target)
        measures = search_measures(setup, ladders, level.train_iterations)
        for name in MEASURES:
            per_level[name].append(np.round(np.asarray(measures[name], np.float64), 4).tolist())
        losses.append(np.round(final_loss, 5).tolist())
        kept.append(params)
    return {"per_seed": per_level, "final_loss": losses, **({"params": kept} if keep_params else {})}
