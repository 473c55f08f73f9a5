"""A killed run resumes from its last chunk checkpoint and ends with the numbers of an uninterrupted run."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from contextlib import redirect_stdout
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.cli import main
from mesaopt.optimizers.chunks import train_in_chunks
from mesaopt.optimizers.contract import FunctionalOptimizer
from mesaopt.runs.resume import ChunkCheckpoints

N_STEPS, N_CHUNKS = 20, 10


class ToyMetrics(NamedTuple):
    loss: jax.Array


def _toy_step(state, target):
    key, k_noise = jax.random.split(state["key"])
    w = state["w"] - 0.2 * (state["w"] - target) + 0.05 * jax.random.normal(k_noise, (3,))
    return {"w": w, "key": key}, ToyMetrics(loss=jnp.sum((w - target) ** 2))


TOY = FunctionalOptimizer(lambda key, target: {"w": jnp.zeros(3), "key": key}, _toy_step, N_STEPS, ("loss",))


class Killed(Exception):
    """Stands in for a kill after a given chunk."""


def _train(store=None, stop_after=None):
    keys = jax.random.split(jax.random.key(0), 3)
    targets = jnp.arange(9.0).reshape(3, 3)

    def on_chunk(done, total, metrics):
        if done == stop_after:
            raise Killed

    return train_in_chunks(TOY, keys, targets, N_CHUNKS, on_chunk=on_chunk, store=store)


def test_training_resumes_after_the_last_checkpoint_with_identical_numbers(tmp_path):
    state, metrics, timings = _train()
    assert timings["resumed_from_chunk"] == 0
    with pytest.raises(Killed):
        _train(ChunkCheckpoints(tmp_path), stop_after=3)
    store = ChunkCheckpoints(tmp_path)
    assert [d.name for d in store.complete_dirs()] == ["chunk-000003"]  # older checkpoints are dropped
    resumed_state, resumed_metrics, resumed_timings = _train(store)
    assert store.resumed_from == 3 and resumed_timings["resumed_from_chunk"] == 3
    np.testing.assert_array_equal(resumed_metrics["loss"], metrics["loss"])
    np.testing.assert_array_equal(resumed_state["w"], state["w"])


def test_a_checkpoint_of_another_layout_or_a_damaged_one_is_not_resumed(tmp_path):
    with pytest.raises(Killed):
        _train(ChunkCheckpoints(tmp_path), stop_after=2)
    like = {"w": jax.ShapeDtypeStruct((3, 3), jnp.float32), "key": jax.eval_shape(lambda: jax.random.split(
        jax.random.key(0), 3))}
    store = ChunkCheckpoints(tmp_path)
    layout = {"n_runs": 3, "padded_runs": 4, "steps_per_chunk": 2, "n_chunks": N_CHUNKS}
    assert store.load(like, {**layout, "n_chunks": 5}) is None
    newest = store.complete_dirs()[0]
    (newest / "state.safetensors").write_bytes(b"garbage")
    assert store.load(like, layout) is None and store.resumed_from == 0


def test_unusable_checkpoints_never_evict_new_ones(tmp_path):
    with pytest.raises(Killed):
        _train(ChunkCheckpoints(tmp_path), stop_after=7)
    other_code = ChunkCheckpoints(tmp_path)
    other_code.code = "000000000000"  # as if another version of mesaopt had written chunk 7
    with pytest.raises(Killed):
        _train(other_code, stop_after=2)
    assert other_code.resumed_from == 0  # chunk 7 of other code was not resumed...
    assert [d.name for d in other_code.complete_dirs()] == ["chunk-000002"]  # ...and did not evict chunk 2


SMOKE_GD = ["--task.d", "3", "--task.n-context", "6", "--train.steps", "60", "--train.batch-size", "64",
            "--n-seeds", "2", "--eval-prompts", "128", "--n-chunks", "10"]
KILL_AFTER_THIRD_CHUNK = """
import os, signal, sys
from mesaopt.runs import resume
save = resume.ChunkCheckpoints.save
def save_then_die(self, done, *args):
    save(self, done, *args)
    if done == 3:
        os.kill(os.getpid(), signal.SIGKILL)
resume.ChunkCheckpoints.save = save_then_die
from mesaopt.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _run(argv, capsys) -> tuple[Path, str]:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(argv) == 0
    return Path(out.getvalue().strip().splitlines()[-1]), capsys.readouterr().err


def test_a_run_killed_after_its_third_chunk_resumes_from_it(tmp_path, capsys):
    root = tmp_path / "runs"
    env = dict(os.environ)  # with the suite's compile cache (conftest sets MESAOPT_JAX_CACHE)
    killed = subprocess.run([sys.executable, "-c", KILL_AFTER_THIRD_CHUNK, "run", "icl-gd", "--root", str(root),
                             *SMOKE_GD], env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-2000:]
    assert not list(root.glob("icl-gd-*")) and list((root / ".partial").glob("icl-gd-*/resume"))
    resumed, err = _run(["run", "icl-gd", "--root", str(root), *SMOKE_GD], capsys)
    assert "resumed from chunk 3 of 10" in err
    fresh, _ = _run(["run", "icl-gd", "--root", str(tmp_path / "fresh"), *SMOKE_GD], capsys)
    headline = {k: v for k, v in json.loads((resumed / "report.json").read_text())["headline"].items()
                if k != "wall_seconds"}
    assert headline == {k: v for k, v in json.loads((fresh / "report.json").read_text())["headline"].items()
                        if k != "wall_seconds"}
    assert not list((root / ".partial").iterdir())  # nothing left behind once the run completed


def _interrupt_after_first_chunk(root):
    from mesaopt.experiments import EXPERIMENTS
    from mesaopt.runs.config_cli import parse_config
    from mesaopt.runs.driver import RunHooks, drive_run

    experiment = EXPERIMENTS["icl-gd"]
    cfg = parse_config(experiment.config, SMOKE_GD, prog="test")

    def stop(done, total, metrics):
        raise Killed

    with pytest.raises(Killed):
        drive_run(experiment, cfg, root=root, hooks=RunHooks(on_chunk=stop))


def test_an_interrupted_run_keeps_its_checkpoints_and_force_starts_clean(tmp_path, capsys):
    from mesaopt.runs.partial import clean_partial

    root = tmp_path / "runs"
    _interrupt_after_first_chunk(root)
    (partial,) = (root / ".partial").glob("icl-gd-*/resume")
    assert clean_partial(root) == [] and partial.is_dir()  # resumable work survives the next run's clean-up
    run_dir, err = _run(["run", "icl-gd", "--root", str(root), *SMOKE_GD, "--force"], capsys)
    assert "resumed" not in err and (run_dir / "COMPLETE").is_file()
