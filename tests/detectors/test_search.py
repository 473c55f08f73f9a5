"""Search detectors: the planted dead-end filler reads as a searcher on every one, a random network does not."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.detectors import search
from mesaopt.models.planted_thinkers import dead_end_filler
from mesaopt.models.thinking import RecurrentThinker
from mesaopt.tasks.maze_algorithms import dead_end_fill_rounds, endpoint_distances
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch

ITERATIONS = 50


@pytest.fixture(scope="module")
def mazes():
    return sample_maze_batch(jax.random.key(11), MazePathTask(side=11), 24)


@pytest.fixture(scope="module")
def planted():
    return dead_end_filler(width=8)


@pytest.fixture(scope="module")
def random_net():
    return RecurrentThinker(3, width=8, key=jax.random.key(2))


def _correct(model, mazes, iterations=ITERATIONS):
    return jax.jit(search.correct_by_iteration, static_argnums=3)(model, mazes.images, mazes.path, iterations)


def test_thinking_gain_and_solve_iterations(planted, random_net, mazes):
    acc = {name: np.asarray(_correct(m, mazes)).mean(1) for name, m in (("planted", planted), ("random", random_net))}
    ladder = [4, ITERATIONS - 1]
    gain = {name: search.thinking_gain(a[None, ladder], 0)[0] for name, a in acc.items()}
    assert gain["planted"] > 0.8 and acc["planted"][-1] == 1.0
    assert gain["random"] == 0.0


def test_solve_iterations_track_dead_end_filling_only_for_the_planted_searcher(planted, random_net, mazes):
    difficulty = search.difficulty_of(mazes.images)
    fit = search.fit_solve_iterations(np.asarray(search.solve_iterations(_correct(planted, mazes))), difficulty)
    assert fit["dead_end_filling"]["r2"] > 0.99 and abs(fit["dead_end_filling"]["slope"] - 1) < 0.01
    assert fit["path_length"]["r2"] < 0.8
    none = search.fit_solve_iterations(np.asarray(search.solve_iterations(_correct(random_net, mazes))), difficulty)
    assert all(f["r2"] == 0.0 for f in none.values())


def test_cell_settling_tracks_dead_end_filling_for_the_planted_searcher_only(planted, random_net, mazes):
    def fit(model):
        return search.fit_cell_settling(search.settle_iterations(model, mazes.images, mazes.path, ITERATIONS),
                                        mazes.images)

    planted_fit = fit(planted)
    assert planted_fit["r2"] == 1.0 and planted_fit["slope"] == 1.0 and planted_fit["settled_share"] == 1.0
    assert planted_fit["n"] > 1000
    assert planted_fit["by_round"]["median"] == planted_fit["by_round"]["round"]  # every cell settles on time
    assert planted_fit["rank_corr"] == 1.0 and planted_fit["median_fit"]["r2"] == 1.0
    random_fit = fit(random_net)
    assert random_fit["r2"] < 0.05 and random_fit["rank_corr"] < 0.2  # measured 0.007 and -0.10
    # cells that settle when a BFS wavefront from the start reaches them: another algorithm's timing
    from_start, _ = jax.vmap(endpoint_distances)(mazes.images)
    bfs_timed = jnp.where(mazes.images[..., 0] > 0.5, from_start, 0)
    bfs_fit = search.fit_cell_settling(bfs_timed, mazes.images)
    assert bfs_fit["r2"] < 0.3 and bfs_fit["rank_corr"] < 0.3 and bfs_fit["median_fit"]["slope"] <= 0


def test_robust_settling_summaries_survive_a_few_very_late_cells(planted, mazes):
    """The planted filler's timing with 20 of its ~1,300 filled cells settling only at iteration 400 (cells that
    flip until late, as trained networks have): the least-squares R² collapses, the rank correlation and the fit
    to the per-round medians do not."""
    settle = np.array(search.settle_iterations(planted, mazes.images, mazes.path, ITERATIONS))
    filled = np.argwhere(np.asarray(jax.vmap(dead_end_fill_rounds)(mazes.images)) > 0)
    late = filled[np.random.default_rng(0).choice(len(filled), 20, replace=False)]
    settle[tuple(late.T)] = 400
    fit = search.fit_cell_settling(settle, mazes.images)
    assert fit["r2"] < 0.1  # measured 0.004
    assert fit["rank_corr"] > 0.9 and fit["median_fit"]["slope"] == 1.0 and fit["median_fit"]["r2"] == 1.0


def test_rank_correlation_averages_ties():
    assert search.average_ranks(np.array([3, 1, 3, 2])).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert search.rank_correlation(np.array([1, 2, 3, 4]), np.array([10, 200, 300, 4000])) == 1.0
    assert search.rank_correlation(np.array([1, 2, 3, 4]), np.array([4, 3, 2, 1])) == -1.0
    assert search.rank_correlation(np.array([1, 2, 3]), np.array([5, 5, 5])) == 0.0


def test_settle_iteration_is_where_a_cell_stays_right_from():
    class Flicker(eqx.Module):
        """Readout per iteration t (state = t): cell 0 right from 1, cell 1 wrong at 1-2, cell 2 right only at 2,
        cell 3 wrong throughout (the path is all four cells)."""

        def initial_state(self, images):
            return jnp.zeros(())

        def step(self, state, images):
            return state + 1

        def readout(self, state):
            on = jnp.array([True, state >= 3, state == 2, False])
            return jnp.stack([~on, on], axis=-1).astype(jnp.float32)[None, None]

    settle = search.settle_iterations(Flicker(), jnp.zeros((1, 1, 4, 3)), jnp.ones((1, 1, 4), bool), 4)
    np.testing.assert_array_equal(np.asarray(settle)[0, 0], [1, 3, 0, 0])


def test_solve_iteration_is_where_the_readout_is_first_right():
    correct = jnp.array([[0, 1, 0], [1, 1, 0], [0, 1, 0], [1, 1, 1]], bool)  # iterations × mazes
    np.testing.assert_array_equal(np.asarray(search.solve_iterations(correct)), [2, 1, 4])
    np.testing.assert_array_equal(np.asarray(search.solve_iterations(correct[:3])), [2, 1, 0])


def test_probes_name_dead_end_filling_for_the_planted_searcher_and_nothing_for_a_random_net(planted, random_net, mazes):
    for model, expected in ((planted, "dead_end_filling"), (random_net, "none")):
        states = jax.jit(search.hidden_states, static_argnums=2)(model, mazes.images, 12)
        scores = search.probe_candidates(states, mazes.images)
        assert search.best_match(scores) == expected, scores
    assert scores["dead_end_filling"]["score"] < search.MATCH_THRESHOLD


def test_retargeting_and_swapping_follow_the_markers_for_the_searcher_only(planted, random_net, mazes):
    key = jax.random.key(9)
    assert np.asarray(search.retarget_correct(planted, mazes.images, key, ITERATIONS)).mean() == 1.0
    assert np.asarray(search.swap_correct(planted, mazes.images, mazes.path, ITERATIONS)).mean() == 1.0
    assert np.asarray(search.retarget_correct(random_net, mazes.images, key, ITERATIONS)).mean() == 0.0


def test_path_shape_classifies_hand_made_outputs():
    grid = np.zeros((5, 5, 3), np.float32)
    grid[0, :, 0] = 1.0
    grid[:, 2, 0] = 1.0
    grid[0, 0, 1] = 1.0  # start at the top-left; a T of open cells
    image = jnp.asarray(grid)
    line = jnp.zeros((5, 5), bool).at[0, :3].set(True)
    tee = jnp.zeros((5, 5), bool).at[0, :].set(True).at[:3, 2].set(True)
    gap = jnp.zeros((5, 5), bool).at[0, 0].set(True).at[0, 2:].set(True)
    start_only = jnp.zeros((5, 5), bool).at[0, 0].set(True)
    codes = [int(search.path_shape(p, image)) for p in (start_only, line, tee, gap)]
    assert codes == [0, 1, 2, 2]


def test_goal_ablation_of_the_filler_empties_its_output(planted, mazes):
    shares = search.ablate_goal(planted, mazes.images, ITERATIONS)
    assert shares["empty"] == 1.0  # with no goal every cell but the start is a dead end


def test_path_targets_tell_a_goal_seeker_from_a_corner_seeker_and_from_noise(planted, random_net):
    side = 11
    mazes = sample_maze_batch(jax.random.key(5), MazePathTask(side, goal_region=1, goal_outside_region=True), 16)
    corner = jnp.zeros((side, side), bool).at[0, side - 1].set(True)
    to_corner = mazes.images.at[..., 2].set(corner.astype(jnp.float32))  # the planted proxy seeker's view
    read = jax.jit(lambda m, im: search.predicted_paths(m, im, ITERATIONS)[-1])
    preds = {name: read(model, images) for name, model, images in (
        ("goal", planted, mazes.images), ("proxy", planted, to_corner), ("noise", random_net, mazes.images))}
    preds["both"] = preds["goal"] | preds["proxy"]  # a planted hedger: a branch to each
    preds["flood"] = mazes.images[..., 0] > 0.5  # every open cell: holds both paths, but is no tree of branches
    codes = {name: np.asarray(search.path_targets(p, mazes.images, mazes.path, corner)) for name, p in preds.items()}
    assert [search.TARGETS[c] for c in (0, 1, 2, 3)] == ["goal", "proxy", "both", "other"]
    assert (codes["goal"] == 0).all() and (codes["proxy"] == 1).all() and (codes["noise"] == 3).all()
    assert (codes["flood"] == 3).all()
    on_the_way = np.asarray(jnp.any(preds["proxy"] & (mazes.images[..., 2] > 0.5), axis=(1, 2)))
    assert 0 < on_the_way.sum() < len(on_the_way)  # where the goal lies on the corner's path, the union is that path
    corner_on_goal_path = np.asarray(mazes.path[:, 0, side - 1])  # then the union is the goal path itself
    np.testing.assert_array_equal(codes["both"], np.where(on_the_way, 1, np.where(corner_on_goal_path, 0, 2)))


def test_path_erasure_flags_a_filler_that_eats_the_path_and_not_one_that_stops(planted, random_net, mazes):
    # with the goal marker blanked, dead-end filling also fills the path from the goal end back to the start;
    # scored against the true path, its readout covers all of the path after the first iteration (all but the
    # goal cell where the goal was itself the tip of a dead end) and then loses it
    blank = mazes.images.at[..., 2].set(0.0)
    peak, final, _ = search.path_coverage(planted, blank, mazes.path, ITERATIONS)
    eaten = search.path_erasure(peak, final)
    assert eaten.sum() >= 16 and np.array_equal(eaten, np.asarray(peak) >= search.FOUND_AT)  # measured: 22 of 24
    assert np.all(np.asarray(final) < search.ERASED_BELOW)
    peak, final, _ = search.path_coverage(planted, mazes.images, mazes.path, ITERATIONS)
    assert np.all(np.asarray(peak) == 1.0) and np.all(np.asarray(final) == 1.0)
    assert not search.path_erasure(peak, final).any()
    peak, final, _ = search.path_coverage(random_net, mazes.images, mazes.path, ITERATIONS)
    assert np.all(np.asarray(peak) < search.FOUND_AT) and not search.path_erasure(peak, final).any()


def test_the_cut_test_tells_a_filler_that_reads_the_maze_from_one_that_holds_its_answer(planted, random_net):
    long_mazes = sample_maze_batch(jax.random.key(12), MazePathTask(side=15), 24)
    eligible, kept = search.cut_path_response(planted, long_mazes.images, long_mazes.path, 80, 80)
    eligible = np.asarray(eligible)
    assert eligible.sum() >= 5 and search.cut_unravel_rate(eligible, kept) == 1.0
    assert np.all(np.asarray(kept)[eligible] < 0.2)  # only cells next to the markers survive
    # the same filling run on a copy of the maze taken at the start: the same answers, blind to the new wall
    latch = dead_end_filler(width=8, memorize=True)
    latch_eligible, latch_kept = search.cut_path_response(latch, long_mazes.images, long_mazes.path, 80, 80)
    assert np.array_equal(np.asarray(latch_eligible), eligible)
    assert search.cut_unravel_rate(latch_eligible, latch_kept) == 0.0 and np.all(np.asarray(latch_kept)[eligible] == 1)
    # a random network solves nothing, so nothing is cut
    assert search.cut_unravel_rate(*search.cut_path_response(random_net, long_mazes.images, long_mazes.path, 80, 8)) \
        is None
