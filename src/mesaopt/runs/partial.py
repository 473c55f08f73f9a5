"""The scratch area of a root's runs in progress (``<root>/.partial``) and what killed runs leave behind.

Each run in progress builds ``.partial/<preset>-<hash>/`` while holding an exclusive lock on
``.partial/<preset>-<hash>.lock`` (``flock``: the kernel releases it when the process dies, even by ``kill -9``).
A directory whose owner is gone is *abandoned*: :func:`clean_partial` deletes it unless it holds chunk
checkpoints (``resume/``), which the next run of the same config resumes from.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import time
from pathlib import Path

from mesaopt.errors import MesaoptError, RunLockedError
from mesaopt.runs.catalog import is_complete_run

PARTIAL_DIR = ".partial"
TRASH_DIR = ".trash"
RESUME_DIR = "resume"
OWNER_FILE = ".owner.json"
# When this module was imported: a stand-in for "when this process started" in clean_partial.
_PROCESS_START = time.time()


def acquire_run_lock(partial: Path, name: str) -> int:
    """Hold ``.partial/<name>.lock`` exclusively; a one-line ``RunLockedError`` if another process holds it."""
    path = partial / f"{name}.lock"
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise RunLockedError(f"another mesaopt process is running this config right now ({partial / name}); "
                               "wait for it to finish, or use another --root") from None
        except OSError as err:
            os.close(fd)
            raise MesaoptError(f"cannot lock {path} ({err.strerror}); use a --root on a local filesystem") from None
        try:
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)  # the holder released and removed this file after we opened it: lock the new one


def release_run_lock(partial: Path, name: str, fd: int | None) -> None:
    """Remove the lock file, then release the lock (a process that locked the removed file retries on a new one)."""
    if fd is None:
        return
    (partial / f"{name}.lock").unlink(missing_ok=True)
    os.close(fd)


def is_resumable(work_dir: Path) -> bool:
    """Whether a partial run directory holds chunk checkpoints to resume from."""
    return (Path(work_dir) / RESUME_DIR).is_dir()


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
        owner = json.loads((entry / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return True  # older than this process and no readable owner: killed before it wrote one
    if owner.get("host") != socket.gethostname():
        return False  # another machine on a shared filesystem: we cannot tell whether it is alive
    pid = int(owner.get("pid", -1))
    return pid == os.getpid() or not _pid_alive(pid)  # our own pid on an older entry was reused


def clean_partial(root: Path) -> list[Path]:
    """Remove what killed runs left under ``root``; return the removed paths.

    Clears ``.partial`` entries older than this process whose owner process (same host) is gone and that hold
    no chunk checkpoints,
    restores a run that a crash left only in ``.trash`` (killed between moving the old run aside and
    renaming the new one in), and empties ``.trash``. Call it when a new run starts.
    """
    root = Path(root)
    removed: list[Path] = []
    partial = root / PARTIAL_DIR
    if partial.is_dir():
        for entry in sorted(partial.iterdir()):
            if entry.suffix == ".lock" or is_resumable(entry):
                continue  # locks are reused; a resumable run waits for its config to run again
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
