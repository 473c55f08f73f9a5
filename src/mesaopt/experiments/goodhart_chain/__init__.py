"""Experiment ``goodhart-chain``: k levels of proxies, each a noisy proxy of the level above; best-of-n and its RL
analogue on the deepest; Gaussian errors against the closed form, heavy-tailed errors where pressure backfires."""

from __future__ import annotations

from mesaopt.experiments.goodhart_chain.config import FAMILIES, GoodhartChainConfig
from mesaopt.experiments.goodhart_chain.report import summary_table, write_goodhart_chain_html
from mesaopt.experiments.goodhart_chain.run import run_goodhart_chain
from mesaopt.experiments.record import Experiment

SMOKE_CONFIG = GoodhartChainConfig(depths=(1, 2), bits=(0, 2, 4, 6, 8, 10), betas=(0.0, 1.0), n_trials=2000,
                                   trials_per_block=500)
"""2,000 trials of 1,024 candidates, two depths: a few seconds, enough to tell the closed form and the heavy-tailed
turn-down apart from noise (the learning test reads this run)."""

EXPERIMENT = Experiment(
    name="goodhart-chain",
    summary="nested optimizers: best-of-n on a proxy of a proxy; Gaussian closed form vs heavy-tailed errors",
    config=GoodhartChainConfig(),
    run=run_goodhart_chain,
    write_report=write_goodhart_chain_html,
    summary_table=summary_table,
    smoke_config=SMOKE_CONFIG,
)

__all__ = ["EXPERIMENT", "FAMILIES", "SMOKE_CONFIG", "GoodhartChainConfig", "run_goodhart_chain"]
