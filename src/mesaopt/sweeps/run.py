"""``mesaopt sweep``: plan the grid, reuse what the store holds, run the rest, keep ``sweep.json`` and the report.

Idempotent: a task whose run is already complete in the store is not run again (running the same sweep twice
runs nothing the second time), and a partial run a killed worker or driver left is resumed by the run driver.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mesaopt._xla_flags import usable_cores
from mesaopt.errors import MesaoptError
from mesaopt.experiments import EXPERIMENTS
from mesaopt.runs.config_cli import parse_config
from mesaopt.runs.driver import prepare_root
from mesaopt.runs.store import find_complete_run, load_run
from mesaopt.sweeps import backends
from mesaopt.sweeps.aggregate import point_headline
from mesaopt.sweeps.grid import SweepPoint, parse_grid, plan_sweep
from mesaopt.sweeps.ledger import SweepLedger, attempts_file, lock_sweep, sweep_dir, unlock_sweep
from mesaopt.sweeps.report import write_sweep_report

BACKENDS = ("auto", "ray", "in-process")


@dataclass(frozen=True)
class SweepRequest:
    """What ``mesaopt sweep`` was asked to do."""

    preset: str
    """The preset every point runs."""
    grid: tuple[str, ...] = ()
    """``FIELD=V1,V2,...`` axes; the points are every combination."""
    overrides: tuple[str, ...] = ()
    """``--field value`` overrides applied to every point before its grid values."""
    root: Path = Path("runs")
    """The run store (shared with ``mesaopt run``; on a cluster, a filesystem every worker sees)."""
    seeds_per_task: int = 0
    """Split each point's seeds into Ray tasks of at most this many (0: a point is one task)."""
    address: str | None = None
    """A Ray cluster to join (``auto``, ``host:port``, ``ray://host:port``); None starts a local instance."""
    workers: int | None = None
    """CPUs of the local Ray instance (None: the usable cores)."""
    retries: int = 3
    """Ray task retries after a worker dies."""
    backend: str = "auto"
    """``auto`` (Ray if installed, else in-process), ``ray`` or ``in-process``."""


@dataclass
class SweepHooks:
    """How the sweep reports progress (the shell fills them in)."""

    on_plan: Callable[[int, int, int, str], None] | None = None
    """``on_plan(points, tasks, tasks_reused, backend)`` once the grid is planned."""
    on_task: Callable[[str, str, int, int], None] | None = None
    """``on_task(run, status, tasks_done, tasks_to_run)`` as each task finishes."""


@dataclass
class SweepOutcome:
    """What the sweep did."""

    directory: Path
    """The sweep's directory (``sweep.json``, ``report.html``)."""
    sweep: dict
    """``sweep.json``'s data."""
    ran: list[str] = field(default_factory=list)
    """Runs this call trained (the rest were reused)."""


def choose_backend(request: SweepRequest) -> str:
    """``ray`` or ``in-process``; one line if Ray is asked for and not installed, or a setting does not apply."""
    if request.backend not in BACKENDS:
        raise MesaoptError(f"--backend {request.backend!r} is not one of {', '.join(BACKENDS)}")
    if request.retries < 0 or (request.workers is not None and request.workers < 1):
        raise MesaoptError("--retries must be 0 or more and --workers 1 or more")
    wants_ray = request.backend == "ray" or request.address is not None
    if wants_ray and request.backend == "in-process":
        raise MesaoptError("--address needs --backend ray or auto (in-process runs on this machine only)")
    if request.workers is not None and request.address is not None:
        raise MesaoptError("--workers sizes the local Ray instance; a cluster at --address has its own workers")
    if wants_ray and not backends.ray_installed():
        raise MesaoptError("Ray is not installed: pip install 'mesaopt[ray]' (or run without --address / --backend "
                           "ray, one point after another in this process)")
    if request.backend == "auto":
        return "ray" if backends.ray_installed() else "in-process"
    return request.backend


def _plan(request: SweepRequest):
    if request.preset not in EXPERIMENTS:
        raise MesaoptError(f"unknown preset {request.preset!r}; allowed: {sorted(EXPERIMENTS)}")
    experiment = EXPERIMENTS[request.preset]
    base = parse_config(experiment.config, list(request.overrides), prog=f"mesaopt sweep {request.preset}")
    axes = parse_grid(list(request.grid))
    return experiment, axes, plan_sweep(experiment, axes, base, request.seeds_per_task)


def _unique_tasks(points: list[SweepPoint]) -> dict:
    return {t.run: t for p in points for t in p.tasks}


def _reuse_stored(ledger: SweepLedger, experiment, tasks: dict, root: Path) -> list[str]:
    """Mark every task whose run the store already holds complete; return the runs still to run."""
    todo = []
    for run, task in tasks.items():
        path = find_complete_run(root, experiment.name, {"preset": experiment.name, **task.config})
        if path is None:
            todo.append(run)
            continue
        meta = load_run(path)["run"]
        ledger.mark(run, "complete", path=str(path), headline=meta.get("headline") or {},
                    wall_seconds=meta.get("wall_seconds"))
    return todo


def _header(request: SweepRequest, axes, backend: str) -> dict:
    return {"preset": request.preset, "grid": {a.field: list(a.values) for a in axes},
            "overrides": list(request.overrides), "seeds_per_task": request.seeds_per_task,
            "root": str(Path(request.root).resolve()),
            "backend": backend if backend == "in-process" else f"ray ({request.address or 'local instance'})"}


def run_sweep(request: SweepRequest, hooks: SweepHooks | None = None) -> SweepOutcome:
    """Run (or continue) a sweep; see the module docstring. Nothing is written before the whole grid checks out."""
    hooks = hooks or SweepHooks()
    experiment, axes, points = _plan(request)
    backend = choose_backend(request)
    root = prepare_root(request.root)
    directory = sweep_dir(root, experiment.name, axes, points)
    lock = lock_sweep(directory)
    try:
        ledger = SweepLedger(directory, _header(request, axes, backend), points)
        tasks = _unique_tasks(points)
        todo = _reuse_stored(ledger, experiment, tasks, root)
        if hooks.on_plan:
            hooks.on_plan(len(points), len(tasks), len(tasks) - len(todo), backend)
        _finish(ledger)
        specs = [{"preset": experiment.name, "config": tasks[run].config, "run": run, "root": str(root.resolve()),
                  "attempts_file": str(attempts_file(directory, run).resolve())} for run in todo]
        _dispatch(request, backend, specs, ledger, hooks)
        sweep = _finish(ledger)
    finally:
        unlock_sweep(lock)
    return SweepOutcome(directory=directory, sweep=sweep, ran=todo)


def _finish(ledger: SweepLedger) -> dict:
    ledger.finish_points(point_headline)
    ledger.save()
    sweep = ledger.as_json()
    write_sweep_report(ledger.directory, sweep)
    return sweep


def _dispatch(request: SweepRequest, backend: str, specs: list[dict], ledger: SweepLedger, hooks) -> None:
    done = []

    def on_submit(run: str) -> None:
        ledger.mark(run, "submitted")

    def on_result(run: str, result: dict | None, error: str | None) -> None:
        if result is not None:
            ledger.mark(run, "complete", path=result["path"], headline=result["headline"],
                        wall_seconds=result["wall_seconds"], error=None)
        else:
            ledger.mark(run, "failed", error=error)
        done.append(run)
        ledger.finish_points(point_headline)
        ledger.save()
        if hooks.on_task:
            hooks.on_task(run, "complete" if result is not None else f"failed: {error}", len(done), len(specs))

    if not specs:
        return
    ledger.save()
    if backend == "in-process":
        backends.run_in_process(specs, on_submit, on_result)
        return
    settings = backends.RaySettings(address=request.address, workers=request.workers or usable_cores(),
                                    cpus_per_task=1, retries=request.retries,
                                    cache_dir=os.environ.get("MESAOPT_JAX_CACHE"))
    backends.run_on_ray(specs, settings, on_submit, on_result)


def sweep_summary(sweep: dict) -> dict:
    """The counts a caller prints: points per status, attempts over all tasks."""
    attempts = sum(t["attempts"] for p in sweep["points"] for t in p["tasks"])
    return {**sweep["points_by_status"], "attempts": attempts, "points": len(sweep["points"])}


__all__ = ["BACKENDS", "SweepHooks", "SweepOutcome", "SweepRequest", "choose_backend", "run_sweep",
           "sweep_summary"]
