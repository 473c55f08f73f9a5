"""Experiment ``conditions-compression``: RLO §2's compression-versus-time condition. Program search (the base
optimizer) picks the cheapest maze program (description bits + a price per run-time step) that solves K training
mazes; does description length select a general algorithm, does a time price select a lookup, and which target
does a searcher hold when goal and corner coincide in training?"""

from __future__ import annotations

from mesaopt.experiments.conditions_compression.config import ConditionsCompressionConfig
from mesaopt.experiments.conditions_compression.report import summary_table, write_conditions_compression_html
from mesaopt.experiments.conditions_compression.run import run_conditions_compression
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = ConditionsCompressionConfig(side=5, ks=(1, 2, 4), lambdas=(0.0, 4.0, 16.0), n_seeds=3, n_test=50,
                                           route_state_budget=50_000, weight_decays=(), time_pressure=False)
"""Programs on side-5 mazes with three seeds (the learning test reads them); no gradient arm (its levels run through
``run_levels``, which the statefulness smoke run covers, and its losses have their own tests)."""

EXPERIMENT = Experiment(
    name="conditions-compression",
    summary="RLO conditions: description length vs run time, with program search over a maze language",
    config=ConditionsCompressionConfig(),
    run=run_conditions_compression,
    write_report=write_conditions_compression_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "SMOKE_CONFIG", "ConditionsCompressionConfig", "run_conditions_compression"]
