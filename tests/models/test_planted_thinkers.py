"""The planted searcher: a RecurrentThinker with hand-set weights that runs dead-end filling."""

import jax
import jax.numpy as jnp
import numpy as np

from mesaopt.models.planted_thinkers import dead_end_filler
from mesaopt.tasks.maze_algorithms import dead_end_fill_states, dead_end_rounds
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch


def test_its_state_is_dead_end_filling_round_by_round_and_its_readout_the_path():
    batch = sample_maze_batch(jax.random.key(3), MazePathTask(side=13), 8)
    model = dead_end_filler(width=8)
    rounds = int(jnp.max(jax.vmap(dead_end_rounds)(batch.images)))
    states = model.think(batch.images, rounds, every_state=True)
    filled = jax.vmap(lambda im: dead_end_fill_states(im, rounds), out_axes=1)(batch.images)
    np.testing.assert_array_equal(np.asarray(states[..., 0]), np.asarray(filled, np.float32))
    pred = jnp.argmax(model(batch.images, rounds), -1) == 1
    assert bool(jnp.all(pred == batch.path))
    early = jnp.argmax(model(batch.images, 2), -1) == 1  # too few rounds: dead ends still marked
    assert not bool(jnp.all(early == batch.path))
