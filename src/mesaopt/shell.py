"""The CLI's impure shell: progress bars, run storage, reports and terminal tables."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from mesaopt.errors import MesaoptError

console = Console(stderr=True)


def enable_compile_cache() -> Path:
    """Persistent JAX compilation cache (``$MESAOPT_JAX_CACHE`` or ``~/.cache/mesaopt/jax``)."""
    import jax

    path = Path(os.environ.get("MESAOPT_JAX_CACHE", Path.home() / ".cache" / "mesaopt" / "jax"))
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return path


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), console=console, transient=False)


def _timing_line(t: dict) -> str:
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


def _print_summary(report: dict, run_dir: Path) -> None:
    from mesaopt.reports.registry import SUMMARY_TABLES

    rows = SUMMARY_TABLES[report["preset"]](report)
    console.print(_table(f"{report['preset']} — mean [95 % CI] over {report['headline']['n_seeds']} seeds", rows))
    console.print(_timing_line(report["timings"]))
    console.print(f"report: {run_dir / 'report.html'}")


def _chunk_metric(metrics) -> str:
    """The one number a plain progress line shows: training success (RL) or loss (supervised)."""
    if hasattr(metrics, "success_rate"):
        return f"training success {float(np.nanmean(metrics.success_rate[:, -1])):.2f}"
    return f"training loss {float(np.nanmean(metrics.loss[:, -1])):.4f}"


def _train_with_progress(preset, cfg, writer) -> dict:
    with _progress() as progress:
        task = progress.add_task("compiling", total=None)
        started = time.perf_counter()

        def on_chunk(done, total, metrics):
            if done == 1:
                progress.update(task, description="training")
            progress.update(task, completed=done, total=total)
            if not console.is_terminal:  # logs and pipes get one plain line per chunk
                console.print(f"chunk {done}/{total} · {time.perf_counter() - started:.0f} s · "
                              f"{_chunk_metric(metrics)}")

        def on_phase(name):
            progress.update(task, description=name)

        report = preset.run(cfg, writer, on_chunk=on_chunk, on_phase=on_phase)
        progress.update(task, description=f"done in {time.perf_counter() - started:.0f} s")
    return report


def run_preset(name: str, overrides: list[str], *, root: Path, force: bool) -> int:
    """Run (or reuse) a preset; the run directory is printed on the last stdout line."""
    from mesaopt.experiments.overrides import apply_overrides
    from mesaopt.experiments.presets import PRESETS
    from mesaopt.experiments.store import RunWriter, clean_partial, code_changes, find_complete_run
    from mesaopt.reports.registry import REPORT_WRITERS

    if name not in PRESETS:
        raise MesaoptError(f"unknown preset {name!r}; allowed: {sorted(PRESETS)}")
    preset = PRESETS[name]
    if any(a in ("-h", "--help") for a in overrides):
        return _print_preset_help(preset)
    cfg = apply_overrides(preset.config, overrides)
    cfg.validate()
    config = {"preset": name, **_asdict(cfg)}
    existing = find_complete_run(root, name, config)
    if existing is not None and not force:
        console.print(f"reusing stored run (same config; --force retrains): {existing}")
        changes = code_changes(existing)
        if changes:
            console.print(f"note: other code made it ({'; '.join(changes)}); a fresh run may give other numbers")
        print(existing)
        return 0
    enable_compile_cache()
    clean_partial(root)
    with RunWriter(root, name, config) as writer:
        report = _train_with_progress(preset, cfg, writer)
        REPORT_WRITERS[name](writer.work_dir, report)
        run_dir = writer.finalize(report["headline"], report["timings"]["wall_seconds"])
    _print_summary(report, run_dir)
    print(run_dir)
    return 0


def _asdict(cfg) -> dict:
    import dataclasses

    return dataclasses.asdict(cfg)


def _print_preset_help(preset) -> int:
    import dataclasses

    from mesaopt.experiments.overrides import field_types

    console.print(f"[bold]{preset.name}[/bold]: {preset.summary}\noverrides (--field value):")
    flat = dataclasses.asdict(preset.config)
    for dotted, kind in field_types(preset.config).items():
        value = flat
        for part in dotted.split("."):
            value = value[part]
        console.print(f"  --{dotted.replace('_', '-'):28s} {getattr(kind, '__name__', str(kind)):8s} default {value}")
    return 0


def list_stored_runs(root: Path) -> int:
    """The run catalog, newest first, one tab-separated line per run on stdout: name, created, wall s, path."""
    from mesaopt.experiments.catalog import list_runs

    rows = list_runs(root)
    if not rows:
        console.print(f"no runs in {root}")
    for row in rows:
        print(f"{row['name']}\t{row['created_utc']}\t{row['wall_seconds']:.0f}\t{row['path']}")
    return 0


def rebuild_report(run: str, root: Path) -> int:
    """Re-render report.html of a stored run from its report.json."""
    from mesaopt.experiments.store import load_run
    from mesaopt.reports.registry import REPORT_WRITERS

    record = load_run(run, root)
    report = record["report"]
    if not report or report.get("preset") not in REPORT_WRITERS:
        raise MesaoptError(f"{record['path']} has no report.json of a known preset; allowed: {sorted(REPORT_WRITERS)}")
    path = REPORT_WRITERS[report["preset"]](Path(record["path"]), report)
    _print_summary(report, Path(record["path"]))
    print(path)
    return 0


def inspect_stored_run(run: str, overrides: list[str], root: Path) -> int:
    """Add the evidence card to a stored run's report.json and report.html; prints the report path last."""
    from mesaopt.experiments.checkpoints import atomic_write_json
    from mesaopt.experiments.evidence_maze import InspectConfig
    from mesaopt.experiments.inspect import inspect_run
    from mesaopt.experiments.overrides import apply_overrides
    from mesaopt.experiments.store import load_run
    from mesaopt.reports.registry import REPORT_WRITERS

    icfg = apply_overrides(InspectConfig(), overrides)
    record = load_run(run, root)
    report, run_dir = record["report"], Path(record["path"])
    if not report:
        raise MesaoptError(f"{run_dir} has no complete report.json to add evidence to")
    enable_compile_cache()
    started = time.perf_counter()
    with console.status("inspecting") as status:
        def on_step(text: str) -> None:
            console.print(f"[dim]{time.perf_counter() - started:6.1f} s[/dim] {text}")
            status.update(text)

        updated = inspect_run(run_dir, report, icfg, on_step)
    atomic_write_json(run_dir / "report.json", updated)
    path = REPORT_WRITERS[updated["preset"]](run_dir, updated)
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
    from mesaopt.experiments.presets import PRESETS
    from mesaopt.models import MODELS, SEQUENCE_MODELS
    from mesaopt.optimizers import OPTIMIZERS

    for title, names in (("presets", {k: v.summary for k, v in PRESETS.items()}), ("envs", ENVS),
                         ("models", {**MODELS, **SEQUENCE_MODELS}), ("optimizers", OPTIMIZERS), ("detectors", DETECTORS)):
        console.print(f"[bold]{title}[/bold]")
        for name, value in names.items():
            console.print(f"  {name}" + (f"  — {value}" if isinstance(value, str) else ""))
    return 0
