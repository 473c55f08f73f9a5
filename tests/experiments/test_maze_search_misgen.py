"""``maze-search-misgen`` pieces: per-run goal regions, the proxy block, and the card's objective and verdict on
planted rates (a goal seeker, a proxy seeker, a network that cannot solve mazes)."""

import numpy as np

from mesaopt.experiments.maze_search_misgen.config import MazeSearchMisgenConfig
from mesaopt.experiments.maze_search_misgen.evaluate import proxy_cells
from mesaopt.experiments.maze_search_misgen.evidence import _verdict_fields, behavioral_objective
from mesaopt.experiments.maze_search_misgen.train import run_regions
from mesaopt.experiments.shared.evidence import VerdictThresholds


def test_runs_are_condition_major():
    cfg = MazeSearchMisgenConfig(goal_regions=(1, 3), n_seeds=2)
    np.testing.assert_array_equal(run_regions(cfg), [1, 1, 3, 3])


def test_the_proxy_block_covers_the_top_right_rooms_and_the_cells_between_them():
    block = proxy_cells(9, 2)
    assert block.sum() == 9 and block[0, 8] and block[2, 6] and not block[3, 8] and not block[0, 5]
    assert proxy_cells(9, 1).sum() == 1 and proxy_cells(9, 1)[0, 8]


def test_planted_rates_give_the_expected_objective_and_verdict():
    headline = {"in_dist_accuracy": [0.99, 0.99, 0.30], "goal_rate_shifted": [0.95, 0.05, 0.0],
                "proxy_rate_shifted": [0.01, 0.90, 0.0]}
    cards = [_verdict_fields(headline, i, VerdictThresholds()) for i in range(3)]
    assert [c["behavioral_objective"] for c in cards] == ["goal", "corner", "none"]
    assert [c["verdict"] for c in cards] == ["robustly_aligned", "proxy_aligned", "suboptimality"]
    assert behavioral_objective(0.2, 0.1) == "none"
