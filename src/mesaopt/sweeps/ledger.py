"""A sweep's directory: ``sweep.json`` (every point: values, tasks, run dirs, status, attempts), the tasks'
attempts files, and the lock that keeps two drivers off one sweep.

The directory is ``<root>/sweeps/<preset>-<hash10>``, the hash over the preset, the swept fields and the planned
run names: running the same sweep again (after it finished, or after its driver was killed) finds the same
directory and continues. ``sweep.json`` is rewritten atomically after every finished task, so a killed driver
leaves the last consistent state; the runs themselves live in the shared store.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from pathlib import Path

from mesaopt.errors import MesaoptError
from mesaopt.runs.catalog import utc_now
from mesaopt.runs.checkpoints import atomic_write_json
from mesaopt.sweeps.grid import GridAxis, SweepPoint
from mesaopt.sweeps.worker import count_attempts

SWEEPS_DIR = "sweeps"
SWEEP_FILE = "sweep.json"
ATTEMPTS_DIR = "attempts"
STATUSES = ("pending", "submitted", "complete", "failed")
"""A task's status in ``sweep.json``; a point is complete when all its tasks are."""


def sweep_dir(root: Path, preset: str, axes: list[GridAxis], points: list[SweepPoint]) -> Path:
    """Where the sweep of these points lives under ``root``."""
    identity = {"preset": preset, "fields": [a.field for a in axes],
                "runs": [[t.run for t in p.tasks] for p in points]}
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:10]
    return Path(root) / SWEEPS_DIR / f"{preset}-{digest}"


def attempts_file(directory: Path, run: str) -> Path:
    """The file each attempt at ``run`` appends a line to."""
    return Path(directory) / ATTEMPTS_DIR / f"{run}.jsonl"


def lock_sweep(directory: Path) -> int:
    """Hold the sweep's lock (released by the kernel if the driver dies); one line if another driver holds it."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise MesaoptError(f"another mesaopt sweep is driving {directory} right now; wait for it to finish") from None
    return fd


def unlock_sweep(fd: int) -> None:
    """Release the sweep's lock (the lock file stays: removing it could race a driver that has just opened it)."""
    os.close(fd)


def _previous_created(directory: Path) -> str | None:
    """When an earlier driver of this sweep started it (None for a new sweep or an unreadable file)."""
    try:
        return json.loads((directory / SWEEP_FILE).read_text(encoding="utf-8")).get("created_utc")
    except (OSError, ValueError, AttributeError):
        return None


class SweepLedger:
    """The state of every point and task, kept in ``sweep.json``."""

    def __init__(self, directory: Path, header: dict, points: list[SweepPoint]) -> None:
        self.directory = Path(directory)
        self.header = header
        self.points = [{"values": p.values, "status": "pending", "headline": {},
                        "tasks": [{"run": t.run, "seed": t.seed, "n_seeds": t.n_seeds, "status": "pending",
                                   "path": None, "attempts": 0, "wall_seconds": None, "error": None,
                                   "headline": {}}
                                  for t in p.tasks]} for p in points]
        self.created_utc = _previous_created(self.directory) or utc_now()

    def tasks_of(self, run: str) -> list[dict]:
        """Every task entry of ``run`` (a run shared by two points appears in both)."""
        return [t for p in self.points for t in p["tasks"] if t["run"] == run]

    def mark(self, run: str, status: str, **fields) -> None:
        """Set a run's status (and any of ``path``, ``wall_seconds``, ``error``) and its attempt count."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        attempts = count_attempts(attempts_file(self.directory, run))
        for task in self.tasks_of(run):
            task.update(status=status, attempts=attempts, **fields)

    def finish_points(self, combine) -> None:
        """Each point's status from its tasks, and its headline (``combine(headlines, seeds)``) once complete."""
        for point in self.points:
            statuses = {t["status"] for t in point["tasks"]}
            point["status"] = ("complete" if statuses == {"complete"} else "failed" if "failed" in statuses
                               else "pending")
            if point["status"] == "complete":
                point["headline"] = combine([t["headline"] for t in point["tasks"]],
                                            [t["n_seeds"] for t in point["tasks"]])

    def counts(self) -> dict[str, int]:
        """Points per status."""
        return {s: sum(p["status"] == s for p in self.points) for s in ("complete", "failed", "pending")}

    def as_json(self) -> dict:
        return {**self.header, "created_utc": self.created_utc, "updated_utc": utc_now(),
                "points_by_status": self.counts(), "points": self.points}

    def save(self) -> Path:
        """Write ``sweep.json`` atomically; return its path."""
        path = self.directory / SWEEP_FILE
        atomic_write_json(path, self.as_json())
        return path
