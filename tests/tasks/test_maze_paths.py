"""The maze-solving task: images of perfect mazes and the cells of their one start-goal path."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.tasks.maze_paths import UNREACHED, MazePathTask, bfs_distances, path_cells, sample_maze_batch


@pytest.fixture(scope="module")
def batch9():
    return jax.device_get(jax.jit(lambda k: sample_maze_batch(k, MazePathTask(side=9), 64))(jax.random.key(0)))


def _neighbours(mask, r, c):
    return sum(mask[r + dr, c + dc] for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1))
               if 0 <= r + dr < mask.shape[0] and 0 <= c + dc < mask.shape[1])


def test_bfs_distances_by_hand_and_unreachable_cells():
    open_cells = jnp.array([[1, 1, 1, 0, 1],
                            [0, 0, 1, 0, 1],
                            [1, 1, 1, 0, 1]], bool)
    dist = np.asarray(bfs_distances(open_cells, jnp.array([0, 0])))
    np.testing.assert_array_equal(dist[0, :3], [0, 1, 2])
    np.testing.assert_array_equal(dist[2, :3], [6, 5, 4])
    assert (dist[:, 4] == UNREACHED).all() and (dist[:, 3] == UNREACHED).all()  # cut off by the wall column


def test_the_target_is_one_simple_path_from_start_to_goal(batch9):
    for image, path in zip(batch9.images, batch9.path):
        open_cells, start, goal = image[..., 0] > 0, np.argwhere(image[..., 1]), np.argwhere(image[..., 2])
        assert len(start) == len(goal) == 1 and not (start == goal).all()
        assert path[tuple(start[0])] and path[tuple(goal[0])] and not (path & ~open_cells).any()
        ends = {tuple(start[0]), tuple(goal[0])}
        for r, c in np.argwhere(path):
            assert _neighbours(path, r, c) == (1 if (r, c) in ends else 2)  # a simple path, no branches or loops


def test_path_length_is_the_start_goal_distance(batch9):
    image, path = batch9.images[0], batch9.path[0]
    start, goal = (jnp.asarray(np.argwhere(image[..., ch])[0]) for ch in (1, 2))
    dist = bfs_distances(jnp.asarray(image[..., 0] > 0), start)
    assert path.sum() == int(dist[goal[0], goal[1]]) + 1


def test_a_wrong_goal_gives_a_different_path(batch9):
    """Planted negative: the path to another room is not the target."""
    image, path = batch9.images[1], batch9.path[1]
    start, goal = np.argwhere(image[..., 1])[0], np.argwhere(image[..., 2])[0]
    other = np.array([8, 8]) if not (goal == [8, 8]).all() else np.array([0, 0])
    wrong = np.asarray(path_cells(jnp.asarray(image[..., 0] > 0), jnp.asarray(start), jnp.asarray(other)))
    assert not np.array_equal(wrong, path)


def test_goal_region_places_the_goal_in_the_top_right_rooms():
    for region in (1, 2):
        b = jax.jit(lambda k, r=region: sample_maze_batch(k, MazePathTask(side=9, goal_region=r), 64))(
            jax.random.key(region))
        goals = np.argwhere(np.asarray(b.images[..., 2]))[:, 1:]
        assert (goals[:, 0] <= 2 * (region - 1)).all() and (goals[:, 1] >= 8 - 2 * (region - 1)).all()
        assert len({tuple(g) for g in goals}) == region * region  # every room of the block is drawn


def test_goal_outside_region_never_places_the_goal_in_the_block_and_the_region_may_be_traced():
    sample = jax.jit(lambda k, r: sample_maze_batch(k, MazePathTask(side=9, goal_region=r, goal_outside_region=True),
                                                    96))
    for region in (1, 2):
        images = np.asarray(sample(jax.random.key(region), region).images)
        for channel in (1, 2):  # start and goal
            marks = np.argwhere(images[..., channel])[:, 1:]
            inside = (marks[:, 0] <= 2 * (region - 1)) & (marks[:, 1] >= 8 - 2 * (region - 1))
            assert not inside.any() and len({tuple(g) for g in marks}) > 25 - region * region - 4


@pytest.mark.parametrize("task, message", [(MazePathTask(side=8), "odd integer >= 5"),
                                           (MazePathTask(side=3), "odd integer >= 5"),
                                           (MazePathTask(side=9, goal_region=0), "between 1 and 5"),
                                           (MazePathTask(side=9, goal_region=6), "between 1 and 5"),
                                           (MazePathTask(side=9, goal_region=5, goal_outside_region=True),
                                            "between 1 and 4"),
                                           (MazePathTask(side=9, goal_outside_region=True), "between 1 and 4"),
                                           (MazePathTask(side=9, far_start_share=1.5), "between 0 and 1")])
def test_bad_tasks_are_one_clear_error(task, message):
    with pytest.raises(MesaoptError, match=message):
        task.validate()


def test_mixed_side_batch_places_each_maze_whole_on_the_canvas():
    from mesaopt.tasks.maze_paths import sample_mixed_side_batch

    batch = jax.jit(lambda k: sample_mixed_side_batch(k, (5, 7, 9), per_side=6))(jax.random.key(4))
    assert batch.images.shape == (18, 9, 9, 3) and batch.path.shape == (18, 9, 9)
    open_counts = np.asarray(batch.images[..., 0].sum(axis=(1, 2)))
    assert open_counts[:6].max() < open_counts[12:].min()  # the 5x5 mazes have fewer open cells than the 9x9
    for image, path in zip(np.asarray(batch.images), np.asarray(batch.path)):
        rows, cols = np.nonzero(image[..., 1] + image[..., 2])
        assert np.all(rows % 2 == 0) and np.all(cols % 2 == 0)  # rooms stay on even coordinates
        assert path[image[..., 1] > 0.5].all() and path[image[..., 2] > 0.5].all()
        assert not path[image[..., 0] < 0.5].any()
    offsets = {tuple(np.argwhere(im[..., 0] > 0).min(0)) for im in np.asarray(batch.images[:6])}
    assert len(offsets) > 1  # small mazes sit at different places


def test_moving_the_goal_gives_the_new_goals_path():
    from mesaopt.tasks.maze_paths import move_goal, path_cells

    batch = jax.jit(lambda k: sample_maze_batch(k, MazePathTask(side=9), 8))(jax.random.key(5))
    moved, path = jax.jit(jax.vmap(move_goal))(batch.images, jax.random.split(jax.random.key(6), 8))
    expected = jax.jit(path_cells)
    assert np.all(np.asarray(moved[..., 2].sum(axis=(1, 2))) == 1)
    assert not np.any(np.asarray(moved[..., 2] * batch.images[..., 1]))  # never on the start
    assert not np.all(np.asarray(moved[..., 2] == batch.images[..., 2]))
    np.testing.assert_array_equal(np.asarray(moved[..., :2]), np.asarray(batch.images[..., :2]))
    for image, p in zip(np.asarray(moved), np.asarray(path)):
        start, goal = np.argwhere(image[..., 1])[0], np.argwhere(image[..., 2])[0]
        np.testing.assert_array_equal(p, np.asarray(expected(jnp.asarray(image[..., 0] > 0.5), start, goal)))


def test_far_starts_span_the_longest_room_to_room_path_and_keep_the_walls(batch9):
    far = jax.device_get(jax.jit(lambda k: sample_maze_batch(k, MazePathTask(9, far_start_share=1.0), 64))(
        jax.random.key(0)))
    assert np.array_equal(far.images[..., 0], batch9.images[..., 0])  # the same mazes, other ends
    rooms = jnp.array([(r, c) for r in range(0, 9, 2) for c in range(0, 9, 2)])
    # every room's distance to every room, per maze: the longest room-to-room path by brute force
    all_pairs = jax.jit(jax.vmap(jax.vmap(bfs_distances, in_axes=(None, 0)), in_axes=(0, None)))
    dist = np.asarray(all_pairs(jnp.asarray(far.images[..., 0] > 0.5), rooms))[:, :, ::2, ::2]
    diameter = np.where(dist < UNREACHED, dist, -1).max(axis=(1, 2, 3))
    assert np.array_equal(far.path.sum((1, 2)) - 1, diameter)
    half = jax.jit(lambda k: sample_maze_batch(k, MazePathTask(9, far_start_share=0.5), 64))(jax.random.key(0))
    moved = np.any(np.asarray(half.images[..., 1:]) != batch9.images[..., 1:], axis=(1, 2, 3))
    assert 16 <= moved.sum() <= 48  # about half the problems get the far ends
