"""The CLI's impure shell: progress bars, run storage, reports and terminal tables."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from mesaopt.errors import MesaoptError
from mesaopt.runs.compile_cache import enable_compile_cache

console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console, transient=False)


def _timing_line(t: dict) -> str:
    if "compile_seconds" not in t:  # a simulation with no training phase
        return f"total {t['wall_seconds']:.1f} s"
    rate = (f"{t['env_steps_per_second']:,} env steps/s" if "env_steps_per_second" in t
            else f"{t.get('train_steps_per_second', 0):,} train steps/s")
    return (f"compile {t['compile_seconds']:.1f} s · train {t['train_seconds']:.1f} s · {rate} · "
            f"total {t['wall_seconds']:.1f} s")


def _table(title: str, rows: list[list[str]]) -> Table:
    """A rich table from rows of strings (header first), columns right-aligned."""
    table = Table(title=title)
    for col in rows[0]:
        table.add_column(col, justify="right")
    for row in rows[1:]:
        table.add_row(*row)
    return table


def _print_summary(experiment, report: dict, run_dir: Path) -> None:
    rows = experiment.summary_table(report)
    console.print(_table(f"{experiment.name} — {_sample_size(report['headline'])}", rows))
    console.print(_timing_line(report["timings"]))
    console.print(f"report: {run_dir / 'report.html'}")


def _sample_size(headline: dict) -> str:
    """What the summary table's intervals are over: seeds, or runs (e.g. populations) per cell; a page that gathers
    other runs (``conditions``) has each row's own."""
    if "n_seeds" in headline:
        return f"mean [95 % CI] over {headline['n_seeds']} seeds"
    if "n_trials" in headline:
        return f"mean [95 % CI] over {headline['n_trials']:,} trials per point"
    if "n_runs" in headline:
        return f"[95 % CI] over {headline['n_runs']} runs per cell"
    return "mean [95 % CI] of each row's own run"


def _chunk_metric(metrics: dict) -> str:
    """The one number a plain progress line shows: training success (RL), loss (supervised), best fitness
    (evolution strategies) or the share of populations still alive (population models)."""
    if "success_rate" in metrics:
        return f"training success {float(np.nanmean(metrics['success_rate'][:, -1])):.2f}"
    if "loss" in metrics:
        return f"training loss {float(np.nanmean(metrics['loss'][:, -1])):.4f}"
    if "best_fitness" in metrics:
        return f"best fitness {float(np.nanmean(metrics['best_fitness'][:, -1])):.4g}"
    if "population" in metrics:
        return f"populations alive {float(np.mean(metrics['population'][:, -1] > 0)):.2f}"
    return "chunk done"


def _drive_with_progress(experiment, cfg, root: Path, force: bool):
    from mesaopt.runs.driver import RunHooks, drive_run

    with _progress() as progress:
        task = progress.add_task("compiling", total=None)
        started = time.perf_counter()

        def on_chunk(done, total, metrics):
            progress.update(task, description="training", completed=done, total=total)
            if not console.is_terminal:  # logs and pipes get one plain line per chunk
                console.print(f"chunk {done}/{total} · {time.perf_counter() - started:.0f} s · "
                              f"{_chunk_metric(metrics)}")

        def on_resume(done, total, partial_dir):
            progress.update(task, completed=done, total=total)
            console.print(f"resumed from chunk {done} of {total} (a killed run of this config left it in "
                          f"{partial_dir}; --force starts clean)", soft_wrap=True)

        def on_phase(name):
            progress.update(task, description=name)

        try:
            outcome = drive_run(experiment, cfg, root=root, force=force,
                                hooks=RunHooks(on_chunk=on_chunk, on_phase=on_phase, on_resume=on_resume))
        except BaseException:
            progress.live.transient = True  # the error line stands alone
            raise
        progress.update(task, description=f"done in {time.perf_counter() - started:.0f} s")
    return outcome


def lookup_experiment(name: str):
    """The registry record of preset ``name``; a one-line error naming the allowed presets."""
    from mesaopt.experiments import EXPERIMENTS

    if name not in EXPERIMENTS:
        raise MesaoptError(f"unknown preset {name!r}; allowed: {sorted(EXPERIMENTS)}")
    return EXPERIMENTS[name]


def resolve_config(experiment, overrides: list[str], config_file: Path | None):
    """The experiment's default config, then ``--config FILE``, then the command-line overrides on top."""
    from mesaopt.runs.config_cli import load_config_file, parse_config

    cfg = experiment.config if config_file is None else load_config_file(experiment.config, config_file)
    return parse_config(cfg, overrides, prog=f"mesaopt run {experiment.name}", description=experiment.summary)


def run_preset(name: str, overrides: list[str], *, root: Path, force: bool, config_file: Path | None = None,
               print_config: bool = False) -> int:
    """Run (or reuse) a preset; the run directory is printed on the last stdout line."""
    from mesaopt.runs.config_cli import config_help, config_to_toml
    from mesaopt.runs.driver import prepare_root, reusable_run, settled_config, validate_config

    experiment = lookup_experiment(name)
    if any(a in ("-h", "--help") for a in overrides):
        print(config_help(experiment.config, prog=f"mesaopt run {name}", description=experiment.summary))
        return 0
    cfg = resolve_config(experiment, overrides, config_file)
    validate_config(cfg)
    cfg = settled_config(experiment, cfg)
    if print_config:
        print(config_to_toml(cfg), end="")
        return 0
    prepare_root(root)
    outcome = None if force else reusable_run(experiment, cfg, root)
    if outcome is None:
        enable_compile_cache()
        outcome = _drive_with_progress(experiment, cfg, root, force)
    if outcome.reused:
        console.print(f"reusing stored run (same config; --force retrains): {outcome.path}", soft_wrap=True)
        if outcome.code_changes:
            console.print(f"note: other code made it ({'; '.join(outcome.code_changes)}); a fresh run may give "
                          "other numbers", soft_wrap=True)
    else:
        _print_summary(experiment, outcome.report, outcome.path)
    print(outcome.path)
    return 0


def list_stored_runs(root: Path) -> int:
    """The run catalog, newest first, one tab-separated line per run on stdout: name, created, wall s, path."""
    from mesaopt.runs.catalog import list_runs

    rows = list_runs(root)
    if not rows:
        console.print(f"no runs in {root}")
    for row in rows:
        print(f"{row['name']}\t{row['created_utc']}\t{row['wall_seconds']:.0f}\t{row['path']}")
    return 0


def rebuild_report(run: str, root: Path) -> int:
    """Re-render report.html of a stored run from its report.json."""
    from mesaopt.experiments import EXPERIMENTS
    from mesaopt.runs.store import load_run

    record = load_run(run, root)
    report = record["report"]
    if not report or report.get("preset") not in EXPERIMENTS:
        raise MesaoptError(f"{record['path']} has no report.json of a known preset; allowed: {sorted(EXPERIMENTS)}")
    experiment = EXPERIMENTS[report["preset"]]
    path = experiment.write_report(Path(record["path"]), report)
    _print_summary(experiment, report, Path(record["path"]))
    print(path)
    return 0


def inspect_stored_run(run: str, overrides: list[str], root: Path) -> int:
    """Add the evidence card to a stored run's report.json and report.html; prints the report path last."""
    from mesaopt.experiments import EXPERIMENTS
    from mesaopt.experiments.shared.evidence import InspectConfig, inspect_run
    from mesaopt.runs.checkpoints import atomic_write_json
    from mesaopt.runs.config_cli import config_help, parse_config
    from mesaopt.runs.store import load_run

    if any(a in ("-h", "--help") for a in overrides):
        print(config_help(InspectConfig(), prog="mesaopt inspect RUN", description="the evidence card"))
        return 0
    icfg = parse_config(InspectConfig(), overrides, prog="mesaopt inspect RUN")
    record = load_run(run, root)
    report, run_dir = record["report"], Path(record["path"])
    if not report:
        raise MesaoptError(f"{run_dir} has no complete report.json to add evidence to")
    inspectable = sorted(name for name, e in EXPERIMENTS.items() if e.inspect is not None)
    experiment = EXPERIMENTS.get(report.get("preset"))
    if experiment is None or experiment.inspect is None:
        raise MesaoptError(f"runs of preset {report.get('preset')!r} cannot be inspected; allowed: {inspectable}")
    enable_compile_cache()
    started = time.perf_counter()
    with console.status("inspecting") as status:
        def on_step(text: str) -> None:
            console.print(f"[dim]{time.perf_counter() - started:6.1f} s[/dim] {text}")
            status.update(text)

        updated = inspect_run(run_dir, report, icfg, experiment.inspect, on_step)
    atomic_write_json(run_dir / "report.json", updated)
    path = experiment.write_report(run_dir, updated)
    _print_evidence(updated)
    print(path)
    return 0


def _print_evidence(report: dict) -> None:
    from mesaopt.reports.evidence_html import evidence_table

    seconds = report["evidence_settings"]["seconds"]
    console.print(_table(f"evidence — {report['preset']} ({seconds:.0f} s)", evidence_table(report)))


def list_registries() -> int:
    """Print every registry: presets, envs, models, optimizers, detectors."""
    from mesaopt.detectors import DETECTORS
    from mesaopt.envs import ENVS
    from mesaopt.experiments import EXPERIMENTS
    from mesaopt.models import MODELS, SEQUENCE_MODELS
    from mesaopt.optimizers import OPTIMIZERS

    for title, names in (("presets", {k: v.summary for k, v in EXPERIMENTS.items()}), ("envs", ENVS),
                         ("models", {**MODELS, **SEQUENCE_MODELS}),
                         ("optimizers", {k: v.summary for k, v in OPTIMIZERS.items()}), ("detectors", DETECTORS)):
        console.print(f"[bold]{title}[/bold]")
        for name, value in names.items():
            console.print(f"  {name}" + (f"  — {value}" if isinstance(value, str) else ""))
    return 0


SWEEP_HELP = """mesaopt sweep PRESET --grid FIELD=V1,V2 [--grid ...] [options] [--FIELD VALUE ...]

Runs PRESET at every combination of the --grid values (the --FIELD VALUE overrides apply to every point). Each
point is one run of the store under --root (a stored run of the same config is reused), run as a Ray task.
  --grid FIELD=V1,V2,...   a swept config field (dotted for nested ones: task.d=4,8); repeat for more fields
  --seeds-per-task K       split each point's seeds into tasks of at most K seeds (0, the default: whole points)
  --address ADDR           join a Ray cluster (auto, host:port, ray://host:port); default: a local instance
  --workers N              CPUs of the local instance (default: the usable cores)
  --retries N              Ray retries of a task whose worker died (default 3)
  --backend B              auto (Ray if installed, else in-process), ray, in-process
  --root DIR               the run store (default runs); the sweep lands in DIR/sweeps/<preset>-<hash>
The sweep directory (sweep.json, report.html) is printed on the last stdout line. Docs: docs/sweeps.md."""


def sweep_preset(args, overrides: list[str]) -> int:
    """Run (or continue) a sweep with a line per finished task; prints the sweep directory last.

    Exit 0 when every point is complete, 1 when a task failed (its error is in ``sweep.json``)."""
    from mesaopt.runs.config_cli import config_help
    from mesaopt.sweeps.run import SweepHooks, SweepRequest, run_sweep, sweep_summary

    if any(a in ("-h", "--help") for a in overrides):
        experiment = lookup_experiment(args.preset)
        print(SWEEP_HELP + "\n\n" + config_help(experiment.config, prog=f"mesaopt sweep {args.preset}"))
        return 0
    request = SweepRequest(preset=args.preset, grid=tuple(args.grid), overrides=tuple(overrides), root=args.root,
                           seeds_per_task=args.seeds_per_task, address=args.address, workers=args.workers,
                           retries=args.retries, backend=args.backend)
    started = time.perf_counter()

    def on_plan(points, tasks, reused, backend):
        note = " (Ray is not installed: one point after another in this process)" if backend == "in-process" \
            and args.backend == "auto" else ""
        console.print(f"sweep {args.preset}: {points} points, {tasks} runs, {reused} already in the store, "
                      f"{tasks - reused} to run on {backend}{note}", soft_wrap=True)

    def on_task(run, status, done, total):
        console.print(f"{done}/{total} · {time.perf_counter() - started:.0f} s · {run} {status}", soft_wrap=True)

    outcome = run_sweep(request, SweepHooks(on_plan=on_plan, on_task=on_task))
    counts = sweep_summary(outcome.sweep)
    console.print(f"{counts['complete']}/{counts['points']} points complete, {counts['failed']} failed; "
                  f"{counts['attempts']} attempts; report: {outcome.directory / 'report.html'}", soft_wrap=True)
    print(outcome.directory)
    return 0 if counts["failed"] == 0 and counts["pending"] == 0 else 1
