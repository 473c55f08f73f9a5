"""What runs one sweep task, in a Ray worker or in the sweep's own process: the same driver as ``mesaopt run``.

The task first appends one line to its attempts file (pid, host, time): the count of lines is the task's attempt
count, which survives a killed worker and a killed driver. Then it rebuilds the config from its ``asdict`` data
and drives the run into the shared store, where a complete run of the same config is reused and a killed one is
resumed from its last chunk checkpoint (or started clean), so a retried task never leaves two complete copies.
"""

from __future__ import annotations

import dataclasses
import json
import os
import socket
from pathlib import Path

from mesaopt.experiments import EXPERIMENTS
from mesaopt.runs.catalog import utc_now
from mesaopt.runs.compile_cache import enable_compile_cache
from mesaopt.runs.config_cli import config_from_dict
from mesaopt.runs.driver import drive_run
from mesaopt.runs.store import load_run, run_name

WORKER_ENV_DEFAULTS = {"XLA_PYTHON_CLIENT_PREALLOCATE": "false", "OMP_NUM_THREADS": "1"}
"""Set in every Ray worker: no GPU memory preallocation (several tasks may share a GPU), one OpenMP thread."""


def worker_env(cpus_per_task: int, cache_dir: str | None) -> dict[str, str]:
    """Environment of a sweep's Ray workers, set for the worker (``runtime_env``) rather than inherited.

    One JAX CPU device per CPU the task holds (``XLA_FLAGS`` replaced, not extended: a device count from the
    driver's shell would oversubscribe the node), and the driver's compile cache directory when it named one."""
    env = {**WORKER_ENV_DEFAULTS, "MESAOPT_CPU_DEVICES": str(cpus_per_task),
           "XLA_FLAGS": f"--xla_force_host_platform_device_count={cpus_per_task}"}
    if cache_dir:
        env["MESAOPT_JAX_CACHE"] = cache_dir
    return env


def record_attempt(attempts_file: Path) -> None:
    """Append this attempt (pid, host, UTC time) to the task's attempts file (one short ``O_APPEND`` write)."""
    attempts_file.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started_utc": utc_now()}) + "\n"
    fd = os.open(attempts_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)


def count_attempts(attempts_file: Path) -> int:
    """How many attempts a task has started (0 if none)."""
    try:
        return sum(1 for line in attempts_file.read_text(encoding="utf-8").splitlines() if line.strip())
    except FileNotFoundError:
        return 0


def run_task(spec: dict) -> dict:
    """Run one task: ``spec`` holds ``preset``, ``config`` (asdict data), ``run``, ``root`` and ``attempts_file``.

    Returns ``{"run", "path", "headline", "wall_seconds", "reused"}``. A config that does not rebuild to the
    planned run name (other code on the worker) raises ``RuntimeError`` rather than storing another run."""
    record_attempt(Path(spec["attempts_file"]))
    experiment = EXPERIMENTS[spec["preset"]]
    cfg = config_from_dict(experiment.config, spec["config"])
    name = run_name(experiment.name, {"preset": experiment.name, **dataclasses.asdict(cfg)})
    if name != spec["run"]:
        raise RuntimeError(f"the worker rebuilt {spec['run']} as {name}: is the same mesaopt installed there?")
    enable_compile_cache()
    outcome = drive_run(experiment, cfg, root=Path(spec["root"]))
    meta = load_run(outcome.path)["run"]
    return {"run": name, "path": str(outcome.path), "headline": meta.get("headline") or {},
            "wall_seconds": float(meta.get("wall_seconds", 0.0)), "reused": outcome.reused}
