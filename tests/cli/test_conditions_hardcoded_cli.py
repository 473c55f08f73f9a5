"""``conditions-hardcoded`` through the CLI and the driver: bad input is one line and writes nothing; the smoke run
stores every headline name aligned with the two models; the map reading names the goal for a planted goal map and
the corner for a planted corner map (and neither for a map on the start)."""

import json
from types import SimpleNamespace

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.experiments.conditions_hardcoded.run import HYBRID, THINKER, map_measures
from mesaopt.models.planner_hybrid import PlannerHybrid
from mesaopt.tasks.maze_paths import MazePathTask, sample_maze_batch

HEADLINE = {"factor", "levels", "train_iterations", "train_accuracy", "novel_accuracy", "extrapolation_accuracy",
            "thinking_gain", "novel_accuracy_ci", "extrapolation_accuracy_ci", "thinking_gain_ci", "map_goal_match",
            "map_goal_match_ci", "map_goal_mass", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--planner-rounds", "30"], "planner_rounds must be a count on the test ladder"),
    (["--encoder-depth", "0"], "encoder_depth must be a whole number >= 1"),
    (["--n-seeds", "1"], "n_seeds must be a whole number >= 2"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("conditions-hardcoded", args, needle)


def test_a_run_stores_every_headline_name_aligned_with_the_two_models(smoke_run):
    h = json.loads((smoke_run("conditions-hardcoded").path / "report.json").read_text())["headline"]
    assert HEADLINE <= set(h) and h["factor"] == "hardcoded" and h["levels"] == [THINKER, HYBRID]
    assert np.asarray(h["extrapolation_accuracy_ci"]).shape == (2, 2) and 0.0 <= h["map_goal_mass"] <= 1.0
    assert "proxy_goal_rate" not in h  # the smoke config has no proxy arm


def _channel_map(channel: int) -> PlannerHybrid:
    """A one-layer hybrid whose reward logit is 20 on the cells marked in image ``channel``."""
    model = PlannerHybrid(3, depth=1, key=jax.random.key(0))
    kernel = jnp.zeros((3, 3, 3, 1)).at[1, 1, channel, 0].set(20.0)
    return eqx.tree_at(lambda m: m.encoder, model, ((kernel, jnp.zeros(1)),))


class _CellMap(eqx.Module):
    """A planted map with its reward on one cell (the top-right corner in the test)."""

    row: int = eqx.field(static=True)
    col: int = eqx.field(static=True)

    def reward_map(self, images):
        return jnp.zeros(images.shape[:-1]).at[..., self.row, self.col].set(20.0)


@pytest.mark.parametrize("planted, goal, corner", [(2, 1.0, None), (1, 0.0, None), ((0, 6), 0.0, 1.0)])
def test_the_map_reading_names_what_a_planted_map_targets(planted, goal, corner):
    batch = sample_maze_batch(jax.random.key(4), MazePathTask(7, goal_region=1, goal_outside_region=True), 32)
    model = _channel_map(planted) if isinstance(planted, int) else _CellMap(*planted)
    read = map_measures(SimpleNamespace(model=lambda params: model), {"unused": jnp.zeros(1)}, 1, batch)
    assert read["map_goal_match"] == [goal]
    if corner is not None:
        assert read["map_corner_match"] == [corner]
    if planted == 2:
        assert read["map_goal_mass"][0] > 0.99
