"""The CLI end to end with tiny budgets, and every bad-input case: one line, exit 2, nothing overwritten."""

import json
import os
from pathlib import Path

import pytest

from mesaopt.cli import main
from mesaopt.errors import CheckpointError, NotARunError

TINY = ["--size", "5", "--region-sizes", "1", "5", "--n-seeds", "2", "--total-steps", "2048",
        "--eval-episodes", "16", "--n-chunks", "2", "--ppo.n-envs", "16", "--ppo.n-steps", "16",
        "--layout-pool-size", "4"]
"""maze-misgen's smoke config as flags: the stored run below is a copy of the session's smoke run, found again by
its config hash."""
HEADLINE_KEYS = {"region_sizes", "goal_rate_in_dist", "goal_rate_shifted", "proxy_rate_shifted",
                 "goal_rate_in_dist_ci", "goal_rate_shifted_ci", "proxy_rate_shifted_ci", "n_seeds",
                 "env_steps_per_seed", "wall_seconds"}


@pytest.fixture(scope="module")
def stored_run(tmp_path_factory, smoke_run):
    """``(root, run dir)``: a copy of the maze-misgen smoke run in a root of its own (no catalog: it is rebuilt)."""
    import shutil

    root = tmp_path_factory.mktemp("runs")
    source = Path(smoke_run("maze-misgen").path)
    shutil.copytree(source, root / source.name)
    return root, root / source.name


def _run_ok(argv):
    import io
    from contextlib import redirect_stdout

    out = io.StringIO()
    with redirect_stdout(out):
        assert main(argv) == 0
    return Path(out.getvalue().strip().splitlines()[-1])


def _run_err(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0]
    return err[0]


def test_run_writes_a_complete_run(stored_run):
    root, run_dir = stored_run
    assert run_dir.parent == root and run_dir.name.startswith("maze-misgen-")
    for name in ("config.json", "report.json", "report.html", "COMPLETE", "versions.json", "metrics.safetensors",
                 "checkpoints/params.safetensors", "checkpoints/params.json", "example.gif"):
        assert (run_dir / name).is_file(), name
    report = json.loads((run_dir / "report.json").read_text())
    assert set(report["headline"]) == HEADLINE_KEYS
    assert report["headline"]["region_sizes"] == [1, 5] and report["headline"]["n_seeds"] == 2
    for key in ("goal_rate_in_dist", "goal_rate_shifted", "proxy_rate_shifted"):
        assert all(0.0 <= v <= 1.0 for v in report["headline"][key])
    html = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html


def test_same_config_reuses_the_stored_run(stored_run, capsys):
    root, run_dir = stored_run
    before = (run_dir / "report.json").stat().st_mtime_ns
    assert _run_ok(["run", "maze-misgen", "--root", str(root), *TINY]) == run_dir
    assert (run_dir / "report.json").stat().st_mtime_ns == before
    err = capsys.readouterr().err
    assert "reusing" in err and "note:" not in err  # made by this very code


def test_reusing_a_run_made_by_other_code_says_so(stored_run, tmp_path, capsys):
    import shutil

    _, run_dir = stored_run
    copy_root = tmp_path / "runs"
    shutil.copytree(run_dir, copy_root / run_dir.name)
    versions_file = copy_root / run_dir.name / "versions.json"
    versions = json.loads(versions_file.read_text())
    versions["mesaopt_source"] = "000000000000"
    versions_file.write_text(json.dumps(versions))
    assert _run_ok(["run", "maze-misgen", "--root", str(copy_root), *TINY]) == copy_root / run_dir.name
    err = capsys.readouterr().err
    assert "reusing" in err and "note: other code made it (mesaopt_source 000000000000 -> " in err
    assert json.loads(versions_file.read_text()) == versions  # reuse rewrites nothing


def test_checkpoint_round_trip_and_foreign_checkpoint(stored_run, tmp_path):
    from mesaopt.experiments.maze_misgen.run import load_trained_agents

    _, run_dir = stored_run
    cfg, setup, params = load_trained_agents(run_dir)
    assert cfg.size == 5 and setup.n_agents == 4
    meta = run_dir / "checkpoints" / "params.json"
    sidecar = json.loads(meta.read_text())
    sidecar["metadata"]["model"] = "cnn"
    original = meta.read_text()
    meta.write_text(json.dumps(sidecar))
    try:
        with pytest.raises(CheckpointError, match="cnn"):
            load_trained_agents(run_dir)
    finally:
        meta.write_text(original)


def test_runs_report_and_list_commands(stored_run, capsys):
    root, run_dir = stored_run
    assert main(["runs", "--root", str(root)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].split("\t")[0] == run_dir.name
    assert _run_ok(["report", str(run_dir)]) == run_dir / "report.html"
    assert main(["list"]) == 0
    listed = capsys.readouterr().err
    for name in ("maze-misgen", "maze", "open-room", "mlp", "cnn", "ppo", "outcomes"):
        assert name in listed


@pytest.mark.parametrize("argv, expected", [
    (["run", "no-such-preset"], "unknown preset"),
    (["run", "maze-misgen", "--no-such-field", "1"], "unknown config field --no-such-field"),
    (["run", "maze-misgen", "--size", "2"], "size must be an odd integer"),
    (["run", "maze-misgen", "--size", "5", "--region-sizes", "1", "9"], "outside the 5x5 maze"),
    (["run", "maze-misgen", "--n-seeds", "0"], "n_seeds must be >= 1"),
    (["run", "maze-misgen", "--n-seeds", "many"], "expects int"),
    (["run", "maze-misgen", "--model", "transformer"], "unknown model"),
    (["run", "maze-misgen", "--model", "vprop", "--obs-format", "egocentric"], "use --obs-format grid"),
    (["run", "maze-misgen", "--size", "7", "--train-size", "5", "--model", "mlp"], "depend on the maze's side"),
    (["run", "maze-misgen", "--train-size", "3"], "depend on the maze's side"),  # the rule's model at 5: the MLP
    (["run", "maze-misgen", "--eval-episodes", "-1"], "eval_episodes must be >= 0"),
    (["run", "maze-misgen", "--ppo.n-minibatches", "7"], "divisible"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_is_one_line(argv, expected, capsys, tmp_path):
    line = _run_err([*argv, "--root", str(tmp_path)] if argv[0] == "run" else argv, capsys)
    assert expected in line
    assert not any(tmp_path.iterdir()) or not list(tmp_path.glob("maze-misgen-*"))


def test_a_planner_trained_on_small_mazes_is_evaluated_on_large_ones(tmp_path):
    from mesaopt.experiments.maze_misgen.run import load_trained_agents

    run_dir = _run_ok(["run", "maze-misgen", "--root", str(tmp_path), "--size", "7", "--train-size", "5",
                       "--model", "vprop", "--obs-format", "grid", "--region-sizes", "1", "7", "--n-seeds", "1",
                       "--total-steps", "256", "--eval-episodes", "4", "--n-chunks", "1", "--ppo.n-envs", "8",
                       "--ppo.n-steps", "16"])
    report = json.loads((run_dir / "report.json").read_text())
    assert (report["config"]["train_size"], report["config"]["max_steps"]) == (5, 78)
    assert all(len(ep["walls"]) == 7 for episodes in report["examples"].values() for ep in episodes)
    assert "trained at side 5" in (run_dir / "report.html").read_text()
    cfg, setup, params = load_trained_agents(run_dir)
    assert (setup.env.size, setup.eval_env.size, cfg.training_horizon) == (5, 7, 40)
    _run_ok(["inspect", str(run_dir), "--n-episodes", "4", "--n-default-samples", "2", "--irl-episodes", "4",
             "--steering-episodes", "2"])  # inspected at side 7, where it is evaluated
    cards = json.loads((run_dir / "report.json").read_text())["evidence"]
    assert set(cards) == {"region_1", "region_7"}
    assert all(-1.0 <= card["steering_mean_gain"] <= 1.0 for card in cards.values())


def test_report_of_a_directory_that_is_not_a_run(tmp_path, capsys):
    (tmp_path / "junk.txt").write_text("keep me")
    line = _run_err(["report", str(tmp_path)], capsys)
    assert "not a mesaopt run" in line
    assert (tmp_path / "junk.txt").read_text() == "keep me"


def test_corrupt_checkpoint_is_one_clear_error(stored_run, tmp_path):
    import shutil

    from mesaopt.experiments.maze_misgen.run import load_trained_agents

    _, run_dir = stored_run
    copy = tmp_path / run_dir.name
    shutil.copytree(run_dir, copy)
    ckpt = copy / "checkpoints" / "params.safetensors"
    ckpt.write_bytes(ckpt.read_bytes()[: os.path.getsize(ckpt) // 2])
    with pytest.raises(CheckpointError):
        load_trained_agents(copy)
    with pytest.raises(NotARunError):
        load_trained_agents(tmp_path)


def test_help_shows_every_field_with_its_docstring(capsys):
    assert main(["run", "maze-misgen", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Independent agents per region size." in out  # the n_seeds docstring
    assert "--ppo.learning-rate" in out and "Adam step size" in out and "(default: 5)" in out


def test_print_config_then_config_file_round_trips(tmp_path, capsys):
    assert main(["run", "maze-misgen", "--print-config", "--n-seeds", "3", "--ppo.learning-rate", "0.001"]) == 0
    toml = capsys.readouterr().out
    assert "n_seeds = 3" in toml and "[ppo]" in toml
    (tmp_path / "cfg.toml").write_text(toml)
    assert main(["run", "maze-misgen", "--config", str(tmp_path / "cfg.toml"), "--print-config",
                 "--size", "7"]) == 0  # flags override the file
    again = capsys.readouterr().out
    assert again == toml.replace("size = 5", "size = 7")
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("argv, expected", [
    (["--ppo.learning-rate", "nan"], "ppo.learning_rate must be a finite number, got nan"),
    (["--ppo.learning-rate", "-1"], "learning_rate must be a finite number > 0"),
    (["--ppo.gamma", "inf"], "ppo.gamma must be a finite number"),
    (["--config", "missing.toml"], "missing.toml"),
])
def test_impossible_numbers_and_files_are_one_line(argv, expected, tmp_path, capsys):
    line = _run_err(["run", "maze-misgen", "--root", str(tmp_path), *argv], capsys)
    assert expected in line and not any(tmp_path.iterdir())


def test_an_unusable_root_is_one_line(capsys):
    line = _run_err(["run", "icl-gd", "--root", "/proc/x"], capsys)
    assert "cannot store runs in --root /proc/x" in line


def test_diverging_training_stops_with_one_line_and_stores_nothing(tmp_path, capsys):
    from mesaopt.experiments import EXPERIMENTS

    smoke = ["--task.d", "3", "--task.n-context", "6", "--train.steps", "60", "--train.batch-size", "64",
             "--n-seeds", "2", "--eval-prompts", "128", "--n-chunks", "2"]
    assert "icl-gd" in EXPERIMENTS
    code = main(["run", "icl-gd", "--root", str(tmp_path), *smoke, "--train.learning-rate", "1e30"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(err) == 1 and err[0].startswith("error: training diverged: loss is inf at step")
    assert not list(tmp_path.glob("icl-gd-*")) and not list((tmp_path / ".partial").iterdir())


def test_the_full_diversity_study_runs_and_reports_at_a_tiny_budget(smoke_run):
    from mesaopt.experiments import EXPERIMENTS

    run_dir = Path(smoke_run("icl-diversity-full").path)
    report = json.loads((run_dir / "report.json").read_text())
    assert run_dir.name.startswith("icl-diversity-full-") and report["preset"] == "icl-diversity-full"
    smoke = EXPERIMENTS["icl-diversity-full"].smoke_config
    assert report["headline"]["M"] == list(smoke.pool_sizes) and (run_dir / "report.html").is_file()
