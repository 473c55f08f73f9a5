"""The in-context-learning presets through the CLI with tiny budgets, and their bad inputs."""

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from mesaopt.cli import main

TINY_GD = ["--task.d", "3", "--task.n-context", "6", "--train.steps", "60", "--train.batch-size", "64",
           "--n-seeds", "2", "--eval-prompts", "128", "--n-chunks", "2"]


def _run_ok(argv) -> Path:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(argv) == 0
    return Path(out.getvalue().strip().splitlines()[-1])


def _run_err(argv, capsys) -> str:
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    return tmp_path_factory.mktemp("icl-runs")


def _complete(run_dir: Path) -> dict:
    for name in ("config.json", "report.json", "report.html", "COMPLETE", "checkpoints/params.safetensors",
                 "checkpoints/params.json"):
        assert (run_dir / name).is_file(), name
    html = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in html and "https://" not in html
    return json.loads((run_dir / "report.json").read_text())


@pytest.fixture(scope="module")
def gd_run(root):
    return _run_ok(["run", "icl-gd", "--root", str(root), *TINY_GD])


def test_icl_gd_run_headline(gd_run):
    report = _complete(gd_run)
    h = report["headline"]
    assert {"sensitivity_cosine_gd", "prediction_diff_gd", "n_seeds", "wall_seconds"} <= set(h)
    assert -1.0 <= h["sensitivity_cosine_gd"] <= 1.0 and h["prediction_diff_gd"] >= 0 and h["n_seeds"] == 2
    assert h["gd_step_size"] > 0
    assert len(report["interpolation"]["loss"]) == 2


@pytest.fixture(scope="module")
def regression_run(smoke_run):
    """The icl-regression smoke run (d = 2, 4 examples, one 8-wide layer, 20 steps); icl-gd above goes through
    the CLI, icl-diversity below reads its smoke run too."""
    return Path(smoke_run("icl-regression").path)


def test_icl_regression_run_headline(regression_run):
    report = _complete(regression_run)
    h = report["headline"]
    assert set(h["error_k_ge_d"]) == {"transformer", "least_squares", "ridge", "gd", "averaging", "knn3"}
    assert h["error_k_ge_d"]["least_squares"] < 1e-3  # noiseless, k ≥ d: exact
    assert h["n_seeds"] == 2 and h["wall_seconds"] > 0
    assert set(report["errors"]) == {"in_distribution", "scaled_inputs", "skewed_covariance", "label_noise",
                                     "orthant_context"}
    assert report["probe"]["layers"] == ["embed", "blocks.0"] and len(report["probe"]["r2_prediction"]) == 2


def test_icl_diversity_run_headline(smoke_run):
    report = _complete(Path(smoke_run("icl-diversity").path))  # d = 2, M in {1, 8}, 20 steps
    h = report["headline"]
    assert h["M"] == [1, 8] and h["n_seeds"] == 2
    for key in ("dist_ridge_seen", "dist_dmmse_seen", "dist_ridge_new", "dist_dmmse_new"):
        assert len(h[key]) == 2 and all(v >= 0 for v in h[key])
    assert "M_star" in h


@pytest.mark.parametrize("preset, args, needle", [
    ("icl-gd", ["--task.d", "0"], "d must be ≥ 1"),
    ("icl-gd", ["--task.input-dist", "cauchy"], "allowed"),
    ("icl-gd", ["--eval-prompts", "0"], "eval_prompts"),
    ("icl-regression", ["--task.n-context", "40", "--model.n-ctx", "32"], "context allows"),
    ("icl-regression", ["--learners", "least_squares", "oracle"], "unknown reference learner"),
    ("icl-regression", ["--model.token-format", "braided"], "unknown token format"),
    ("icl-regression", ["--ood-variants", "mars"], "unknown ood variant"),
    ("icl-diversity", ["--pool-sizes", "0", "4"], "M must be ≥ 1"),
    ("icl-diversity", ["--task.noise-std", "0"], "label noise"),
    ("icl-diversity", ["--task.pool-size", "0"], "pool_size"),
])
def test_bad_input_is_one_line_and_writes_nothing(preset, args, needle, tmp_path, capsys):
    line = _run_err(["run", preset, "--root", str(tmp_path), *args], capsys)
    assert needle in line
    assert not any(tmp_path.iterdir())


def test_stored_models_load_back_and_reproduce_the_report(gd_run):
    import jax
    import numpy as np

    from mesaopt.experiments.icl_gd.run import evaluate_seed
    from mesaopt.experiments import EXPERIMENTS

    load_icl_run = EXPERIMENTS["icl-gd"].load
    from mesaopt.models.lsa import gd_lsa
    from mesaopt.tasks.regression import sample_prompts

    cfg, trainer, params = load_icl_run(gd_run)
    report = json.loads((gd_run / "report.json").read_text())
    eta = report["headline"]["gd_step_size"]
    _, _, k_eval = jax.random.split(jax.random.key(cfg.seed), 3)
    prompts = sample_prompts(k_eval, cfg.task, cfg.eval_prompts)
    model = trainer.model(jax.tree_util.tree_map(lambda x: x[1], params))
    again = evaluate_seed(model, gd_lsa(cfg.task.d, eta), eta, prompts, cfg.task.d)
    np.testing.assert_allclose(again["sensitivity_cosine"],
                               report["measures"]["sensitivity_cosine"]["per_seed"][1], atol=1e-4)


def test_a_foreign_checkpoint_is_one_clear_error(gd_run, regression_run, tmp_path):
    import shutil

    from mesaopt.errors import CheckpointError, NotARunError
    from mesaopt.experiments import EXPERIMENTS

    load_icl_run = EXPERIMENTS["icl-gd"].load

    mixed = tmp_path / gd_run.name
    shutil.copytree(gd_run, mixed)
    for name in ("params.safetensors", "params.json"):
        shutil.copy(regression_run / "checkpoints" / name, mixed / "checkpoints" / name)
    with pytest.raises(CheckpointError) as err:
        load_icl_run(mixed)
    assert "\n" not in str(err.value) and "icl-regression" in str(err.value)
    with pytest.raises(NotARunError):
        load_icl_run(tmp_path)
