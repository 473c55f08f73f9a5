"""Test-session setup: JAX's persistent compilation cache, so reruns skip most compile time, and one smoke run per
registry entry shared by every test that needs a stored run of a preset."""

import os
from pathlib import Path

import jax
import pytest

_CACHE_DIR = os.environ.get("MESAOPT_JAX_CACHE") or str(Path(__file__).resolve().parents[1] / ".cache" / "jax-tests")
jax.config.update("jax_compilation_cache_dir", _CACHE_DIR)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``smoke_run(name) -> RunOutcome``: the preset's ``smoke_config`` run once per session (lazily). The page
    that gathers the ``conditions-*`` factors runs them first, so that each factor's outcome is its own fresh run
    (with its report) and the page reuses them, whichever test asks first."""
    root = tmp_path_factory.mktemp("smoke-runs")
    done = {}

    def run(name: str):
        from mesaopt.experiments import EXPERIMENTS
        from mesaopt.runs.driver import drive_run

        if name == "conditions" and name not in done:
            from mesaopt.experiments.conditions.config import FACTORS

            for factor in FACTORS:
                run(f"conditions-{factor}")
        if name not in done:
            experiment = EXPERIMENTS[name]
            done[name] = drive_run(experiment, experiment.smoke_config, root=root)
        return done[name]

    return run


@pytest.fixture
def bad_input(tmp_path, capsys):
    """``bad_input(preset, args, needle)``: ``mesaopt run preset args`` must fail with exit 2 and exactly one
    ``error:`` line containing ``needle``, and write nothing under its (fresh) ``--root``."""
    from mesaopt.cli import main

    def check(preset: str, args: list[str], needle: str) -> None:
        code = main(["run", preset, "--root", str(tmp_path), *args])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
        assert not any(tmp_path.iterdir())

    return check
