"""The conditions factors' shared thinker harness: the time-pressure loss on the planted dead-end filler (right only
after enough iterations, so the mean over every iteration costs more than the last), and the search measures read
off accuracy ladders."""

import jax
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.experiments.maze_search.train import path_loss
from mesaopt.experiments.shared.thinker_conditions import (ThinkerSetup, every_iteration_loss, make_pool_trainer,
                                                           search_measures)
from mesaopt.models.planted_thinkers import dead_end_filler
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch


def test_the_every_iteration_loss_charges_a_searcher_for_its_early_iterations():
    model, batch = dead_end_filler(width=8), sample_maze_batch(jax.random.key(0), MazePathTask(5), 4)
    states = model.think(batch.images, 12, every_state=True)
    per_iteration = np.asarray(jax.vmap(lambda s: path_loss(model.readout(s), batch.path))(states))
    every = float(every_iteration_loss(model, batch, 12))
    assert every == pytest.approx(per_iteration.mean(), rel=1e-5)
    assert per_iteration[0] > per_iteration[-1] and every > per_iteration[-1]


def test_search_measures_read_the_training_count_the_best_and_the_gain():
    setup = ThinkerSetup(test_iterations=(5, 10, 20, 40, 80))  # train_iterations 20: column 2
    ladders = {"train": np.array([[0.1, 0.5, 0.9, 1.0, 1.0]]), "novel": np.array([[0.0, 0.2, 0.6, 0.7, 0.7]]),
               "extrapolation": np.array([[0.0, 0.0, 0.1, 0.5, 0.4]])}
    m = search_measures(setup, ladders)
    assert m["train_accuracy"][0] == 0.9 and m["novel_accuracy"][0] == 0.6
    assert m["extrapolation_accuracy"][0] == 0.5 and m["thinking_gain"][0] == pytest.approx(0.3)


def test_an_unknown_loss_is_one_error_naming_the_losses():
    with pytest.raises(MesaoptError, match="loss must be one of progressive, every_iteration"):
        make_pool_trainer(ThinkerSetup(), loss="deep")
