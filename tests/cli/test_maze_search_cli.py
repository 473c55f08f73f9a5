"""``maze-search`` through the CLI and the driver: bad input, and what a (smoke) run stores."""

import json

import numpy as np
import pytest

from mesaopt.cli import main

HEADLINE = {"train_side", "test_sides", "test_iterations", "accuracy", "accuracy_ci", "in_dist_accuracy",
            "extrapolation_accuracy", "thinking_gain", "solve_iteration_fit", "solve_iteration_r2", "cell_settle_fit",
            "algorithm_match", "best_matching_algorithm", "retarget_rate", "path_erasure_rate", "failure_kinds",
            "cut_unravel_rate", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--train-sides", "5", "8"], "odd integer >= 5, got 8"),
    (["--train-sides", "3"], "odd integer >= 5, got 3"),
    (["--test-sides", "7", "19"], "test sides must be >= the training side 9, got 7"),
    (["--test-iterations", "0", "30"], "test_iterations must be >= 1, got 0"),
    (["--test-iterations", "30", "20", "60"], "test_iterations must be strictly increasing"),
    (["--test-iterations", "10", "20"], "must include train_iterations"),
    (["--train-iterations", "0"], "train_iterations must be ≥ 1"),
    (["--residual-layers", "0"], "residual_layers must be ≥ 1, got 0"),
    (["--path-weight", "0"], "path_weight must be a finite number > 0, got 0.0"),
    (["--trace-rate", "-1"], "trace_rate must be a finite number >= 0 (0: off), got -1.0"),
    (["--goal-region", "4"], "goal_region must be none or between 1 and 3"),
    (["--gradient-window", "60"], "gradient_window must be between 1 and train_iterations"),
    (["--start-noise", "-0.5"], "start_noise must be a finite number >= 0, got -0.5"),
    (["--far-start-share", "2"], "far_start_share must be between 0 and 1, got 2.0"),
    (["--wrong-start-share", "-0.1"], "wrong_start_share must be between 0 and 1, got -0.1"),
    (["--min-free-iterations", "45"], "min_free_iterations must be between 0 and train_iterations - gradient_window"
                                      " (40), got 45"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, tmp_path, capsys):
    code = main(["run", "maze-search", "--root", str(tmp_path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert not any(tmp_path.iterdir())


def test_a_run_stores_the_headline_the_report_and_the_animation(smoke_run):
    outcome = smoke_run("maze-search")
    report = json.loads((outcome.path / "report.json").read_text())
    h = report["headline"]
    assert HEADLINE <= set(h)
    n_sides, n_iters = len(h["test_sides"]), len(h["test_iterations"])
    for kind in ("recurrent", "feedforward"):
        grid = np.asarray(h["accuracy"][kind])
        assert grid.shape == (n_sides, n_iters) and np.all((0 <= grid) & (grid <= 1))
        ci = np.asarray(h["accuracy_ci"][kind])
        assert np.all(ci[..., 0] <= grid + 1e-9) and np.all(grid <= ci[..., 1] + 1e-9)
    per_seed = np.asarray(report["accuracy"]["feedforward"]["per_seed"])
    assert np.all(per_seed == per_seed[..., :1])  # a fixed depth: its row repeats one value
    assert h["thinking_gain"]["feedforward"] == 0.0
    assert set(h["algorithm_match"]) == {"bfs_from_start", "bfs_from_goal", "bfs_from_both", "dead_end_filling"}
    cell = h["cell_settle_fit"]
    assert set(cell) == {"slope", "r2", "rank_corr", "median_slope", "settled_share"}
    assert 0 <= cell["r2"] <= 1 and -1 <= cell["rank_corr"] <= 1 and 0 <= cell["settled_share"] <= 1
    html = (outcome.path / "report.html").read_text()
    assert "data:image/gif;base64," in html and "data:image/png;base64," in html
    assert "per-cell settling" in html and "Where extrapolation fails" in html
    erasure = report["search_evidence"][0]["path_erasure"]
    assert erasure["side"] == h["test_sides"][-1] and len(erasure["path_length"]) == len(erasure["final_coverage"])
    assert 0 <= h["path_erasure_rate"] <= 1
    assert set(h["failure_kinds"]) == {"right", "erased", "unfilled", "other"}
    assert abs(sum(h["failure_kinds"].values()) - 1) < 1e-3
    assert len(erasure["final_extra"]) == len(erasure["path_length"])
    assert "whose answer is right / erased / unfilled / other" in html
    cut = report["search_evidence"][0]["cut_test"]
    assert cut["eligible"] <= len(cut["kept"]) and (h["cut_unravel_rate"] is None or 0 <= h["cut_unravel_rate"] <= 1)
    assert "Cut test" in html
    assert "process supervision" in html  # the default loss asks for the filling's trace, and the report says so
    assert (outcome.path / "readout.gif").read_bytes()[:6] == b"GIF89a"
    for kind in ("recurrent", "feedforward"):
        assert (outcome.path / "checkpoints" / f"{kind}.safetensors").is_file()


def test_the_report_says_what_the_loss_asked_for_also_for_runs_stored_before_the_trace():
    from mesaopt.experiments.maze_search.report import supervision_sentence

    assert "the path alone" in supervision_sentence({"config": {}})
    assert "the path alone" in supervision_sentence({"config": {"trace_rate": 0.0}})
    assert "round 2·t (process supervision" in supervision_sentence({"config": {"trace_rate": 2.0}})


def test_the_summary_table_of_a_run_with_one_test_side_has_no_larger_side_column():
    from mesaopt.experiments.maze_search.report import summary_table

    h = {"test_sides": [7], "accuracy": {"recurrent": [[0.5, 0.75]]}, "accuracy_ci": {"recurrent": [[[0.4, 0.6],
         [0.7, 0.8]]]}, "in_dist_accuracy": {"recurrent": 0.9}, "thinking_gain": {"recurrent": 0.25},
         "thinking_gain_ci": {"recurrent": [0.1, 0.4]}}
    rows = summary_table({"headline": h})
    assert rows[0] == ["model", "side 7, trained count", "thinking gain"]
    assert rows[1] == ["recurrent", "0.90", "+0.25 [+0.10, +0.40]"]
    h2 = {**h, "test_sides": [7, 9], "accuracy": {"recurrent": [[0.5, 0.75], [0.2, 0.6]]},
          "accuracy_ci": {"recurrent": [[[0.4, 0.6], [0.7, 0.8]], [[0.1, 0.3], [0.5, 0.7]]]}}
    assert summary_table({"headline": h2})[1][2] == "0.60 [0.50, 0.70]"


def test_the_evidence_table_shows_the_robust_settling_row_only_where_the_run_has_it():
    from mesaopt.experiments.maze_search.report import evidence_table

    old = {"solve_iteration_fit": {"dead_end_filling": {"slope": 0.5, "r2": 0.25}}, "algorithm_match": {},
           "cell_settle_fit": {"slope": 0.6, "r2": 0.3, "settled_share": 0.99}}
    assert len(evidence_table({"headline": old})) == 3
    new = {**old, "cell_settle_fit": {**old["cell_settle_fit"], "rank_corr": 0.71, "median_slope": 0.45}}
    rows = evidence_table({"headline": new})
    assert len(rows) == 4 and rows[3][1:3] == ["0.45", "ρ 0.71"]
