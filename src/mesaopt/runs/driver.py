"""The one function that drives a run from a resolved config to a stored run directory.

:func:`drive_run` checks the config, finds (or reuses) a stored run of it, resumes a killed one, trains and
evaluates through the experiment's ``run``, writes ``report.json`` and ``report.html``, and finalizes and catalogs
the directory. The shell only shows progress and prints; this module prints nothing.
"""

from __future__ import annotations

import dataclasses
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mesaopt.errors import MesaoptError
from mesaopt.runs.context import RunContext
from mesaopt.runs.partial import PARTIAL_DIR, clean_partial
from mesaopt.runs.resume import ChunkCheckpoints
from mesaopt.runs.store import REPORT_FILE, RunWriter, code_changes, find_complete_run


@dataclass
class RunHooks:
    """How the driver reports progress (all optional; the shell fills them in)."""

    on_chunk: Callable | None = None
    """``on_chunk(done, total, metrics_of_chunk)`` after each training chunk."""
    on_phase: Callable | None = None
    """``on_phase(name)`` when the run enters a phase (``"evaluating"``)."""
    on_resume: Callable | None = None
    """``on_resume(done, total, partial_dir)`` when training continues from a killed run's chunk checkpoint."""


@dataclass
class RunOutcome:
    """What :func:`drive_run` did."""

    path: Path
    """The complete run directory."""
    report: dict | None
    """The report (None when a stored run was reused)."""
    reused: bool = False
    """True when an identical config's stored run was returned without training."""
    code_changes: list[str] = field(default_factory=list)
    """How the code that made a reused run differs from this code (``versions.json``)."""


def check_finite_numbers(cfg, prefix: str = "") -> None:
    """One-line ``MesaoptError`` naming the first float field of ``cfg`` (nested dataclasses too) that is NaN or
    infinite: no experiment can use one, so every config is checked before its own ``validate``."""
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            check_finite_numbers(value, f"{prefix}{f.name}.")
        values = value if isinstance(value, tuple) else (value,)
        for v in values:
            if isinstance(v, float) and not math.isfinite(v):
                raise MesaoptError(f"{prefix}{f.name} must be a finite number, got {v}")


def validate_config(cfg) -> None:
    """Finite numbers, then the config's own ``validate()`` (a ``ValueError`` there becomes one line)."""
    check_finite_numbers(cfg)
    try:
        cfg.validate()
    except MesaoptError:
        raise
    except ValueError as err:
        raise MesaoptError(str(err)) from None


def prepare_root(root: Path) -> Path:
    """Create ``root`` (and its scratch area) and prove it writable; one-line ``MesaoptError`` if it is not."""
    root = Path(root)
    try:
        (root / PARTIAL_DIR).mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root / PARTIAL_DIR):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise MesaoptError(f"cannot store runs in --root {root}: {reason}; choose a writable directory") from None
    return root


def settled_config(experiment, cfg):
    """``cfg`` with the settings it leaves to the experiment's rule filled in (``experiment.settle``): the config
    a run is named, stored and reused by."""
    settle = getattr(experiment, "settle", None)
    return cfg if settle is None else settle(cfg)


def reusable_run(experiment, cfg, root: Path) -> RunOutcome | None:
    """The complete stored run of exactly this config (settled) under ``root``, as a reused :class:`RunOutcome`,
    or None."""
    cfg = settled_config(experiment, cfg)
    config = {"preset": experiment.name, **dataclasses.asdict(cfg)}
    existing = find_complete_run(root, experiment.name, config)
    if existing is None:
        return None
    return RunOutcome(path=existing, report=None, reused=True, code_changes=code_changes(existing))


def drive_run(experiment, cfg, *, root: Path, force: bool = False, hooks: RunHooks | None = None) -> RunOutcome:
    """Run ``experiment`` (an :class:`~mesaopt.experiments.record.Experiment`) with ``cfg`` into ``root``.

    A complete stored run of the same config is reused unless ``force``. A partial run of the same config that a
    killed process left is resumed from its last chunk checkpoint (``force`` starts clean). Training that goes
    non-finite raises :class:`~mesaopt.errors.TrainingDivergedError` and stores nothing.
    """
    hooks = hooks or RunHooks()
    validate_config(cfg)
    cfg = settled_config(experiment, cfg)
    root = prepare_root(root)
    reused = None if force else reusable_run(experiment, cfg, root)
    if reused is not None:
        return reused
    config = {"preset": experiment.name, **dataclasses.asdict(cfg)}
    clean_partial(root)
    with RunWriter(root, experiment.name, config, resume=not force) as writer:
        on_resume = None if hooks.on_resume is None else (lambda d, n: hooks.on_resume(d, n, writer.work_dir))
        ctx = RunContext(writer=writer, checkpoints=ChunkCheckpoints(writer.work_dir, on_resume=on_resume),
                         on_chunk=hooks.on_chunk, on_phase=hooks.on_phase)
        report = {**experiment.run(cfg, ctx), "preset": experiment.name}
        writer.write_json(REPORT_FILE, report)
        experiment.write_report(writer.work_dir, report)
        run_dir = writer.finalize(report["headline"], report["timings"]["wall_seconds"])
    return RunOutcome(path=run_dir, report=report)
