"""Pieces the evolution presets with a boundedness knob share (``evolved-reward``, ``optimal-reward``): the common
part of their config check and the plot of their searches' progress."""

from __future__ import annotations

import numpy as np

from mesaopt.errors import MesaoptError
from mesaopt.experiments.shared.icl import check_positive
from mesaopt.reports.icl_plots import plot_curves
from mesaopt.reports.plots import figure_png_bytes


def validate_knob_run(cfg, knobs: tuple[str, ...]) -> None:
    """One-line ``MesaoptError`` for the fields both presets have: ``knob`` among ``knobs``, increasing
    ``levels``, the ``task``, ``learner`` and ``evolution`` sub-configs, and the positive counts."""
    if cfg.knob not in knobs:
        raise MesaoptError(f"knob must be one of {', '.join(knobs)}, got {cfg.knob!r}")
    if not cfg.levels or list(cfg.levels) != sorted(set(cfg.levels)):
        raise MesaoptError(f"levels must be strictly increasing, got {tuple(cfg.levels)}")
    cfg.task.validate()
    cfg.learner.validate()
    cfg.evolution.validate()
    check_positive(lifetimes_per_evaluation=cfg.lifetimes_per_evaluation, eval_lifetimes=cfg.eval_lifetimes,
                   n_seeds=cfg.n_seeds, n_chunks=cfg.n_chunks)


def best_so_far_png(report: dict, curves_key: str, ylabel: str, title: str) -> bytes:
    """The fittest genome so far per generation, mean over each level's runs, one line per level."""
    curves, h = report[curves_key], report["headline"]
    best = np.asarray(curves["best_fitness_so_far"], float).reshape(len(h["levels"]), h["n_seeds"], -1).mean(axis=1)
    series = {f"{h['knob']} = {v:g}": best[i] for i, v in enumerate(h["levels"])}
    fig = plot_curves(curves["generation"], series, xlabel="generation", ylabel=ylabel, title=title)
    return figure_png_bytes(fig)
