"""Training of ``maze-search-misgen``: one recurrent thinking network per (condition, seed), all in one compiled
program; each run's goal region is its per-run problem parameter, so batches are drawn inside the loop."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.experiments.maze_search.train import IN_CHANNELS, progressive_loss
from mesaopt.experiments.maze_search_misgen.config import MazeSearchMisgenConfig
from mesaopt.models.thinking import RecurrentThinker
from mesaopt.optimizers.supervised import Supervised, make_supervised
from mesaopt.tasks.maze_paths import sample_mixed_side_batch


def run_regions(cfg: MazeSearchMisgenConfig) -> np.ndarray:
    """The goal region of every run, condition-major: ``[r1] * n_seeds + [r2] * n_seeds + ...``."""
    return np.repeat(np.asarray(cfg.goal_regions, np.int32), cfg.n_seeds)


def _loss(cfg: MazeSearchMisgenConfig):
    per_side = cfg.train.microbatch_size // len(cfg.train_sides)

    def loss_fn(model, key, step, region):
        k_batch, k_depth = jax.random.split(key)
        batch = sample_mixed_side_batch(k_batch, cfg.train_sides, per_side, jnp.asarray(region, jnp.int32))
        return progressive_loss(model, batch, k_depth, cfg.train_iterations, cfg.gradient_window)

    return loss_fn


def make_trainer(cfg: MazeSearchMisgenConfig) -> Supervised:
    """Supervised training of one recurrent thinker; the per-run problem is its goal region."""
    return make_supervised(cfg.train, lambda k: RecurrentThinker(IN_CHANNELS, width=cfg.width, key=k), _loss(cfg))


def checkpoint_metadata(cfg: MazeSearchMisgenConfig) -> dict:
    """What a checkpoint must match to load into this preset's networks."""
    return {"preset": "maze-search-misgen", "model": "recurrent", "width": cfg.width, "n_runs": cfg.n_runs}
