"""Test-session setup: JAX's persistent compilation cache, so reruns skip most compile time, and one smoke run per
registry entry shared by every test that needs a stored run of a preset."""

import os
from pathlib import Path

TEST_XLA_FLAG = "--xla_backend_optimization_level=0"
"""The suite is compile-bound: most tests run a program once on tiny inputs, so LLVM's optimizations cost more
than they save. Without them, four learning-test files took 59 s instead of 87 s from a cold cache (2 cores,
2026-12-06). Only the generated machine code changes, not the program (XLA's fusions and layouts are decided
before); the suite passed both ways. Set ``MESAOPT_TEST_XLA_OPT=1`` to test with the optimizations users get."""
_flags = os.environ.get("XLA_FLAGS", "")
if not os.environ.get("MESAOPT_TEST_XLA_OPT") and "xla_backend_optimization_level" not in _flags:
    os.environ["XLA_FLAGS"] = f"{_flags} {TEST_XLA_FLAG}".strip()

import jax  # noqa: E402  (after the flags: XLA reads them when its backend starts)
import pytest  # noqa: E402

_CACHE_DIR = os.environ.get("MESAOPT_JAX_CACHE") or str(Path(__file__).resolve().parents[1] / ".cache" / "jax-tests")
os.environ["MESAOPT_JAX_CACHE"] = _CACHE_DIR  # runs the tests start through the CLI share it (not ~/.cache)
jax.config.update("jax_compilation_cache_dir", _CACHE_DIR)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


SMOKE_WAIT_S = 900
"""How long a test process waits for a smoke run that the other test process is making."""


def _smoke_root(tmp_path_factory) -> Path:
    """One store for every test process of this session (pytest-xdist workers share their basetemp's parent), so
    a smoke run is made once per suite, not once per process; without xdist, a fresh directory."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = tmp_path_factory.getbasetemp().parent / "smoke-runs"
        root.mkdir(exist_ok=True)
        return root
    return tmp_path_factory.mktemp("smoke-runs")


def _drive_or_wait(experiment, cfg, root: Path):
    """``drive_run``; while another test process holds this config's run lock, wait and then reuse its run."""
    import time

    from mesaopt.errors import RunLockedError
    from mesaopt.runs.driver import drive_run

    deadline = time.monotonic() + SMOKE_WAIT_S
    while True:
        try:
            return drive_run(experiment, cfg, root=root)
        except RunLockedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``smoke_run(name) -> RunOutcome``: the preset's ``smoke_config`` run once per suite (lazily; a run another
    test process made is reused, ``outcome.reused``). Tests that change a run's files work on a copy. The page
    that gathers the ``conditions-*`` factors runs them first, so that each factor's outcome is its own run in
    this store (with its report) and the page reuses them, whichever test asks first."""
    root = _smoke_root(tmp_path_factory)
    done = {}

    def run(name: str):
        from mesaopt.experiments import EXPERIMENTS

        if name == "conditions" and name not in done:
            from mesaopt.experiments.conditions.config import FACTORS

            for factor in FACTORS:
                run(f"conditions-{factor}")
        if name not in done:
            experiment = EXPERIMENTS[name]
            done[name] = _drive_or_wait(experiment, experiment.smoke_config, root)
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
