"""Experiment ``icl-gd``: a linear self-attention layer trained on in-context regression vs one step of GD."""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.icl_gd.report import summary_table, write_icl_gd_html
from mesaopt.experiments.icl_gd.run import IclGdConfig, checkpoint_metadata, make_trainer, run_icl_gd
from mesaopt.experiments.record import Experiment
from mesaopt.experiments.shared.icl import supervised_loader
from mesaopt.tasks.regression import RegressionTask

SMOKE_CONFIG = IclGdConfig(
    task=RegressionTask(d=3, n_context=6, input_dist="uniform"),
    train=dataclasses.replace(IclGdConfig().train, steps=60, batch_size=64),
    n_seeds=2, eval_prompts=128, n_chunks=2)
"""Two layers, d = 3, 60 steps: seconds."""


EXPERIMENT = Experiment(
    name="icl-gd",
    summary="a linear self-attention layer trained on in-context regression vs one step of gradient descent",
    config=IclGdConfig(),
    run=run_icl_gd,
    write_report=write_icl_gd_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
    load=supervised_loader(IclGdConfig(), make_trainer, checkpoint_metadata),
)
