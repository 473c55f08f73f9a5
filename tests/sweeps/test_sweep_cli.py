"""``mesaopt sweep`` in-process (no Ray): every point lands in the store once, the report draws the swept field,
running it again reuses every run, and bad input is one line with nothing written."""

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from mesaopt.cli import main
from mesaopt.sweeps import backends

TINY_GD = ["--task.d", "3", "--task.n-context", "6", "--train.steps", "60", "--train.batch-size", "64",
           "--n-seeds", "2", "--eval-prompts", "128", "--n-chunks", "2"]
GRID = ["--grid", "seed=0,1", "--seeds-per-task", "1", "--backend", "in-process"]


def _sweep(root: Path, *args) -> tuple[int, Path]:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["sweep", "icl-gd", "--root", str(root), *GRID, *TINY_GD, *args])
    return code, Path(out.getvalue().strip().splitlines()[-1])


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    root = tmp_path_factory.mktemp("sweep-root")
    code, directory = _sweep(root)
    assert code == 0
    return root, directory, json.loads((directory / "sweep.json").read_text())


def test_every_point_is_complete_and_a_shared_seed_batch_ran_once(swept):
    root, directory, sweep = swept
    assert sweep["points_by_status"] == {"complete": 2, "failed": 0, "pending": 0}
    assert sweep["grid"] == {"seed": ["0", "1"]} and sweep["backend"] == "in-process"
    runs = {t["run"]: t for p in sweep["points"] for t in p["tasks"]}
    assert len(runs) == 3  # seeds 0, 1 and 2, one seed each: seed 1 belongs to both points
    assert all(t["attempts"] == 1 and t["status"] == "complete" and Path(t["path"]).is_dir() for t in runs.values())
    assert sorted(p.name for p in root.iterdir() if p.name.startswith("icl-gd-")) == sorted(runs)
    for point in sweep["points"]:
        h = point["headline"]
        assert h["n_seeds"] == 2 and h["n_batches"] == 2
        low, high = h["sensitivity_cosine_gd_ci"]
        assert low <= h["sensitivity_cosine_gd"] <= high
    html = (directory / "report.html").read_text()
    assert "data:image/png;base64," in html and "seed" in html and "https://" not in html


def test_the_same_sweep_again_reuses_every_run(swept, capsys):
    root, directory, sweep = swept
    code, again = _sweep(root)
    assert code == 0 and again == directory
    assert "3 already in the store, 0 to run" in capsys.readouterr().err
    resumed = json.loads((directory / "sweep.json").read_text())
    assert resumed["points"] == sweep["points"] and resumed["created_utc"] == sweep["created_utc"]


@pytest.mark.parametrize("args, needle", [
    (["--grid", "task.nope=1,2"], "grid point task.nope=1"),
    (["--grid", "seed=0,zero"], "grid point seed=zero"),
    (["--grid", "seed"], "FIELD=V1,V2"),
    (["--backend", "threads"], "--backend 'threads'"),
    (["--seeds-per-task", "-1"], "seeds-per-task"),
    (["--address", "auto", "--backend", "in-process"], "--address needs"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, args, needle):
    code = main(["sweep", "icl-gd", "--root", str(tmp_path), *TINY_GD, *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert not any(tmp_path.iterdir())


def test_without_ray_asking_for_a_cluster_says_how_to_install_it(tmp_path, capsys, monkeypatch, swept):
    monkeypatch.setattr(backends, "ray_installed", lambda: False)
    code = main(["sweep", "icl-gd", "--root", str(tmp_path), "--address", "auto", *TINY_GD])
    err = capsys.readouterr().err
    assert code == 2 and "pip install 'mesaopt[ray]'" in err and not any(tmp_path.iterdir())
    assert main(["sweep", "nope", "--root", str(tmp_path)]) == 2
    assert "unknown preset 'nope'" in capsys.readouterr().err
    root, directory, _ = swept
    code, again = _sweep(root, "--backend", "auto")
    assert code == 0 and again == directory
    assert "Ray is not installed: one point after another in this process" in capsys.readouterr().err
