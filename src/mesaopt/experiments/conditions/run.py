"""Run ``conditions``: every chosen factor through the run driver (a stored run of the same config is reused), then
the comparisons of :mod:`.directions` on their headlines."""

from __future__ import annotations

import dataclasses
import json
import time

from mesaopt.experiments import (conditions_compression, conditions_diversity, conditions_hardcoded,
                                 conditions_imitation, conditions_statefulness)
from mesaopt.experiments.conditions.config import ConditionsConfig
from mesaopt.experiments.conditions.directions import COMPARISONS, PREDICTIONS
from mesaopt.runs.driver import RunHooks, drive_run
from mesaopt.runs.store import REPORT_FILE

RECORDS = {"diversity": conditions_diversity.EXPERIMENT, "statefulness": conditions_statefulness.EXPERIMENT,
           "compression": conditions_compression.EXPERIMENT, "hardcoded": conditions_hardcoded.EXPERIMENT,
           "imitation": conditions_imitation.EXPERIMENT}
"""Each factor's experiment record."""


def factor_config(factor: str, scale: str):
    """The config ``factor`` runs with at ``scale``."""
    record = RECORDS[factor]
    if scale == "smoke":
        return record.smoke_config
    return dataclasses.replace(record.config, full=True) if scale == "full" else record.config


def run_factor(factor: str, scale: str, ctx) -> tuple[dict, str, bool]:
    """``(report, run directory name, reused)`` of one factor, run or reused under the page's own root."""
    ctx.phase(f"conditions-{factor}: running, or reusing a stored run of the same config")
    outcome = drive_run(RECORDS[factor], factor_config(factor, scale), root=ctx.writer.root,
                        hooks=RunHooks(on_chunk=ctx.on_chunk, on_phase=ctx.on_phase))
    report = outcome.report or json.loads((outcome.path / REPORT_FILE).read_text())
    return report, outcome.path.name, outcome.reused


def run_conditions(cfg: ConditionsConfig, ctx) -> dict:
    """Run or reuse each factor; the page's headline holds every comparison and each factor's headline."""
    started = time.perf_counter()
    cfg.validate()
    factors, comparisons = {}, []
    for factor in cfg.factors:
        report, name, reused = run_factor(factor, cfg.scale, ctx)
        factors[factor] = {"run": name, "reused": reused, "prediction": PREDICTIONS[factor],
                           "headline": report["headline"]}
        comparisons += COMPARISONS[factor](report["headline"])
    verdicts = [c["verdict"] for c in comparisons]
    wall = time.perf_counter() - started
    head = {"factors": list(cfg.factors), "runs": {f: factors[f]["run"] for f in cfg.factors},
            "comparisons": comparisons, **{v: verdicts.count(v) for v in ("held", "contradicted", "unclear")},
            "wall_seconds": round(wall, 2)}
    return {"preset": "conditions", "headline": head, "factors": factors,
            "timings": {"wall_seconds": round(wall, 2)}, "config": dataclasses.asdict(cfg)}
