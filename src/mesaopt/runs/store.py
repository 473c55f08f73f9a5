"""The run store: content-addressed run directories written atomically, and resumable while in progress.

A run lives in ``<root>/<preset>-<hash10>`` where ``hash10`` is :func:`config_hash` of its config.
:class:`RunWriter` builds it in ``<root>/.partial/<preset>-<hash10>`` (holding that config's lock, see
:mod:`mesaopt.runs.partial`) and, in :meth:`RunWriter.finalize`, writes ``config.json``, ``run.json`` (preset,
hash, time, wall seconds, headline), ``versions.json`` (:mod:`mesaopt.runs.versions`), then the ``COMPLETE``
marker last, and renames the directory into place. A directory without ``COMPLETE`` is never a run, so a process
killed at any moment leaves either the earlier complete run, or nothing, or a partial directory whose chunk
checkpoints the next run of the same config resumes from.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import os
import shutil
import socket
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from mesaopt.errors import NotARunError, TrainingDivergedError
from mesaopt.runs.catalog import COMPLETE_MARKER, CONFIG_FILE, RUN_META_FILE, is_complete_run, record_run, utc_now
from mesaopt.runs.checkpoints import atomic_write_bytes, atomic_write_json
from mesaopt.runs.partial import (
    OWNER_FILE,
    PARTIAL_DIR,
    RESUME_DIR,
    TRASH_DIR,
    acquire_run_lock,
    clean_partial,
    is_resumable,
    release_run_lock,
)
from mesaopt.runs.versions import VERSIONS_FILE, code_changes, collect_versions, source_fingerprint

DEFAULT_ROOT = Path("runs")
REPORT_FILE = "report.json"
__all__ = ["DEFAULT_ROOT", "REPORT_FILE", "RunWriter", "clean_partial", "code_changes", "config_hash",
           "find_complete_run", "load_run", "run_name", "source_fingerprint"]


def _normalize(config: Mapping[str, Any] | Any) -> dict:
    """The config as plain JSON data (dataclasses become dicts, tuples become lists)."""
    if dataclasses.is_dataclass(config) and not isinstance(config, type):
        config = dataclasses.asdict(config)
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a dict or a dataclass instance, got {type(config).__name__}")
    return json.loads(json.dumps(config, sort_keys=True))


def config_hash(config: Mapping[str, Any]) -> str:
    """10 hex characters of the sha256 of the config's canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(_normalize(config), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:10]


def run_name(preset: str, config: Mapping[str, Any]) -> str:
    """The run directory name for a preset and config: ``<preset>-<config_hash>``."""
    return f"{preset}-{config_hash(config)}"


def find_complete_run(root: Path, preset: str, config: Mapping[str, Any]) -> Path | None:
    """The complete run of ``preset`` with exactly this ``config`` under ``root``, or None.

    A directory with the right name but no ``COMPLETE`` marker, or whose ``config.json`` differs
    (a hash collision or a hand-edited file), does not count.
    """
    path = Path(root) / run_name(preset, config)
    if not is_complete_run(path):
        return None
    try:
        stored = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return path if stored == _normalize(config) else None


def _read_json_or_none(path: Path) -> Any:
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _resolve_run_path(path_or_name: Path | str, root: Path | None) -> Path:
    path = Path(path_or_name)
    if path.is_dir() or path.is_absolute():
        return path
    candidate = Path(root if root is not None else DEFAULT_ROOT) / path
    return candidate if candidate.is_dir() else path


def load_run(path_or_name: Path | str, root: Path | None = None) -> dict:
    """Load a complete run: ``{"config", "report", "headline", "run", "path"}``.

    ``path_or_name`` is a run directory, or a bare run name looked up under ``root`` (default ``runs``).
    ``report`` is ``report.json`` if the run wrote one, else None; ``run`` is ``run.json``.
    Raises :class:`~mesaopt.errors.NotARunError` (one line) for anything that is not a complete run.
    """
    path = _resolve_run_path(path_or_name, root)
    if not is_complete_run(path):
        raise NotARunError(f"{path} is not a mesaopt run (missing {COMPLETE_MARKER} marker / {CONFIG_FILE})")
    try:
        config = json.loads((path / CONFIG_FILE).read_text(encoding="utf-8"))
        report = _read_json_or_none(path / REPORT_FILE)
        meta = _read_json_or_none(path / RUN_META_FILE) or {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotARunError(f"{path} is not a readable mesaopt run ({e})") from None
    return {"config": config, "report": report, "headline": meta.get("headline"), "run": meta, "path": path}


class RunWriter:
    """Builds one run directory in a private temp dir and moves it into place atomically.

    Usage::

        with RunWriter(root, "maze-goal", config) as writer:
            writer.write_json("metrics.json", metrics)
            save_checkpoint(writer.path("checkpoints/final.safetensors"), params, {"model": "mlp"})
            writer.finalize(headline={"return": 0.9}, wall_seconds=12.3)

    Leaving the ``with`` block without :meth:`finalize` aborts: nothing appears under ``root`` or in the catalog.
    The work dir is removed, except its chunk checkpoints when an exception other than a diverged training left
    the block (an interruption or a crash: the next run of the same config resumes from them).
    """

    def __init__(self, root: Path, preset: str, config: Mapping[str, Any], *, resume: bool = False) -> None:
        self.root = Path(root)
        self.preset = preset
        self.config = _normalize(config)
        self.config_hash = config_hash(self.config)
        self.name = f"{preset}-{self.config_hash}"
        self.final_dir = self.root / self.name
        self._partial = self.root / PARTIAL_DIR
        self._partial.mkdir(parents=True, exist_ok=True)
        self._lock = acquire_run_lock(self._partial, self.name)
        self.work_dir = self._partial / self.name
        self.resuming = resume and is_resumable(self.work_dir)
        """Whether a killed run of this config left chunk checkpoints that this run continues from."""
        try:
            self._prepare_work_dir()
        except BaseException:
            release_run_lock(self._partial, self.name, self._lock)
            raise
        self._state = "open"

    def _prepare_work_dir(self) -> None:
        """Start the work dir empty, or (resuming) keep only the chunk checkpoints a killed run left in it."""
        if self.resuming:
            for entry in self.work_dir.iterdir():
                if entry.name != RESUME_DIR:
                    shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
        elif self.work_dir.exists():
            shutil.rmtree(self.work_dir)
        self.work_dir.mkdir(exist_ok=True)
        atomic_write_json(self.work_dir / OWNER_FILE, {"host": socket.gethostname(), "pid": os.getpid()})

    def path(self, relpath: str | Path) -> Path:
        """Absolute path of ``relpath`` inside the work dir (parents created), for libraries that write files."""
        if self._state != "open":
            raise RuntimeError(f"RunWriter for {self.name} is {self._state}; it accepts no more files")
        rel = Path(relpath)
        if rel.is_absolute() or ".." in rel.parts or not rel.parts:
            raise ValueError(f"relpath must be a relative path inside the run directory, got {str(relpath)!r}")
        target = self.work_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write_json(self, relpath: str | Path, obj: Any) -> Path:
        """Write ``obj`` as JSON to ``relpath`` inside the run; return the file's path."""
        target = self.path(relpath)
        atomic_write_json(target, obj)
        return target

    def write_bytes(self, relpath: str | Path, data: bytes) -> Path:
        """Write raw bytes to ``relpath`` inside the run; return the file's path."""
        target = self.path(relpath)
        atomic_write_bytes(target, data)
        return target

    def finalize(self, headline: dict, wall_seconds: float) -> Path:
        """Write config, run metadata, versions, then ``COMPLETE``; move the run into place; catalog it.

        An existing run of the same name (a forced rerun) is replaced: it is moved to ``.trash`` only
        at the moment of the swap and deleted afterwards. Returns the final run directory.
        """
        created = utc_now()
        self.write_json(CONFIG_FILE, self.config)
        self.write_json(RUN_META_FILE, {
            "name": self.name, "preset": self.preset, "config_hash": self.config_hash,
            "created_utc": created, "wall_seconds": float(wall_seconds), "headline": headline,
        })
        self.write_json(VERSIONS_FILE, collect_versions())
        (self.work_dir / OWNER_FILE).unlink(missing_ok=True)
        self.write_bytes(COMPLETE_MARKER, f"{created}\n".encode())
        self._swap_into_place()
        shutil.rmtree(self.final_dir / RESUME_DIR, ignore_errors=True)  # only now: until the swap it can resume
        self._state = "finalized"
        release_run_lock(self._partial, self.name, self._lock)
        self._lock = None
        record_run(self.root, self.name, self.preset, self.config_hash, self.final_dir.resolve(),
                   wall_seconds, headline, created_utc=created)
        return self.final_dir

    def _swap_into_place(self, attempts: int = 5) -> None:
        """Rename work_dir to final_dir, moving an existing final_dir to ``.trash`` first, then delete it."""
        trash_root = self.root / TRASH_DIR
        for _ in range(attempts):
            trashed = None
            if self.final_dir.exists():
                trash_root.mkdir(exist_ok=True)
                trashed = trash_root / f"{self.name}-{time.time_ns()}"
                try:
                    os.replace(self.final_dir, trashed)
                except FileNotFoundError:  # a concurrent finalize moved it first
                    trashed = None
            try:
                os.replace(self.work_dir, self.final_dir)
            except OSError as e:  # e.g. a concurrent finalize put its run there between our two renames
                self._settle_trashed(trashed)
                if e.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                    raise
                continue
            if trashed is not None:
                shutil.rmtree(trashed, ignore_errors=True)
            return
        raise OSError(f"could not move {self.work_dir} to {self.final_dir}: it kept being replaced")

    def _settle_trashed(self, trashed: Path | None) -> None:
        """After a failed swap: put the old run back if nothing took its place, else delete it."""
        if trashed is None:
            return
        if not self.final_dir.exists():
            os.replace(trashed, self.final_dir)
        else:
            shutil.rmtree(trashed, ignore_errors=True)

    def abort(self, keep_checkpoints: bool = False) -> None:
        """Discard the work dir (or, with ``keep_checkpoints``, everything but its chunk checkpoints, for a later
        run of the same config to resume from); nothing is written under the root or in the catalog."""
        if self._state == "open":
            if keep_checkpoints and is_resumable(self.work_dir):
                (self.work_dir / OWNER_FILE).unlink(missing_ok=True)
            else:
                shutil.rmtree(self.work_dir, ignore_errors=True)
            self._state = "aborted"
        release_run_lock(self._partial, self.name, self._lock)
        self._lock = None

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        """An interruption or an error keeps the chunk checkpoints (the same config resumes from them); a diverged
        training (:class:`~mesaopt.errors.TrainingDivergedError`) or leaving without finalize does not."""
        self.abort(keep_checkpoints=exc is not None and not isinstance(exc, TrainingDivergedError))
