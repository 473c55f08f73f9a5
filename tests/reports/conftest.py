"""Fixtures for the report tests: ``tests/`` on ``sys.path`` (for ``browser_check``) and the smoke runs of every preset."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `from browser_check import ...` must work whatever pytest's import mode (importlib mode adds no test dirs to
# sys.path). Keep this if the fixture below moves elsewhere.
_TESTS_DIR = str(Path(__file__).resolve().parents[1])
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)


@pytest.fixture(scope="session")
def tiny_reports(smoke_run) -> dict[str, Path]:
    """Preset name -> directory of its smoke run (holding ``report.html``), for every registered preset (the same
    runs the experiment contract test checks: see ``tests/conftest.py``)."""
    from mesaopt.experiments import EXPERIMENTS

    return {preset: Path(smoke_run(preset).path) for preset in EXPERIMENTS}
