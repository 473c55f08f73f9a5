"""An experiment's ``settle`` rule fills a config before the run is named: a rule's value and the same value given
by hand are one stored run (a planted toy experiment, no training)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from mesaopt.experiments.record import Experiment
from mesaopt.runs.driver import drive_run


@dataclasses.dataclass(frozen=True)
class ToyConfig:
    """A config with one setting left to a rule."""

    side: int = 3
    """The size the rule reads."""
    budget: int = 0
    """0: by the rule (ten per unit of side)."""

    def validate(self) -> None:
        if self.side < 1 or self.budget < 0:
            raise ValueError("side must be >= 1 and budget >= 0")


def _settle(cfg: ToyConfig) -> ToyConfig:
    return dataclasses.replace(cfg, budget=cfg.budget or 10 * cfg.side)


def _run(cfg: ToyConfig, ctx) -> dict:
    assert cfg.budget > 0, "the run must only ever see a settled config"
    return {"headline": {"budget": cfg.budget}, "timings": {"wall_seconds": 0.0}}


def _page(run_dir: Path, report: dict) -> Path:
    page = Path(run_dir) / "report.html"
    page.write_text("<html></html>")
    return page


def _toy(settle) -> Experiment:
    return Experiment(name="toy-settle", summary="planted", config=ToyConfig(), run=_run, write_report=_page,
                      summary_table=lambda report: [["budget"], [str(report["headline"]["budget"])]],
                      smoke_config=ToyConfig(), settle=settle)


def test_a_rule_value_and_the_same_value_by_hand_are_one_stored_run(tmp_path):
    first = drive_run(_toy(_settle), ToyConfig(side=4), root=tmp_path)
    assert json.loads((first.path / "config.json").read_text())["budget"] == 40  # stored settled
    again = drive_run(_toy(_settle), ToyConfig(side=4, budget=40), root=tmp_path)
    assert again.reused and again.path == first.path
    other = drive_run(_toy(_settle), ToyConfig(side=4, budget=41), root=tmp_path)
    assert not other.reused and other.path != first.path


def test_without_a_rule_the_config_is_stored_as_given(tmp_path):
    plain = dataclasses.replace(_toy(None), run=lambda cfg, ctx: {"headline": {"budget": cfg.budget},
                                                                    "timings": {"wall_seconds": 0.0}})
    outcome = drive_run(plain, ToyConfig(side=4), root=tmp_path)
    assert json.loads((outcome.path / "config.json").read_text())["budget"] == 0
