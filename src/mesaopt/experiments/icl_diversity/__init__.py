"""Experiments ``icl-diversity`` and ``icl-diversity-full``: the task-diversity transition of Raventós et al."""

from __future__ import annotations

import dataclasses

from mesaopt.experiments.icl_diversity.report import summary_table, write_icl_diversity_html
from mesaopt.experiments.icl_diversity.run import (
    IclDiversityConfig,
    checkpoint_metadata,
    full_study_config,
    make_trainer,
    run_icl_diversity,
)
from mesaopt.experiments.record import Experiment
from mesaopt.experiments.shared.icl import supervised_loader
from mesaopt.experiments.shared.transformer import TransformerConfig
from mesaopt.tasks.regression import RegressionTask


def _smoke(default: IclDiversityConfig) -> IclDiversityConfig:
    """``default`` at a budget of seconds: d = 2, M ∈ {1, 8}, a one-layer 8-wide model, 20 steps."""
    return dataclasses.replace(
        default, task=RegressionTask(d=2, n_context=4, noise_std=default.task.noise_std), pool_sizes=(1, 8),
        model=TransformerConfig(d_model=8, n_layers=1, n_heads=2),
        train=dataclasses.replace(default.train, steps=20, batch_size=16, warmup_steps=5),
        n_seeds=2, eval_prompts=64, n_chunks=2)


EXPERIMENT = Experiment(
    name="icl-diversity",
    summary="task diversity M vs memorizing (dMMSE) or learning in context (ridge); reports the threshold M*",
    config=IclDiversityConfig(),
    run=run_icl_diversity,
    write_report=write_icl_diversity_html,
    summary_table=summary_table,
    smoke_config=_smoke(IclDiversityConfig()),
    load=supervised_loader(IclDiversityConfig(), make_trainer, checkpoint_metadata),
)

FULL_EXPERIMENT = dataclasses.replace(
    EXPERIMENT,
    name="icl-diversity-full",
    summary="the full task-diversity threshold study (d = 8, 4 layers x 64, M = 2..2^15): hours on a CPU",
    config=full_study_config(),
    smoke_config=_smoke(full_study_config()),
    load=supervised_loader(full_study_config(), make_trainer, checkpoint_metadata),
)
