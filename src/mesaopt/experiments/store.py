"""The run store: content-addressed run directories written atomically.

A run lives in ``<root>/<preset>-<hash10>`` where ``hash10`` is :func:`config_hash` of its config.
:class:`RunWriter` builds it in ``<root>/.partial/<name>-<pid>-<random>`` and, in :meth:`RunWriter.finalize`,
writes ``config.json``, ``run.json`` (preset, hash, time, wall seconds, headline), ``versions.json`` (package
versions, mesaopt's :func:`source_fingerprint`, platform, devices), then
the ``COMPLETE`` marker last, and renames the directory into place. A directory without ``COMPLETE``
is never a run, so a process killed at any moment leaves either the earlier complete run or nothing;
leftovers are cleared by :func:`clean_partial` when the next run starts.
"""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import importlib.metadata
import json
import os
import platform
import shutil
import socket
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from mesaopt.errors import NotARunError
from mesaopt.experiments.catalog import (
    COMPLETE_MARKER,
    CONFIG_FILE,
    RUN_META_FILE,
    is_complete_run,
    record_run,
    utc_now,
)
from mesaopt.experiments.checkpoints import atomic_write_bytes, atomic_write_json

DEFAULT_ROOT = Path("runs")
PARTIAL_DIR = ".partial"
TRASH_DIR = ".trash"
VERSIONS_FILE = "versions.json"
REPORT_FILE = "report.json"
_OWNER_FILE = ".owner.json"
# When this module was imported: a stand-in for "when this process started" in clean_partial.
_PROCESS_START = time.time()
_VERSIONED_PACKAGES = ("jax", "jaxlib", "equinox", "optax", "numpy", "mesaopt")


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


def source_fingerprint(package_dir: Path | None = None) -> str:
    """12 hex digits of SHA-256 over the ``.py`` files of ``package_dir`` (default: the installed mesaopt).

    Each file adds its path relative to the package and its bytes, in sorted order, so any edit to the code
    changes it while a version number may stay the same.
    """
    package_dir = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def code_identity() -> dict[str, Any]:
    """The versions of the numeric stack and mesaopt, and mesaopt's :func:`source_fingerprint`."""
    identity: dict[str, Any] = {}
    for package in _VERSIONED_PACKAGES:
        try:
            identity[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            identity[package] = None
    identity["mesaopt_source"] = source_fingerprint()
    return identity


def code_changes(run_dir: Path) -> list[str]:
    """How the code that made ``run_dir`` differs from this process's, e.g. ``["jax 0.10.1 -> 0.10.2"]``.

    Compares :func:`code_identity` with the run's ``versions.json``; an entry the run did not record (older runs
    have no ``mesaopt_source``) or an unreadable file counts as different.
    """
    try:
        stored = _read_json_or_none(Path(run_dir) / VERSIONS_FILE) or {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        stored = {}
    stored = stored if isinstance(stored, dict) else {}
    return [f"{name} {stored.get(name, 'not recorded')} -> {value}"
            for name, value in code_identity().items() if stored.get(name) != value]


def collect_versions() -> dict:
    """Python, the numeric stack, mesaopt's source fingerprint, the platform and the JAX devices: ``versions.json``."""
    versions: dict[str, Any] = {"python": platform.python_version(), **code_identity()}
    versions["platform"] = platform.platform()
    import jax  # the shell only: importing here keeps the store importable without initialising JAX

    versions["jax_backend"] = jax.default_backend()
    versions["devices"] = [f"{d.platform}:{d.id} {d.device_kind}" for d in jax.devices()]
    return versions


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _is_abandoned(entry: Path) -> bool:
    """Whether a ``.partial`` entry was left by a killed process (older than us, owner gone)."""
    try:
        if entry.stat().st_mtime >= _PROCESS_START:
            return False  # may belong to a run started after this process
        owner = json.loads((entry / _OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return True  # older than this process and no readable owner: killed before it wrote one
    if owner.get("host") != socket.gethostname():
        return False  # another machine on a shared filesystem: we cannot tell whether it is alive
    pid = int(owner.get("pid", -1))
    return pid == os.getpid() or not _pid_alive(pid)  # our own pid on an older entry was reused


def clean_partial(root: Path) -> list[Path]:
    """Remove what killed runs left under ``root``; return the removed paths.

    Clears ``.partial`` entries older than this process whose owner process (same host) is gone,
    restores a run that a crash left only in ``.trash`` (killed between moving the old run aside and
    renaming the new one in), and empties ``.trash``. Call it when a new run starts.
    """
    root = Path(root)
    removed: list[Path] = []
    partial = root / PARTIAL_DIR
    if partial.is_dir():
        for entry in sorted(partial.iterdir()):
            if _is_abandoned(entry):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    removed.extend(_recover_trash(root))
    return removed


def _recover_trash(root: Path) -> list[Path]:
    """Put back trashed complete runs whose final directory is missing; delete the rest of ``.trash``."""
    trash = root / TRASH_DIR
    if not trash.is_dir():
        return []
    removed = []
    for entry in sorted(trash.iterdir()):
        stamp = entry.name.rsplit("-", 1)[-1]
        if not stamp.isdigit() or int(stamp) >= _PROCESS_START * 1e9:
            continue  # not ours, or a concurrent finalize is mid-swap
        final = root / entry.name.rsplit("-", 1)[0]
        if is_complete_run(entry) and not final.exists():
            os.replace(entry, final)
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


class RunWriter:
    """Builds one run directory in a private temp dir and moves it into place atomically.

    Usage::

        with RunWriter(root, "maze-goal", config) as writer:
            writer.write_json("metrics.json", metrics)
            save_checkpoint(writer.path("checkpoints/final.safetensors"), params, {"model": "mlp"})
            writer.finalize(headline={"return": 0.9}, wall_seconds=12.3)

    Leaving the ``with`` block without :meth:`finalize` (an exception, or just forgetting) aborts:
    the temp dir is removed and nothing appears under ``root`` or in the catalog.
    """

    def __init__(self, root: Path, preset: str, config: Mapping[str, Any]) -> None:
        self.root = Path(root)
        self.preset = preset
        self.config = _normalize(config)
        self.config_hash = config_hash(self.config)
        self.name = f"{preset}-{self.config_hash}"
        self.final_dir = self.root / self.name
        partial = self.root / PARTIAL_DIR
        partial.mkdir(parents=True, exist_ok=True)
        self.work_dir = Path(tempfile.mkdtemp(prefix=f"{self.name}-{os.getpid()}-", dir=partial))
        atomic_write_json(self.work_dir / _OWNER_FILE, {"host": socket.gethostname(), "pid": os.getpid()})
        self._state = "open"

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
        (self.work_dir / _OWNER_FILE).unlink(missing_ok=True)
        self.write_bytes(COMPLETE_MARKER, f"{created}\n".encode())
        self._swap_into_place()
        self._state = "finalized"
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

    def abort(self) -> None:
        """Discard the work dir; nothing is written under the root or in the catalog."""
        if self._state == "open":
            shutil.rmtree(self.work_dir, ignore_errors=True)
            self._state = "aborted"

    def __enter__(self) -> RunWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.abort()
