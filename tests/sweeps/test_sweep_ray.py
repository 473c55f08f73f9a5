"""``mesaopt sweep --address`` on a real two-CPU Ray cluster on this machine, started and stopped by the test: a
worker killed with SIGKILL mid-task is retried, every point ends complete exactly once, and the same sweep again
reuses every run. Skipped, with the reason, without the ``ray`` extra (``make test`` installs it)."""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the ray extra is not installed (pip install 'mesaopt[ray]'; make test does)")

from mesaopt.runs.catalog import is_complete_run  # noqa: E402

TINY_GD = ["--task.d", "3", "--task.n-context", "6", "--train.steps", "60", "--train.batch-size", "64",
           "--n-seeds", "1", "--eval-prompts", "128", "--n-chunks", "2"]
GRID = ["--grid", "seed=10,11,12"]
START_TIMEOUT_S = 120
SWEEP_TIMEOUT_S = 400


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kill_processes_mentioning(text: str) -> None:
    """SIGKILL every process whose command line names ``text`` (this cluster's temp dir: nothing else)."""
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


@pytest.fixture(scope="module")
def cluster():
    """``(address, env)`` of a head node on this machine with 2 CPUs, no dashboard, its own token and temp dir."""
    temp = tempfile.mkdtemp(prefix="mray-")  # short: Ray's socket paths must fit in 107 characters
    port = _free_port()
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_worker_niceness": "0",
           "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16)}  # the suite's MESAOPT_JAX_CACHE too
    log = Path(temp + ".log")
    with log.open("w") as out:
        head = subprocess.Popen([str(Path(sys.executable).parent / "ray"), "start", "--head", "--block",
                                 f"--port={port}", "--num-cpus=2", "--include-dashboard=false",
                                 f"--temp-dir={temp}", "--disable-usage-stats"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while "Ray runtime started" not in log.read_text():
            assert head.poll() is None and time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.5)
        yield f"127.0.0.1:{port}", env
    finally:
        head.terminate()
        try:
            head.wait(timeout=30)
        except subprocess.TimeoutExpired:
            head.kill()
        _kill_processes_mentioning(temp)
        shutil.rmtree(temp, ignore_errors=True)  # Ray's session logs and sockets
        log.unlink(missing_ok=True)


def _sweep(root: Path, env: dict, *where: str) -> subprocess.Popen:
    return subprocess.Popen([str(Path(sys.executable).parent / "mesaopt"), "sweep", "icl-gd", "--root", str(root),
                             *where, *GRID, *TINY_GD],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _first_attempt(root: Path, sweep: subprocess.Popen) -> tuple[str, int]:
    """``(run, pid)`` of the first task a worker starts."""
    deadline = time.monotonic() + SWEEP_TIMEOUT_S
    while time.monotonic() < deadline:
        for path in root.glob("sweeps/*/attempts/*.jsonl"):
            text = path.read_text()
            if text.endswith("\n"):
                return path.stem, json.loads(text.splitlines()[0])["pid"]
        assert sweep.poll() is None, sweep.communicate()
        time.sleep(0.05)
    raise AssertionError("no task started")


def test_a_killed_worker_is_retried_and_every_point_completes_once_then_the_sweep_reuses_them(cluster, tmp_path):
    address, env = cluster
    sweep = _sweep(tmp_path, env, "--address", address)
    victim, pid = _first_attempt(tmp_path, sweep)
    assert not is_complete_run(tmp_path / victim)  # still running: the kill lands mid-task
    os.kill(pid, signal.SIGKILL)
    out, err = sweep.communicate(timeout=SWEEP_TIMEOUT_S)
    assert sweep.returncode == 0, err[-3000:]
    directory = Path(out.strip().splitlines()[-1])
    state = json.loads((directory / "sweep.json").read_text())
    assert state["points_by_status"] == {"complete": 3, "failed": 0, "pending": 0}
    attempts = {t["run"]: t["attempts"] for p in state["points"] for t in p["tasks"]}
    assert attempts[victim] == 2 and sorted(attempts.values()) == [1, 1, 2]
    stored = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("icl-gd-"))
    assert stored == sorted(attempts) and all(is_complete_run(tmp_path / name) for name in stored)
    again = _sweep(tmp_path, env, "--backend", "in-process")  # reuse is decided before any backend starts
    out2, err2 = again.communicate(timeout=SWEEP_TIMEOUT_S)
    assert again.returncode == 0 and "3 already in the store, 0 to run" in err2, err2[-3000:]
    assert json.loads((directory / "sweep.json").read_text())["points"] == state["points"]
