"""Sweep planning (grid axes, points, seed batches), point headlines from seed batches, and the ledger."""

import json

import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.experiments import EXPERIMENTS
from mesaopt.sweeps.aggregate import headline_numbers, point_headline
from mesaopt.sweeps.grid import grid_points, parse_grid, plan_sweep, point_overrides, seed_batches
from mesaopt.sweeps.ledger import SweepLedger, attempts_file, lock_sweep, sweep_dir, unlock_sweep
from mesaopt.sweeps.worker import count_attempts, record_attempt, worker_env


def test_grid_specs_become_axes_and_every_combination_a_point():
    axes = parse_grid(["task.d=4,8", "--n-seeds=2", "train.steps= 10 , 20 ,30"])
    assert [(a.field, a.values) for a in axes] == [("task.d", ("4", "8")), ("n_seeds", ("2",)),
                                                   ("train.steps", ("10", "20", "30"))]
    points = grid_points(axes)
    assert len(points) == 6 and points[0] == {"task.d": "4", "n_seeds": "2", "train.steps": "10"}
    assert points[-1] == {"task.d": "8", "n_seeds": "2", "train.steps": "30"}
    assert grid_points([]) == [{}]
    assert point_overrides({"task.d": "4", "region_sizes": "1 3"}) == ["--task.d", "4", "--region_sizes", "1", "3"]


@pytest.mark.parametrize("spec, needle", [("task.d", "FIELD=V1,V2"), ("task.d=4,,8", "empty value"),
                                          ("=4", "FIELD=V1,V2")])
def test_a_malformed_grid_is_one_line_naming_the_form(spec, needle):
    with pytest.raises(MesaoptError, match=needle):
        parse_grid([spec])
    with pytest.raises(MesaoptError, match="twice"):
        parse_grid(["seed=1", "seed=2"])


def test_seed_batches_cover_every_seed_once_and_never_exceed_the_batch():
    assert seed_batches(0, 5, 2) == [(0, 2), (1, 2), (2, 1)]
    assert seed_batches(7, 4, 0) == [(7, 4)] and seed_batches(7, 4, 9) == [(7, 4)]
    assert sum(n for _, n in seed_batches(3, 17, 4)) == 17


def test_plan_resolves_every_point_and_names_the_bad_one():
    experiment = EXPERIMENTS["icl-gd"]
    points = plan_sweep(experiment, parse_grid(["seed=0,1", "n_seeds=2"]), experiment.config, per_task=1)
    runs = [[t.run for t in p.tasks] for p in points]
    assert [len(r) for r in runs] == [2, 2]
    assert runs[0][1] == runs[1][0]  # seed 1 alone is the same run in both points: stored and run once
    assert [(t.seed, t.n_seeds) for t in points[1].tasks] == [(1, 1), (2, 1)]
    with pytest.raises(MesaoptError, match="grid point seed=x"):
        plan_sweep(experiment, parse_grid(["seed=0,x"]), experiment.config, per_task=0)
    with pytest.raises(MesaoptError, match="grid point task.nope=3"):
        plan_sweep(experiment, parse_grid(["task.nope=3"]), experiment.config, per_task=0)
    with pytest.raises(MesaoptError, match="seeds-per-task"):
        plan_sweep(EXPERIMENTS["conditions"], [], EXPERIMENTS["conditions"].config, per_task=1)


def test_a_whole_point_keeps_its_run_and_batches_get_a_t_interval_around_the_seed_weighted_mean():
    single = {"rate": 0.5, "rate_ci": [0.4, 0.6], "n_seeds": 3, "solved": True}
    assert point_headline([single], [3]) == single
    assert headline_numbers(single) == ["rate", "n_seeds"]
    batches = [{"rate": 0.2, "n_seeds": 2, "wall_seconds": 5.0}, {"rate": 0.4, "n_seeds": 2, "wall_seconds": 6.0},
               {"rate": 0.9, "n_seeds": 1, "wall_seconds": 4.0}]
    out = point_headline(batches, [2, 2, 1])
    assert out["rate"] == pytest.approx((0.4 + 0.8 + 0.9) / 5)
    half = 4.303 * np.std([0.2, 0.4, 0.9], ddof=1) / np.sqrt(3)
    assert out["rate_ci"] == pytest.approx([out["rate"] - half, out["rate"] + half])
    assert out["n_seeds"] == 5 and out["wall_seconds"] == 15.0 and out["n_batches"] == 3
    assert "n_seeds_ci" not in out


def test_the_ledger_counts_attempts_from_the_workers_files_and_rolls_tasks_up_into_points(tmp_path):
    experiment = EXPERIMENTS["icl-gd"]
    axes = parse_grid(["seed=0,1", "n_seeds=2"])
    points = plan_sweep(experiment, axes, experiment.config, per_task=1)
    directory = sweep_dir(tmp_path, "icl-gd", axes, points)
    assert directory == sweep_dir(tmp_path, "icl-gd", axes, plan_sweep(experiment, axes, experiment.config, 1))
    assert directory != sweep_dir(tmp_path, "icl-gd", axes, plan_sweep(experiment, axes, experiment.config, 0))
    ledger = SweepLedger(directory, {"preset": "icl-gd"}, points)
    shared = points[0].tasks[1].run
    for _ in range(2):
        record_attempt(attempts_file(directory, shared))
    assert count_attempts(attempts_file(directory, shared)) == 2
    ledger.mark(shared, "complete", headline={"rate": 1.0, "n_seeds": 1})
    assert all(t["attempts"] == 2 for p in ledger.points for t in p["tasks"] if t["run"] == shared)
    ledger.finish_points(point_headline)
    assert ledger.counts() == {"complete": 0, "failed": 0, "pending": 2}
    ledger.mark(points[0].tasks[0].run, "complete", headline={"rate": 0.0, "n_seeds": 1})
    ledger.mark(points[1].tasks[1].run, "failed", error="training diverged")
    ledger.finish_points(point_headline)
    assert ledger.counts() == {"complete": 1, "failed": 1, "pending": 0}
    assert ledger.points[0]["headline"]["rate"] == 0.5
    saved = json.loads(ledger.save().read_text())
    assert saved["points_by_status"]["failed"] == 1 and saved["points"][1]["tasks"][1]["error"] == "training diverged"
    with pytest.raises(ValueError):
        ledger.mark(shared, "done")
    fd = lock_sweep(directory)
    with pytest.raises(MesaoptError, match="another mesaopt sweep"):
        lock_sweep(directory)
    unlock_sweep(fd)
    unlock_sweep(lock_sweep(directory))


def test_workers_get_their_own_device_count_and_no_gpu_preallocation():
    env = worker_env(2, "/cache")
    assert env["MESAOPT_CPU_DEVICES"] == "2" and "device_count=2" in env["XLA_FLAGS"]
    assert env["XLA_PYTHON_CLIENT_PREALLOCATE"] == "false" and env["MESAOPT_JAX_CACHE"] == "/cache"
    assert "MESAOPT_JAX_CACHE" not in worker_env(1, None)
