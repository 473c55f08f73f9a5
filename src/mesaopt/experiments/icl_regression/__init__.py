"""Experiment ``icl-regression``: a small transformer learns linear regression in context (Garg et al. 2022)."""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.icl_regression.report import summary_table, write_icl_regression_html
from mesaopt.experiments.icl_regression.run import (
    IclRegressionConfig,
    checkpoint_metadata,
    make_trainer,
    run_icl_regression,
)
from mesaopt.experiments.record import Experiment
from mesaopt.experiments.shared.icl import supervised_loader
from mesaopt.experiments.shared.transformer import TransformerConfig
from mesaopt.tasks.regression import RegressionTask

SMOKE_CONFIG = IclRegressionConfig(
    task=RegressionTask(d=2, n_context=4), model=TransformerConfig(d_model=8, n_layers=1, n_heads=2),
    train=dataclasses.replace(IclRegressionConfig().train, steps=20, batch_size=16),
    n_seeds=2, eval_prompts=64, n_chunks=2)
"""Two one-layer, 8-wide transformers, d = 2, 20 steps: seconds."""


EXPERIMENT = Experiment(
    name="icl-regression",
    summary="a small transformer learns regression in context: error vs k against reference learners, OOD",
    config=IclRegressionConfig(),
    run=run_icl_regression,
    write_report=write_icl_regression_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    load=supervised_loader(IclRegressionConfig(), make_trainer, checkpoint_metadata),
)
