"""Evaluation of ``maze-search-misgen``: per network, exact-path accuracy in distribution (goal in the block) and,
on the shifted test (goal outside it), whether each predicted path leads to the goal, into the block, or elsewhere."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors import search
from mesaopt.experiments.maze_search_misgen.config import MazeSearchMisgenConfig
from mesaopt.experiments.shared.common import take
from mesaopt.tasks.maze_paths import MazeBatch, MazePathTask, draw_maze_batch

N_EXAMPLES = 3
"""Shifted test mazes per condition whose predictions (first seed) the report draws."""


def proxy_cells(side: int, region: int) -> np.ndarray:
    """``(side, side)`` mask of the cells of the top-right ``region`` × ``region`` block of rooms (rooms and the
    cells between them): where a path must end to count as reaching the proxy."""
    mask = np.zeros((side, side), bool)
    mask[: 2 * region - 1, side - 2 * region + 1:] = True
    return mask


def condition_batches(cfg: MazeSearchMisgenConfig, region: int, key) -> dict[str, MazeBatch]:
    """The in-distribution and shifted test mazes of one condition (the same for each of its seeds)."""
    k_in, k_shift = jax.random.split(key)
    side = cfg.test_side
    return {"in_dist": draw_maze_batch(k_in, MazePathTask(side, region), cfg.eval_mazes),
            "shifted": draw_maze_batch(k_shift, MazePathTask(side, region, goal_outside_region=True), cfg.eval_mazes)}


def network_rates(cfg: MazeSearchMisgenConfig, model, batches: dict[str, MazeBatch], region: int) -> dict:
    """One network's ``in_dist_accuracy`` and shifted ``goal_rate`` / ``proxy_rate`` / ``both_rate`` /
    ``other_rate``, and its shifted predictions (for examples)."""
    in_dist = batches["in_dist"]
    correct = jnp.all(search.predicted_path(model, in_dist.images, cfg.train_iterations) == in_dist.path, axis=(-2, -1))
    shifted = batches["shifted"]
    pred = search.predicted_path(model, shifted.images, cfg.train_iterations)
    codes = np.asarray(search.path_targets(pred, shifted.images, shifted.path,
                                           jnp.asarray(proxy_cells(cfg.test_side, region))))
    rates = {f"{name}_rate": float(np.mean(codes == i)) for i, name in enumerate(search.TARGETS)}
    return {"in_dist_accuracy": float(np.mean(np.asarray(correct))), **rates, "predictions": pred}


def _rows(grid) -> list[str]:
    return ["".join(str(int(v)) for v in row) for row in np.asarray(grid)]


def examples(batch: MazeBatch, pred, n: int = N_EXAMPLES) -> list[dict]:
    """The first shifted mazes and one network's predictions, as row strings of 0/1 (for the report's pictures)."""
    return [{"open": _rows(batch.images[i, ..., 0] > 0.5), "start": _rows(batch.images[i, ..., 1] > 0.5),
             "goal": _rows(batch.images[i, ..., 2] > 0.5), "path": _rows(batch.path[i]), "predicted": _rows(pred[i])}
            for i in range(min(n, batch.images.shape[0]))]


def evaluate_conditions(cfg: MazeSearchMisgenConfig, trainer, params, key) -> tuple[dict, dict]:
    """Per-seed rates ``{name: (conditions, seeds) array}`` and examples ``{"region_r": [...]}``."""
    names = ("in_dist_accuracy", *(f"{t}_rate" for t in search.TARGETS))
    rates = {name: np.zeros((len(cfg.goal_regions), cfg.n_seeds)) for name in names}
    shown = {}
    for c, (region, k) in enumerate(zip(cfg.goal_regions, jax.random.split(key, len(cfg.goal_regions)))):
        batches = condition_batches(cfg, region, k)
        for s in range(cfg.n_seeds):
            result = network_rates(cfg, trainer.model(take(params, c * cfg.n_seeds + s)), batches, region)
            for name in names:
                rates[name][c, s] = result[name]
            if s == 0:
                shown[f"region_{region}"] = examples(batches["shifted"], np.asarray(result["predictions"]))
    return rates, shown
