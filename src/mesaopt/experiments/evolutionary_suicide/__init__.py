"""Experiment ``evolutionary-suicide``: sexual selection on a costly ornament drives populations extinct when others
pay the cost and fecundity is low (the Irish elk; Kokko & Brooks 2003)."""

from __future__ import annotations

from mesaopt.experiments.evolutionary_suicide.config import TREATMENTS, EvolutionarySuicideConfig
from mesaopt.experiments.evolutionary_suicide.report import summary_table, write_evolutionary_suicide_html
from mesaopt.experiments.evolutionary_suicide.run import run_evolutionary_suicide
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = EvolutionarySuicideConfig(fecundities=(5.0, 80.0), populations=3, generations=8, carrying_capacity=20.0,
                                         capacity=48, founders=10, n_chunks=2)
"""Three populations per cell, 8 generations of at most 48 adults: seconds."""

EXPERIMENT = Experiment(
    name="evolutionary-suicide",
    summary="evolution as base optimizer: a sexually selected ornament that harms others drives populations extinct",
    config=EvolutionarySuicideConfig(),
    run=run_evolutionary_suicide,
    write_report=write_evolutionary_suicide_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "SMOKE_CONFIG", "TREATMENTS", "EvolutionarySuicideConfig", "run_evolutionary_suicide"]
