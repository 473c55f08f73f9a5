"""The recurrent thinker learns to solve mazes under the preset's own trainer (progressive loss, mixed-side
batches drawn in the loop): a small network, 300 steps on side-5 mazes, against its untrained self."""

import dataclasses

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.experiments.maze_search.config import MazeSearchConfig
from mesaopt.experiments.maze_search.evaluate import correct_on_ladder
from mesaopt.experiments.maze_search.train import make_trainer
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch

STEPS, ITERATIONS = 300, 8


def test_training_lowers_the_loss_and_solves_mazes_the_untrained_network_does_not():
    cfg = MazeSearchConfig(train_sides=(5,), test_sides=(5,), test_iterations=(ITERATIONS,),
                           train_iterations=ITERATIONS, gradient_window=4, width=8,
                           train=dataclasses.replace(MazeSearchConfig().train, steps=STEPS, batch_size=16,
                                                     warmup_steps=10, learning_rate=1e-2))
    trainer = make_trainer(cfg, "recurrent")
    model, metrics = jax.jit(trainer.train)(jax.random.key(0), None)
    loss = np.asarray(metrics.loss)
    mazes = sample_maze_batch(jax.random.key(1), MazePathTask(5), 128)
    solved = jax.jit(lambda m: correct_on_ladder(m, mazes.images, mazes.path, (ITERATIONS,)).mean())
    untrained = trainer.model(trainer.init(jax.random.key(0)).params)
    assert loss[-20:].mean() < 0.5 * loss[:10].mean()
    assert float(solved(model)) >= 0.15 and float(solved(untrained)) == 0.0



def test_time_pressure_charges_for_wrong_early_readouts_and_nothing_more():
    from mesaopt.experiments.maze_search.train import progressive_loss
    from mesaopt.models.planted_thinkers import dead_end_filler
    from mesaopt.models.thinking import RecurrentThinker

    mazes = sample_maze_batch(jax.random.key(2), MazePathTask(11), 16)
    window = 20  # = the most iterations, so no free iterations: the window starts at the projection

    def losses(model):
        return [float(progressive_loss(model, mazes, jax.random.key(3), window, window, every_iteration=flag))
                for flag in (False, True)]

    end, every = losses(dead_end_filler(width=8))  # wrong early (dead ends not yet filled), right later
    assert every > end + 0.05  # measured: 0.43 against 0.34
    # a network whose block outputs zeros: the same readout after every iteration, so nothing early to charge for
    still = RecurrentThinker(3, width=8, key=jax.random.key(4))
    still = eqx.tree_at(lambda m: (m.recall, m.mix), still, jax.tree.map(jnp.zeros_like, (still.recall, still.mix)))
    end, every = losses(still)
    assert abs(every - end) < 1e-4


def _losses_without_and_with(option: str, value) -> dict[str, list[float]]:
    """The progressive loss (side-11 mazes, 40 iterations, window 20) without and with one option, for the planted
    filler and for a network whose block outputs zeros (it forgets its state after one iteration)."""
    from mesaopt.experiments.maze_search.train import progressive_loss
    from mesaopt.models.planted_thinkers import dead_end_filler
    from mesaopt.models.thinking import RecurrentThinker

    mazes = sample_maze_batch(jax.random.key(2), MazePathTask(11), 16)
    still = RecurrentThinker(3, width=8, key=jax.random.key(4))
    still = eqx.tree_at(lambda m: (m.recall, m.mix), still, jax.tree.map(jnp.zeros_like, (still.recall, still.mix)))
    return {name: [float(progressive_loss(model, mazes, jax.random.key(3), 40, 20, **options))
                   for options in ({}, {option: value})]
            for name, model in (("filler", dead_end_filler(width=8)), ("forgetful", still))}


def test_start_noise_charges_a_path_dependent_searcher_and_not_a_path_independent_one():
    losses = _losses_without_and_with("start_noise", 1.0)
    # dead-end filling never unfills a cell: a start with noise in the filled channel stays wrong
    clean, noisy = losses["filler"]
    assert noisy > clean + 0.05  # measured: 0.56 against 0.34
    clean, noisy = losses["forgetful"]  # it forgets the start after one iteration: the noise costs nothing
    assert abs(noisy - clean) < 1e-4


def test_a_wrong_start_charges_a_searcher_that_cannot_leave_a_search_and_not_one_that_forgets():
    losses = _losses_without_and_with("wrong_start_share", 1.0)
    # dead-end filling never unfills: the other maze's filled cells that lie on this maze's path stay filled
    own, wrong = losses["filler"]
    assert wrong > own + 0.05  # measured: 0.43 against 0.33
    own, wrong = losses["forgetful"]
    assert abs(wrong - own) < 1e-4


def test_free_inputs_swap_the_chosen_share_of_mazes_for_at_most_the_free_iterations():
    from mesaopt.experiments.maze_search.train import free_inputs

    images = sample_maze_batch(jax.random.key(2), MazePathTask(9), 64).images
    for share, low, high in ((0.0, 0, 0), (0.5, 16, 48), (1.0, 64, 64)):
        begun, n_wrong = free_inputs(jax.random.key(share > 0), images, jnp.asarray(7), share)
        swapped = np.asarray(jnp.any(begun != images, axis=(1, 2, 3)))
        assert low <= swapped.sum() <= high and 0 <= int(n_wrong) <= 7
        assert np.array_equal(np.asarray(begun)[swapped], np.asarray(jnp.roll(images, 1, axis=0))[swapped])


def test_min_free_iterations_reads_the_loss_no_earlier_than_asked():
    from mesaopt.experiments.maze_search.train import path_loss, progressive_loss
    from mesaopt.models.planted_thinkers import dead_end_filler

    mazes = sample_maze_batch(jax.random.key(2), MazePathTask(11), 16)
    filler = dead_end_filler(width=8)
    # the most free iterations as the least: the loss is the plain loss after all 40 iterations, for every key
    after_all = float(path_loss(filler(mazes.images, 40), mazes.path))
    for k in range(3):
        assert abs(float(progressive_loss(filler, mazes, jax.random.key(k), 40, 20, min_free=20)) - after_all) < 1e-6
    # without the floor some keys read the loss before the filling is done (side 11 needs more than 20 rounds)
    early = [float(progressive_loss(filler, mazes, jax.random.key(k), 40, 20)) for k in range(8)]
    assert max(early) > after_all + 0.01  # measured: up to 0.337 against 0.313


def test_path_weight_makes_a_missing_path_cell_cost_more_than_an_extra_one():
    from mesaopt.experiments.maze_search.train import path_loss

    path = jnp.zeros((1, 5, 5), bool).at[0, 2, :].set(True)  # 5 path cells, 20 others
    right = jnp.where(path[..., None], jnp.array([-4.0, 4.0]), jnp.array([4.0, -4.0]))
    missing = right.at[0, 2, :2].set(jnp.array([4.0, -4.0]))  # 2 path cells called not-path
    extra = right.at[0, 0, :2].set(jnp.array([-4.0, 4.0]))  # 2 other cells called path
    assert path_loss(missing, path) == pytest.approx(float(path_loss(extra, path)))
    assert path_loss(missing, path, 3.0) == pytest.approx(3 * float(path_loss(extra, path, 3.0)), rel=0.05)
    assert path_loss(right, path, 3.0) > path_loss(right, path)  # the right cells' small losses count too


def test_trace_targets_run_from_the_open_cells_to_the_path_as_the_planted_filler_does():
    from mesaopt.experiments.maze_search.train import trace_targets
    from mesaopt.models.planted_thinkers import dead_end_filler

    mazes = sample_maze_batch(jax.random.key(4), MazePathTask(9), 16)
    trace = trace_targets(mazes, 1.0)
    assert bool(jnp.all(trace(0) == (mazes.images[..., 0] > 0.5)))  # nothing filled yet: every open cell
    assert bool(jnp.all(trace(200) == mazes.path))  # every dead end filled: the path
    filler = dead_end_filler(width=8)  # one filling round per iteration
    readout = jax.jit(lambda t: jnp.argmax(filler(mazes.images, t), -1) == 1, static_argnums=0)
    for t in (1, 3, 6, 10):
        assert bool(jnp.all(readout(t) == trace(t)))
        assert not bool(jnp.all(readout(t) == trace(2 * t)))  # a trace at twice the rate is another target
    assert bool(jnp.any(trace(3) != mazes.path))  # early on the trace is not the answer


def test_a_trace_loss_charges_a_filler_that_runs_ahead_of_its_rate_and_not_the_planted_one():
    from mesaopt.experiments.maze_search.train import progressive_loss, trace_targets
    from mesaopt.models.planted_thinkers import dead_end_filler

    mazes = sample_maze_batch(jax.random.key(5), MazePathTask(11), 16)
    filler = dead_end_filler(width=8)  # rate 1; with window = all iterations the loss is read after 6 of them
    at_rate = [float(progressive_loss(filler, mazes, jax.random.key(0), 6, 6, target_after=trace_targets(mazes, r),
                                      every_iteration=every)) for r in (1.0, 0.5) for every in (False, True)]
    answer_only = float(progressive_loss(filler, mazes, jax.random.key(0), 6, 6))
    assert at_rate[0] < answer_only - 0.01 and at_rate[1] < answer_only - 0.01  # its trace, not yet the path
    assert at_rate[2] > at_rate[0] + 0.01 and at_rate[3] > at_rate[1] + 0.01  # at half the rate it is too fast
