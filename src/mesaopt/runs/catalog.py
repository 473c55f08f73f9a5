"""The run catalog: an SQLite index (stdlib, WAL) of the complete runs under a root directory.

The filesystem is the truth and the catalog is only an index: :func:`list_runs` drops rows whose
directory is gone or incomplete and adds complete run directories the index missed (a run killed
between its rename and its catalog write), and :func:`rebuild_catalog` recreates the whole index from
the run directories, moving a corrupt database file aside first.

This module also owns the names of the files that make a directory a run (``COMPLETE``, ``config.json``,
``run.json``), since both the store and the catalog need them.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CATALOG_FILE = "catalog.sqlite"
COMPLETE_MARKER = "COMPLETE"
CONFIG_FILE = "config.json"
RUN_META_FILE = "run.json"
BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    name TEXT PRIMARY KEY,
    preset TEXT,
    config_hash TEXT,
    path TEXT,
    created_utc TEXT,
    wall_seconds REAL,
    headline_json TEXT
)
"""
_UPSERT = """
INSERT INTO runs (name, preset, config_hash, path, created_utc, wall_seconds, headline_json)
VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT(name) DO UPDATE SET
    preset = excluded.preset, config_hash = excluded.config_hash, path = excluded.path,
    created_utc = excluded.created_utc, wall_seconds = excluded.wall_seconds,
    headline_json = excluded.headline_json
"""
# SQLITE_CORRUPT and SQLITE_NOTADB: the file is damaged, as opposed to busy or locked.
_CORRUPT_CODES = {11, 26}


def utc_now() -> str:
    """Current UTC time as ISO 8601 with microseconds (sorts lexicographically in time order)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_complete_run(path: Path) -> bool:
    """Whether ``path`` is a directory holding both the ``COMPLETE`` marker and ``config.json``."""
    path = Path(path)
    return path.is_dir() and (path / COMPLETE_MARKER).is_file() and (path / CONFIG_FILE).is_file()


def _is_corrupt(error: sqlite3.DatabaseError) -> bool:
    return getattr(error, "sqlite_errorcode", None) in _CORRUPT_CODES


def _prepare(conn: sqlite3.Connection) -> None:
    """Busy timeout, WAL mode and the schema. Switching a new file to WAL takes a lock that SQLite does not wait
    for (no busy handler): several processes creating the catalog at once can get "database is locked" at once
    (the concurrency test failed so once, in a loaded test suite, 2026-12-05). That step is retried with backoff
    up to the busy timeout."""
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    deadline, pause = time.monotonic() + BUSY_TIMEOUT_S, 0.01
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(_SCHEMA)
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


@contextmanager
def _connect(root: Path) -> Iterator[sqlite3.Connection]:
    """Open the catalog (creating it), in WAL mode with a 10 s busy timeout; commit on success."""
    with closing(sqlite3.connect(Path(root) / CATALOG_FILE, timeout=BUSY_TIMEOUT_S)) as conn:
        _prepare(conn)
        with conn:  # one transaction: commit, or roll back on error
            yield conn


def _with_recovery(root: Path, operation: Any) -> Any:
    """Run ``operation(conn)``; if the database file is corrupt, rebuild it once and retry."""
    try:
        with _connect(root) as conn:
            return operation(conn)
    except sqlite3.DatabaseError as e:
        if not _is_corrupt(e):
            raise
    rebuild_catalog(root)
    with _connect(root) as conn:
        return operation(conn)


def record_run(
    root: Path,
    name: str,
    preset: str,
    config_hash: str,
    path: Path,
    wall_seconds: float,
    headline: dict,
    created_utc: str | None = None,
) -> None:
    """Insert or replace the catalog row for run ``name`` (``created_utc`` defaults to now)."""
    row = _make_row(name, preset, config_hash, path, wall_seconds, headline, created_utc)
    _with_recovery(Path(root), lambda conn: conn.execute(_UPSERT, row))


def _make_row(
    name: str, preset: str, config_hash: str, path: Path, wall_seconds: float, headline: dict,
    created_utc: str | None,
) -> tuple:
    return (name, preset, config_hash, str(path), created_utc or utc_now(), float(wall_seconds),
            json.dumps(headline, sort_keys=True))


def _row_to_dict(row: tuple) -> dict:
    name, preset, config_hash, path, created_utc, wall_seconds, headline_json = row
    return {"name": name, "preset": preset, "config_hash": config_hash, "path": path,
            "created_utc": created_utc, "wall_seconds": wall_seconds, "headline": json.loads(headline_json)}


def _select_all(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute(
        "SELECT name, preset, config_hash, path, created_utc, wall_seconds, headline_json FROM runs"
    ).fetchall()
    return [_row_to_dict(row) for row in rows]


def list_runs(root: Path) -> list[dict]:
    """All complete runs under ``root``, newest first, as dicts (the table's columns; ``headline`` decoded).

    Rows whose directory is gone or lacks ``COMPLETE`` are left out; complete run directories
    missing from the index are added first. Returns ``[]`` if ``root`` does not exist.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    rows = _with_recovery(root, _select_all)
    indexed = {row["name"] for row in rows}
    missing = [_row_from_dir(d) for d in _run_dirs(root) if d.name not in indexed]
    if missing:
        _with_recovery(root, lambda conn: conn.executemany(_UPSERT, missing))
        rows = _with_recovery(root, _select_all)
    # Check and report the directory under this root, not the stored path: the root may have moved.
    rows = [{**row, "path": str(root / row["name"])} for row in rows]
    rows = [row for row in rows if is_complete_run(Path(row["path"]))]
    return sorted(rows, key=lambda row: (row["created_utc"] or "", row["name"]), reverse=True)


def _run_dirs(root: Path) -> list[Path]:
    """Complete run directories directly under ``root`` (hidden ``.partial``/``.trash`` excluded)."""
    return sorted(d for d in root.iterdir() if not d.name.startswith(".") and is_complete_run(d))


def _read_run_meta(run_dir: Path) -> dict:
    """``run.json`` of a run, or ``{}`` if absent or unreadable (the catalog then falls back to defaults)."""
    try:
        meta = json.loads((run_dir / RUN_META_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _row_from_dir(run_dir: Path) -> tuple:
    """A catalog row for a complete run directory, from its ``run.json`` (or its name, if that is lost)."""
    meta = _read_run_meta(run_dir)
    preset = meta.get("preset") or run_dir.name.rsplit("-", 1)[0]
    config_hash = meta.get("config_hash") or run_dir.name.rsplit("-", 1)[-1]
    created = meta.get("created_utc") or datetime.fromtimestamp(
        (run_dir / COMPLETE_MARKER).stat().st_mtime, UTC
    ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return _make_row(run_dir.name, preset, config_hash, run_dir, meta.get("wall_seconds") or 0.0,
                     meta.get("headline") or {}, created)


def _move_aside_corrupt(root: Path) -> Path | None:
    """Rename a corrupt catalog (and its WAL/SHM files) to ``catalog.sqlite.corrupt-<time>``."""
    db = root / CATALOG_FILE
    if not db.exists():
        return None
    aside = root / f"{CATALOG_FILE}.corrupt-{time.time_ns()}"
    for suffix in ("-wal", "-shm"):
        side = root / (CATALOG_FILE + suffix)
        if side.exists():
            side.replace(root / (aside.name + suffix))
    db.replace(aside)
    return aside


def _catalog_is_corrupt(root: Path) -> bool:
    if not (root / CATALOG_FILE).exists():
        return False
    try:
        with _connect(root) as conn:
            conn.execute("SELECT count(*) FROM runs").fetchone()
    except sqlite3.DatabaseError as e:
        if _is_corrupt(e):
            return True
        raise
    return False


def rebuild_catalog(root: Path) -> int:
    """Recreate the catalog of ``root`` from its complete run directories; return the number indexed.

    A corrupt database file is moved aside (``catalog.sqlite.corrupt-<time>``) first; a missing one
    is created. Rows for runs that no longer exist are removed.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if _catalog_is_corrupt(root):
        _move_aside_corrupt(root)
    rows = [_row_from_dir(d) for d in _run_dirs(root)]
    with _connect(root) as conn:  # one transaction: readers see the old index or the new one
        conn.execute("DELETE FROM runs")
        conn.executemany(_UPSERT, rows)
    return len(rows)
