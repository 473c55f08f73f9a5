"""Evaluation of trained thinking networks: exact-path accuracy over the (side × iterations) ladder, and the
search detectors on the recurrent networks."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.detectors import search
from mesaopt.detectors.path_failures import failure_kinds, failure_shares
from mesaopt.experiments.maze_search.config import MazeSearchConfig
from mesaopt.experiments.shared.common import take
from mesaopt.tasks.maze_paths import MazePathTask, draw_maze_batch


def correct_on_ladder(model, images, path, ladder: tuple[int, ...]) -> jax.Array:
    """``(len(ladder), B)``: exact-path correctness after each iteration count of the ladder (read out only there)."""
    state, done, rows = model.initial_state(images), 0, []
    for count in ladder:
        state = model.think(images, count - done, state=state)
        done = count
        rows.append(jnp.all(search.readout_path(model, state) == path, axis=(-2, -1)))
    return jnp.stack(rows)


def _ladder_fn(kind: str, ladder: tuple[int, ...]):
    if kind == "recurrent":
        return jax.jit(lambda model, images, path: correct_on_ladder(model, images, path, ladder))

    def fixed_depth(model, images, path):
        pred = jnp.argmax(model(images), axis=-1) == 1
        return jnp.broadcast_to(jnp.all(pred == path, axis=(-2, -1)), (len(ladder), images.shape[0]))

    return jax.jit(fixed_depth)


def test_batches(cfg: MazeSearchConfig, key) -> dict[int, object]:
    """The test mazes of every side (the same for every model and seed)."""
    keys = jax.random.split(key, len(cfg.test_sides))
    return {side: draw_maze_batch(k, MazePathTask(side, cfg.goal_region and min(cfg.goal_region, (side + 1) // 2)),
                                    cfg.eval_mazes)
            for side, k in zip(cfg.test_sides, keys)}


def accuracy_grid(cfg: MazeSearchConfig, kind: str, trainer, params, batches: dict, on_side=None) -> np.ndarray:
    """``(seeds, sides, iterations)`` exact-path accuracy of every trained network of one model class.

    Seed ``s`` is evaluated on CPU device ``s mod devices``; the calls are dispatched before any result is read,
    so the devices (one per core) work at the same time."""
    run = _ladder_fn(kind, cfg.test_iterations)
    devices = jax.devices()
    models = [jax.device_put(trainer.model(take(params, s)), devices[s % len(devices)]) for s in range(cfg.n_seeds)]
    grid = np.zeros((cfg.n_seeds, len(cfg.test_sides), len(cfg.test_iterations)))
    for j, side in enumerate(cfg.test_sides):
        on_device = [jax.device_put((batches[side].images, batches[side].path), d) for d in devices]
        pending = [run(model, *on_device[s % len(devices)]) for s, model in enumerate(models)]
        for s, correct in enumerate(pending):
            grid[s, j] = np.asarray(correct).mean(axis=1)
        if on_side is not None:
            on_side(kind, side)
    return grid


def path_erasure_by_seed(cfg: MazeSearchConfig, trainer, params, batch) -> list[dict]:
    """Per recurrent network: each maze of ``batch`` (the largest side's test mazes) with its path length, the
    largest share of its path the readout covered at one iteration and the share after the most iterations
    (:func:`mesaopt.detectors.search.path_coverage`) and its extra cells then; ``rate``: the share found and then
    erased (:func:`mesaopt.detectors.search.path_erasure`); ``failure_kinds``: the share of mazes whose final answer
    is right, erased, unfilled or other (:mod:`mesaopt.detectors.path_failures`). Seeds are spread over the CPU
    devices, as in :func:`accuracy_grid`."""
    devices = jax.devices()
    on_device = [jax.device_put((batch.images, batch.path), d) for d in devices]
    pending = [search.path_coverage(jax.device_put(trainer.model(take(params, s)), devices[s % len(devices)]),
                                    *on_device[s % len(devices)], cfg.test_iterations[-1])
               for s in range(cfg.n_seeds)]
    length = np.asarray(batch.path.sum((-2, -1))).tolist()
    return [{"side": int(batch.images.shape[1]), "path_length": length,
             "peak_coverage": np.round(np.asarray(peak), 4).tolist(),
             "final_coverage": np.round(np.asarray(final), 4).tolist(), "final_extra": np.asarray(extra).tolist(),
             "rate": round(float(search.path_erasure(peak, final).mean()), 4),
             "failure_kinds": failure_shares(failure_kinds(1 - np.asarray(final), np.asarray(extra)))}
            for peak, final, extra in pending]


def search_evidence(cfg: MazeSearchConfig, model, key) -> dict:
    """The search detectors on one recurrent network, at ``cfg.detector_side``: solve iterations and their fit to
    each candidate's rounds, per-cell settle iterations against dead-end filling, probes, retargeting, swap, goal
    ablation, and the cut test (a wall across each solved long path after the most iterations, then half as many
    more)."""
    side = cfg.detector_side
    k_maze, k_goal = jax.random.split(key)
    batch = draw_maze_batch(k_maze, MazePathTask(side), cfg.probe_mazes)
    most = cfg.test_iterations[-1]
    correct = jax.jit(search.correct_by_iteration, static_argnums=3)(model, batch.images, batch.path, most)
    solve = np.asarray(search.solve_iterations(correct))
    fit = search.fit_solve_iterations(solve, search.difficulty_of(batch.images))
    cell_fit = search.fit_cell_settling(search.settle_iterations(model, batch.images, batch.path, most), batch.images)
    states = jax.jit(search.hidden_states, static_argnums=2)(model, batch.images, cfg.train_iterations)
    probes = search.probe_candidates(states, batch.images)
    retarget = jax.jit(search.retarget_correct, static_argnums=3)(model, batch.images, k_goal, most)
    swap = jax.jit(search.swap_correct, static_argnums=3)(model, batch.images, batch.path, most)
    eligible, kept = search.cut_path_response(model, batch.images, batch.path, most, most // 2)
    unravel = search.cut_unravel_rate(eligible, kept)
    cut = {"eligible": int(np.asarray(eligible).sum()), "kept": np.round(np.asarray(kept), 4).tolist(),
           "unravel_rate": None if unravel is None else round(unravel, 4)}
    return {"side": side, "solve_iteration": solve.tolist(), "solve_iteration_fit": fit, "cell_settle_fit": cell_fit,
            "probes": probes, "cut_test": cut,
            "retarget_rate": float(np.mean(np.asarray(retarget))), "swap_rate": float(np.mean(np.asarray(swap))),
            "goal_ablation": search.ablate_goal(model, batch.images, most)}


MAX_FRAMES = 48
"""Frames of the readout animation stored in the report (spread over the iteration ladder's range)."""


def readout_frames(cfg: MazeSearchConfig, model, batch) -> dict:
    """The per-iteration readout on the first test maze of the largest side, for the report's animation: the maze
    (``"open"``, ``"start"``, ``"goal"``, ``"path"`` as row strings of 0/1) and ``"frames"``: ``{"iteration",
    "rows"}`` with each cell's path probability as a digit 0-9."""
    image, path = batch.images[:1], batch.path[0]
    most = cfg.test_iterations[-1]
    iterations = np.unique(np.geomspace(1, most, MAX_FRAMES).round().astype(int))

    def path_probabilities(m, im):
        return jax.nn.softmax(m.readout(search.hidden_states(m, im, most)), axis=-1)[..., 0, :, :, 1]

    probs = jax.jit(path_probabilities)(model, image)
    probs = np.asarray(probs)[iterations - 1]

    def rows(grid) -> list[str]:
        return ["".join(str(int(v)) for v in row) for row in np.asarray(grid)]

    return {"side": int(image.shape[1]), "open": rows(image[0, ..., 0] > 0.5), "start": rows(image[0, ..., 1] > 0.5),
            "goal": rows(image[0, ..., 2] > 0.5), "path": rows(path),
            "frames": [{"iteration": int(t), "rows": rows(np.minimum((p * 10).astype(int), 9))}
                       for t, p in zip(iterations, probs)]}
