"""One smoke run per registry entry, shared by every test of the session that needs a stored run of a preset."""

from __future__ import annotations

import pytest

from mesaopt.experiments import EXPERIMENTS
from mesaopt.runs.driver import drive_run


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``smoke_run(name) -> RunOutcome``: the preset's ``smoke_config`` run once per session (lazily)."""
    root = tmp_path_factory.mktemp("smoke-runs")
    done = {}

    def run(name: str):
        if name not in done:
            experiment = EXPERIMENTS[name]
            done[name] = drive_run(experiment, experiment.smoke_config, root=root)
        return done[name]

    return run
