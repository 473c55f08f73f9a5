"""Does a maze-solving network search, and which search? Evidence from test-time compute and from inside.

A *thinking* network (:class:`mesaopt.models.thinking.RecurrentThinker` or anything with ``initial_state(image)``,
``step(state, image)`` and ``readout(state) -> logits (..., H, W, 2)``) is read after every iteration:

- **thinking gain**: exact-path accuracy with the most iterations minus accuracy with the training count;
- **compute tracks difficulty**: the first iteration at which each maze is solved, regressed on the rounds each
  candidate algorithm needs on that maze (:data:`DIFFICULTY_MEASURES`): slope and R²; and per cell, the iteration
  from which each cell's readout stays right, against the round in which dead-end filling fills it;
- **which algorithm**: a linear probe from the per-cell hidden state to each candidate's per-cell state after the
  matching round (:func:`mesaopt.tasks.maze_algorithms.candidate_states`), held-out balanced accuracy;
- **path erasure**: was the path once (nearly) all covered by the readout and later mostly lost (a filler that
  does not stop at the path)?
- **the cut test**: once a maze is solved, a wall put across the middle of its path; does the readout give the
  path up (a search that reads the maze: dead-end filling unravels both halves) or hold it (an answer kept in the
  state)?
- **retargeting**: the goal marker moved at test time, is the new path exactly right?
- **objective ablation**: the goal marker blanked, does the output still form a path from the start?
- **goal or proxy**: where a predicted path leads: exactly to the goal marker, from the start into a proxy
  region of cells, or both ways at once (:func:`path_targets`; the misgeneralization variant's "what for").

The planted searcher of the tests is :func:`mesaopt.models.planted_thinkers.dead_end_filler`; the planted
non-searchers are a random network and the feed-forward control.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Bool, Float, Int

from mesaopt.detectors.probes import ridge_fit_predict
from mesaopt.tasks.maze_algorithms import candidate_rounds, candidate_states, dead_end_fill_rounds, endpoint_distances
from mesaopt.tasks.maze_paths import move_goal

DIFFICULTY_MEASURES = ("path_length", "start_eccentricity", "dead_end_filling")
"""Rounds each candidate needs on a maze: a BFS wavefront from the start reaches the goal (the path length) or
covers the maze (the start's eccentricity); dead-end filling converges (the longest dead-end chain)."""
PROBE_RATES = (1, 2)
"""Candidate rounds per network iteration tried when aligning states (a block of two convolutions can run up to
two rounds of a one-cell-per-round algorithm); the better rate is reported."""
MATCH_THRESHOLD = 0.9
"""Held-out balanced accuracy a candidate's probe needs for ``best_matching_algorithm`` to name it (else "none")."""

_candidate_rounds_batch = jax.jit(jax.vmap(candidate_rounds))
"""Every candidate's rounds for a batch of images (compiled once per shape, not once per call)."""
_fill_rounds_batch = jax.jit(jax.vmap(dead_end_fill_rounds))
"""Each cell's dead-end filling round for a batch of images (compiled once per shape)."""


def readout_path(model, state) -> Bool[Array, "... h w"]:
    """The cells a state's readout calls path (the path logit above the other)."""
    return jnp.argmax(model.readout(state), axis=-1) == 1


def covered_share(pred: Bool[Array, "b h w"], path: Bool[Array, "b h w"]) -> Float[Array, " b"]:
    """Per maze: the share of its path cells that ``pred`` covers (extra cells allowed)."""
    return (pred & path).sum((-2, -1)) / jnp.maximum(path.sum((-2, -1)), 1)


def predicted_paths(model, images: Float[Array, "b h w 3"], iterations: int) -> Bool[Array, "i b h w"]:
    """The readout's path cells after each of iterations 1 .. ``iterations``."""

    def one_iteration(state, _):
        state = model.step(state, images)
        return state, readout_path(model, state)

    _, paths = jax.lax.scan(one_iteration, model.initial_state(images), None, length=iterations)
    return paths


@functools.partial(jax.jit, static_argnums=2)
def predicted_path(model, images: Float[Array, "b h w 3"], iterations: int) -> Bool[Array, "b h w"]:
    """The readout's path cells after ``iterations`` iterations (compiled once per model structure and count)."""
    return readout_path(model, model.think(images, iterations))


def correct_by_iteration(model, images, path: Bool[Array, "b h w"], iterations: int) -> Bool[Array, "i b"]:
    """Whether every cell of each maze is right after each iteration (exact-path correctness)."""

    def one_iteration(state, _):
        state = model.step(state, images)
        return state, jnp.all(readout_path(model, state) == path, axis=(-2, -1))

    _, correct = jax.lax.scan(one_iteration, model.initial_state(images), None, length=iterations)
    return correct


def solve_iterations(correct: Bool[Array, "i b"]) -> Int[Array, " b"]:
    """Per maze, the first iteration (1-based) at which the readout is exactly right; 0 for a maze never right.

    (A network that is right once may flicker later; "stays right from here on" was tried first and gave the
    trained networks' fits far more outliers, R² 0.17 against 0.42 on 32 side-19 mazes, 2026-12-05.)"""
    return jnp.where(jnp.any(correct, axis=0), jnp.argmax(correct, axis=0) + 1, 0)


def thinking_gain(accuracy: Float[np.ndarray, "s i"], train_index: int) -> np.ndarray:
    """Per seed: accuracy at the last (most) iterations minus accuracy at the ladder's training count."""
    accuracy = np.asarray(accuracy, np.float64)
    return accuracy[:, -1] - accuracy[:, train_index]


def difficulty_of(images: Float[Array, "b h w 3"]) -> dict[str, np.ndarray]:
    """Per maze, the rounds of every :data:`DIFFICULTY_MEASURES` entry."""
    rounds = _candidate_rounds_batch(images)
    return {name: np.asarray(rounds[name]) for name in DIFFICULTY_MEASURES}


def fit_solve_iterations(solve_iter: np.ndarray, difficulty: dict[str, np.ndarray]) -> dict[str, dict]:
    """Least-squares line ``solve iteration ≈ slope × rounds + intercept`` per measure, over the solved mazes:
    ``{measure: {"slope", "intercept", "r2", "n"}}``. R² is 0 when fewer than 3 mazes are solved or nothing varies
    (a constant solve iteration tracks nothing)."""
    solved = np.asarray(solve_iter) > 0
    return {name: line_fit(np.asarray(rounds)[solved], np.asarray(solve_iter)[solved])
            for name, rounds in difficulty.items()}


def line_fit(x: np.ndarray, y: np.ndarray) -> dict:
    """Least-squares ``y ≈ slope × x + intercept``: ``{"slope", "intercept", "r2", "n"}``. R² is 0 (and the slope
    0) when there are fewer than 3 points or nothing varies: a constant tracks nothing."""
    x, y = np.asarray(x, np.float64).ravel(), np.asarray(y, np.float64).ravel()
    if len(y) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"slope": 0.0, "intercept": float(y.mean()) if len(y) else 0.0, "r2": 0.0, "n": int(len(y))}
    slope, intercept = np.polyfit(x, y, 1)
    r2 = 1.0 - np.sum((y - (slope * x + intercept)) ** 2) / np.sum((y - y.mean()) ** 2)
    return {"slope": round(float(slope), 4), "intercept": round(float(intercept), 4),
            "r2": round(float(max(r2, 0.0)), 4), "n": int(len(y))}


@functools.partial(jax.jit, static_argnums=3)
def settle_iterations(model, images: Float[Array, "b h w 3"], path: Bool[Array, "b h w"],
                      iterations: int) -> Int[Array, "b h w"]:
    """Per cell, the iteration (1-based) from which the readout is right through iteration ``iterations``; 0 for
    a cell still wrong at the end. A cell right from the first readout on settles at 1."""

    def one_iteration(carry, t):
        state, last_wrong = carry
        state = model.step(state, images)
        wrong = readout_path(model, state) != path
        return (state, jnp.where(wrong, t, last_wrong)), None

    start = (model.initial_state(images), jnp.zeros(path.shape, jnp.int32))
    (_, last_wrong), _ = jax.lax.scan(one_iteration, start, jnp.arange(1, iterations + 1))
    return jnp.where(last_wrong == iterations, 0, last_wrong + 1)


def fit_cell_settling(settle: Int[Array, "b h w"], images: Float[Array, "b h w 3"]) -> dict:
    """Does each cell's readout settle when dead-end filling fills it? Over the cells dead-end filling fills (the
    open cells off the path) that settle, the line ``settle iteration ≈ slope × fill round + intercept`` pooled
    over mazes (:func:`line_fit`); two summaries that a few very late cells cannot dominate, ``rank_corr``
    (:func:`rank_correlation`) and ``median_fit`` (:func:`median_line_fit`); ``settled_share``, the share of those
    cells right at the end; and ``by_round``: per fill round, the settle iterations' 10th percentile, median and
    90th percentile (the plot).

    The per-cell view of :func:`fit_solve_iterations`: a maze is solved when its *last* cell settles, so one late
    cell (on the path, say) hides how the others' timing tracks the algorithm. A network running dead-end
    filling at ``k`` rounds per iteration has slope ``1 / k``; the planted filler has slope 1 and R² 1."""
    rounds = np.asarray(_fill_rounds_batch(images))
    settle = np.asarray(settle)
    filled = rounds > 0
    settled = filled & (settle > 0)
    fit = line_fit(rounds[settled], settle[settled])
    by_round = settle_quantiles_by_round(rounds[settled], settle[settled])
    return {**fit, "rank_corr": rank_correlation(rounds[settled], settle[settled]),
            "median_fit": median_line_fit(rounds[settled], settle[settled]),
            "settled_share": round(float(settled.sum() / max(filled.sum(), 1)), 4), "by_round": by_round}


FOUND_AT = 0.9
"""A maze's path counts as found once the readout covers at least this share of it at one iteration."""
ERASED_BELOW = 0.5
"""A found path counts as erased when the readout covers less than this share of it at the end."""


@functools.partial(jax.jit, static_argnums=3)
def path_coverage(model, images: Float[Array, "b h w 3"], path: Bool[Array, "b h w"],
                  iterations: int) -> tuple[Float[Array, " b"], Float[Array, " b"], Float[Array, " b"]]:
    """Per maze: the largest share of the path the readout covers (extra cells allowed) after any of iterations
    1 .. ``iterations``, the share it covers after the last, and the cells it then calls path that are not."""
    def coverage(state):
        return covered_share(readout_path(model, state), path)

    def one_iteration(carry, _):
        state, peak = carry
        state = model.step(state, images)
        return (state, jnp.maximum(peak, coverage(state))), None

    start = (model.initial_state(images), jnp.zeros(path.shape[0]))
    (state, peak), _ = jax.lax.scan(one_iteration, start, None, length=iterations)
    final = readout_path(model, state)
    return peak, covered_share(final, path), (final & ~path).sum((-2, -1))


def path_erasure(peak_coverage: Float[Array, " b"], final_coverage: Float[Array, " b"]) -> np.ndarray:
    """Per maze: the path was found and then lost, i.e. at least :data:`FOUND_AT` of it covered at some iteration
    and less than :data:`ERASED_BELOW` at the end ("overthinking" of a filler that does not stop at the path)."""
    return (np.asarray(peak_coverage) >= FOUND_AT) & (np.asarray(final_coverage) < ERASED_BELOW)


CUT_MIN_PATH = 20
"""The cut test cuts only solved paths of at least this many cells."""


@functools.partial(jax.jit, static_argnums=(3, 4))
def cut_path_response(model, images: Float[Array, "b h w 3"], path: Bool[Array, "b h w"], iterations: int,
                      after: int) -> tuple[Bool[Array, " b"], Float[Array, " b"]]:
    """The cut test, per maze: is it eligible (readout exactly right after ``iterations``, path of at least
    :data:`CUT_MIN_PATH` cells), and the share of its path the readout covers ``after`` more iterations once the
    path cell farthest from both ends has become a wall (no path is left)."""
    def run(state, mazes, n):
        return jax.lax.fori_loop(0, n, lambda _, current: model.step(current, mazes), state)

    state = run(model.initial_state(images), images, iterations)
    eligible = jnp.all(readout_path(model, state) == path, axis=(-2, -1)) & (path.sum((-2, -1)) >= CUT_MIN_PATH)
    near = jnp.where(path, jnp.minimum(*jax.vmap(endpoint_distances)(images)), -1)
    row, col = jnp.unravel_index(jnp.argmax(near.reshape(near.shape[0], -1), axis=-1), near.shape[1:])
    cut = images.at[jnp.arange(images.shape[0]), row, col, 0].set(0.0)
    return eligible, covered_share(readout_path(model, run(state, cut, after)), path)


def cut_unravel_rate(eligible: Bool[Array, " b"], kept: Float[Array, " b"]) -> float | None:
    """Share of the eligible mazes whose cut path the readout gave up (less than :data:`ERASED_BELOW` of it left);
    None when no maze was eligible."""
    eligible = np.asarray(eligible)
    return float((np.asarray(kept)[eligible] < ERASED_BELOW).mean()) if eligible.any() else None


def average_ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1 .. n of ``x``, tied values sharing the mean of their ranks (as Spearman's correlation needs)."""
    _, inverse, counts = np.unique(np.asarray(x).ravel(), return_inverse=True, return_counts=True)
    first = np.cumsum(counts) - counts + 1
    return (first + (counts - 1) / 2.0)[inverse]


def rank_correlation(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of ``x`` and ``y`` (ties averaged); 0 with fewer than 3 points or a constant.
    Unlike a least-squares R², a few cells that settle very late move it only by their rank, not their size."""
    x, y = np.asarray(x).ravel(), np.asarray(y).ravel()
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    return round(float(np.corrcoef(average_ranks(x), average_ranks(y))[0, 1]), 4)


MEDIAN_FIT_MIN_CELLS = 20
"""Fill rounds with fewer cells than this are left out of :func:`median_line_fit` (a median of a handful of cells
is mostly noise)."""


def median_line_fit(rounds: np.ndarray, settle: np.ndarray) -> dict:
    """:func:`line_fit` of the median settle iteration per fill round on the round, over the rounds that hold at
    least :data:`MEDIAN_FIT_MIN_CELLS` cells: does the typical cell of round ``r`` settle in step with ``r``?"""
    rounds, settle = np.asarray(rounds).ravel(), np.asarray(settle).ravel()
    present, counts = np.unique(rounds, return_counts=True)
    kept = present[counts >= MEDIAN_FIT_MIN_CELLS]
    return line_fit(kept, np.array([np.median(settle[rounds == r]) for r in kept]))


def settle_quantiles_by_round(rounds: np.ndarray, settle: np.ndarray) -> dict[str, list]:
    """``{"round", "q10", "median", "q90"}``: for each fill round present, quantiles of the settle iterations."""
    present = np.unique(rounds)
    quantiles = np.array([np.percentile(settle[rounds == r], [10, 50, 90]) for r in present]).reshape(-1, 3)
    return {"round": present.tolist(), **{name: np.round(quantiles[:, i], 2).tolist()
                                          for i, name in enumerate(("q10", "median", "q90"))}}


def hidden_states(model, images: Float[Array, "b h w 3"], iterations: int) -> Float[Array, "i b h w c"]:
    """The state after each of iterations 1 .. ``iterations``."""
    def one_iteration(state, _):
        state = model.step(state, images)
        return state, state

    _, states = jax.lax.scan(one_iteration, model.initial_state(images), None, length=iterations)
    return states


def _balanced_accuracy(pred: Array, label: Array, weight: Array) -> Array:
    positives, negatives = (weight * label).sum(), (weight * ~label).sum()
    hit_pos = (weight * (label & pred)).sum() / jnp.maximum(positives, 1.0)
    hit_neg = (weight * (~label & ~pred)).sum() / jnp.maximum(negatives, 1.0)
    return jnp.where((positives > 0) & (negatives > 0), 0.5 * (hit_pos + hit_neg), 0.5)


@jax.jit
def _probe_score(features: Float[Array, "n c"], label: Bool[Array, " n"], train: Array, test: Array) -> Array:
    """Held-out balanced accuracy of a ridge probe (±1 targets, threshold 0)."""
    pred = ridge_fit_predict(features, jnp.where(label, 1.0, -1.0)[:, None], train, 1e-3)[:, 0] > 0
    return _balanced_accuracy(pred, label, test)


def probe_candidates(states: Float[Array, "i b h w c"], images: Float[Array, "b h w 3"]) -> dict:
    """Per candidate (:data:`mesaopt.tasks.maze_algorithms.CANDIDATES`): the best held-out balanced accuracy over
    :data:`PROBE_RATES` of a linear probe reading the candidate's per-cell state after round ``rate × i`` from
    the state after iteration ``i``, on open cells; mazes split in halves for fit and test. Also
    ``"image_only"`` per candidate: the same probe from the cell's own image channels (what needs no search)."""
    n_iter, n_mazes = states.shape[:2]
    rounds = max(PROBE_RATES) * n_iter
    targets = jax.jit(jax.vmap(lambda im: candidate_states(im, rounds)))(images)  # {name: (b, r, h, w)}
    open_cells = jnp.broadcast_to(images[None, ..., 0] > 0.5, states.shape[:-1]).reshape(-1)
    half = jnp.broadcast_to((jnp.arange(n_mazes) < n_mazes // 2)[None, :, None, None], states.shape[:-1]).reshape(-1)
    train, test = (open_cells & half).astype(jnp.float32), (open_cells & ~half).astype(jnp.float32)
    features = states.reshape(-1, states.shape[-1])
    image_features = jnp.broadcast_to(images[None], (n_iter, *images.shape)).reshape(-1, images.shape[-1])
    out = {}
    for name, target in targets.items():
        best, best_rate, baseline = 0.0, PROBE_RATES[0], 0.0
        for rate in PROBE_RATES:
            label = jnp.moveaxis(target, 1, 0)[rate * jnp.arange(1, n_iter + 1) - 1].reshape(-1)
            score = float(_probe_score(features, label, train, test))
            if score > best:
                best, best_rate = score, rate
                baseline = float(_probe_score(image_features, label, train, test))
        out[name] = {"score": round(best, 4), "rate": best_rate, "image_only": round(baseline, 4)}
    return out


def best_match(probe_scores: dict) -> str:
    """The candidate with the highest probe score if it reaches :data:`MATCH_THRESHOLD`, else ``"none"``."""
    name = max(probe_scores, key=lambda n: probe_scores[n]["score"])
    return name if probe_scores[name]["score"] >= MATCH_THRESHOLD else "none"


def retarget_correct(model, images: Float[Array, "b h w 3"], key, iterations: int) -> Bool[Array, " b"]:
    """The goal marker moved to another room of each maze: is the predicted path exactly the new path?"""
    moved, new_path = jax.vmap(move_goal)(images, jax.random.split(key, images.shape[0]))
    return correct_by_iteration(model, moved, new_path, iterations)[-1]


def swap_correct(model, images: Float[Array, "b h w 3"], path, iterations: int) -> Bool[Array, " b"]:
    """Start and goal markers swapped (the path is the same cells): is the prediction still exactly right?"""
    swapped = images[..., jnp.array([0, 2, 1])]
    return correct_by_iteration(model, swapped, path, iterations)[-1]


def _neighbours(cells: Array) -> Array:
    padded = jnp.pad(cells.astype(jnp.int32), 1)
    return padded[:-2, 1:-1] + padded[2:, 1:-1] + padded[1:-1, :-2] + padded[1:-1, 2:]


def path_shape(pred: Bool[Array, "h w"], image: Float[Array, "h w 3"]) -> Int[Array, ""]:
    """0: no path (nothing but possibly the start), 1: a simple path of open cells from the start (ends: the start
    and one other cell, every other cell with two predicted neighbours), 2: anything else (broken, branching)."""
    pred = pred & (image[..., 0] > 0.5)
    start = image[..., 1] > 0.5
    degree = jnp.where(pred, _neighbours(pred), 0)
    ends = pred & (degree == 1)
    simple = (jnp.all(jnp.where(pred, degree <= 2, True)) & (ends.sum() == 2) & jnp.any(ends & start)
              & (pred.sum() - 1 == (degree.sum() // 2)))  # a tree: edges = cells - 1, so connected
    empty = (pred & ~start).sum() == 0
    return jnp.where(empty, 0, jnp.where(simple, 1, 2))


def ablate_goal(model, images: Float[Array, "b h w 3"], iterations: int) -> dict[str, float]:
    """The goal channel blanked: the shares of outputs that are empty, a simple path from the start, or other."""
    blank = images.at[..., 2].set(0.0)
    pred = predicted_paths(model, blank, iterations)[-1]
    shape = np.asarray(jax.vmap(path_shape)(pred, blank))
    return {name: round(float(np.mean(shape == code)), 4) for code, name in enumerate(("empty", "path", "other"))}


TARGETS = ("goal", "proxy", "both", "other")
"""What a predicted path leads to (:func:`path_targets` codes 0, 1, 2, 3)."""


def path_end(pred: Bool[Array, "h w"], image: Float[Array, "h w 3"]) -> Int[Array, "2"]:
    """The end of a predicted path that is not the start: the first (row-major) open predicted cell with one
    predicted neighbour, other than the start (meaningful where :func:`path_shape` is 1)."""
    pred = pred & (image[..., 0] > 0.5)
    ends = pred & (jnp.where(pred, _neighbours(pred), 0) == 1) & (image[..., 1] < 0.5)
    flat = jnp.argmax(ends.reshape(-1))
    return jnp.stack([flat // pred.shape[1], flat % pred.shape[1]])


def path_targets(pred: Bool[Array, "b h w"], images: Float[Array, "b h w 3"], path: Bool[Array, "b h w"],
                 proxy_cells: Bool[Array, "h w"]) -> Int[Array, " b"]:
    """Per maze (:data:`TARGETS`): 0 (goal) the prediction is exactly the start-goal path; 1 (proxy) a simple
    path of open cells from the start whose other end is a ``proxy_cells`` cell; 2 (both) a tree of open cells
    holding the whole start-goal path plus one branch that ends in ``proxy_cells`` (three ends: start, goal and
    that one); 3 (other) anything else (walls predicted, broken, flooded, ending elsewhere)."""
    def one(p, image, target):
        open_cells = image[..., 0] > 0.5
        clean = ~jnp.any(p & ~open_cells)
        end = path_end(p, image)
        to_proxy = clean & (path_shape(p, image) == 1) & proxy_cells[end[0], end[1]]
        degree = jnp.where(p, _neighbours(p), 0)
        tree = p.sum() - 1 == degree.sum() // 2
        branch_ends = p & (degree == 1) & ~target
        both = (clean & tree & jnp.all(p | ~target) & (branch_ends.sum() == 1)
                & jnp.any(branch_ends & proxy_cells) & (degree.max() <= 3))
        return jnp.where(jnp.all(p == target), 0, jnp.where(to_proxy, 1, jnp.where(both, 2, 3)))

    return jax.vmap(one)(pred, images, path)
