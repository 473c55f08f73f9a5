"""The shape of one experiment: an :class:`Experiment` record in ``EXPERIMENTS``. Its ``run`` function receives a
:class:`~mesaopt.runs.context.RunContext` (re-exported here)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mesaopt.runs.context import RunContext

__all__ = ["Experiment", "RunContext"]


@dataclass(frozen=True)
class Experiment:
    """Everything the shell, the run driver and the contract test need to know about one preset."""

    name: str
    """Preset name: used on the command line and in run directory names (``runs/<name>-<hash>``)."""
    summary: str
    """One line for ``mesaopt list`` and ``mesaopt run NAME --help``."""
    config: Any
    """The default config: a frozen dataclass with a docstring under every field."""
    run: Callable[[Any, RunContext], dict]
    """``run(cfg, ctx) -> report``: trains and evaluates into ``ctx.writer`` and returns the report dict (with a
    ``"headline"`` and ``"timings"`` holding ``wall_seconds``); the driver writes ``report.json``."""
    write_report: Callable[[Path, dict], Path]
    """``write_report(run_dir, report) -> path of report.html``; it reads nothing but the report."""
    summary_table: Callable[[dict], list[list[str]]]
    """``summary_table(report) -> rows`` (header first) for the end-of-run terminal table."""
    smoke_config: Any
    """A config that runs in seconds (tiny budgets): the contract test and smoke runs use it."""
    inspect: Callable | None = None
    """``inspect(run_dir, report, inspect_config, on_step) -> {condition: evidence card}`` (``mesaopt inspect``)."""
    load: Callable | None = None
    """``load(run_dir) -> (cfg, learner, params)``: the trained models of a stored run, back from its checkpoint."""
    settle: Callable[[Any], Any] | None = None
    """``settle(cfg) -> cfg``: fills in the settings ``cfg`` leaves to a rule (``maze-misgen``'s size rule) before a
    run is named, stored or reused, so a rule's value and the same value given by hand are one run; None: the
    config is used as given."""
