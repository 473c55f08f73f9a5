"""Experiment ``conditions-compression``: RLO §2's compression-versus-time condition. Program search (the base
optimizer) picks the cheapest maze program (description bits + a price per run-time step) that solves K training
mazes; does description length select a general algorithm, does a time price select a lookup, and which target
does a searcher hold when goal and corner coincide in training?"""

from __future__ import annotations

from mesaopt.experiments.conditions_compression.config import ConditionsCompressionConfig
from mesaopt.experiments.conditions_compression.report import summary_table, write_conditions_compression_html
from mesaopt.experiments.conditions_compression.run import run_conditions_compression
from mesaopt.experiments.record import Experiment
from mesaopt.experiments.shared.thinker_conditions import ThinkerSetup

SMOKE_CONFIG = ConditionsCompressionConfig(
    side=5, ks=(1, 2, 4), lambdas=(0.0, 4.0, 16.0), n_seeds=3, n_test=50, route_state_budget=50_000,
    weight_decays=(), time_pressure=True, gd_seeds=2,
    setup=ThinkerSetup(side=5, extrapolation_side=7, width=4, train_iterations=4, gradient_window=2,
                       test_iterations=(2, 4, 8), steps=20, batch_size=8, eval_mazes=16, n_chunks=1))
"""Programs on side-5 mazes with three seeds (the learning test reads them), and the gradient arm's time level at a
toy size (it runs end to end; learning is not asserted from 20 steps)."""

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
