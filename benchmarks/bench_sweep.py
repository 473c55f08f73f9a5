"""Sweep throughput: points per hour of ``mesaopt sweep`` on a local Ray instance with 1 and 2 workers, against
``mesaopt run`` in a shell loop (one process per point), on the same grid, side by side.

Every side runs the same P points (``icl-gd`` at its defaults with one seed, ``--grid seed=0..P-1``) into a fresh
run store, so nothing is reused; the compile cache is warmed once before timing (every point compiles the same
programs), so the figures are training, evaluation, reports and process or worker start-up. Repeats are
interleaved across sides (round robin); the medians and their ratios are printed and written to
``benchmarks/results/sweep.json``. Runs in mesaopt's own venv with the ``ray`` extra (``make test`` installs it):

    .venv/bin/python benchmarks/bench_sweep.py            # about 8 minutes on 2 cores (6 points, 2 repeats)
    .venv/bin/python benchmarks/bench_sweep.py --points 4 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MESAOPT = str(Path(sys.executable).parent / "mesaopt")
PRESET_ARGS = ["icl-gd", "--n-seeds", "1"]
SIDES = ("run-loop", "sweep-1-worker", "sweep-2-workers")


def _run(cmd: list[str], env: dict) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - started


def _cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of all cores from /proc/stat ((0, 0) where there is none)."""
    try:
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return sum(fields) - idle, sum(fields)


def busy_cores(side: str, points: int, env: dict) -> tuple[float, float]:
    """``(wall seconds, mean busy cores of the machine)`` for one side (busy cores: from /proc/stat)."""
    busy0, total0 = _cpu_jiffies()
    wall = time_side(side, points, env)
    busy1, total1 = _cpu_jiffies()
    share = (busy1 - busy0) / (total1 - total0) if total1 > total0 else float("nan")
    return wall, share * (os.cpu_count() or 1)


def time_side(side: str, points: int, env: dict) -> float:
    """Wall seconds for one side to store every point in a fresh root."""
    root = Path(tempfile.mkdtemp(prefix="bench-sweep-"))
    try:
        if side == "run-loop":
            started = time.perf_counter()
            for seed in range(points):
                _run([MESAOPT, "run", *PRESET_ARGS, "--seed", str(seed), "--root", str(root)], env)
            return time.perf_counter() - started
        workers = "1" if side == "sweep-1-worker" else "2"
        seeds = ",".join(str(s) for s in range(points))
        return _run([MESAOPT, "sweep", *PRESET_ARGS, "--grid", f"seed={seeds}", "--workers", workers,
                     "--root", str(root)], env)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ratios(per_hour: dict[str, float]) -> dict[str, float]:
    """Points per hour of 2 workers over 1 worker and over the run loop (where both sides ran)."""
    two = per_hour.get("sweep-2-workers")
    pairs = {"2 workers / 1 worker": "sweep-1-worker", "2 workers / run loop": "run-loop"}
    return {name: two / per_hour[base] for name, base in pairs.items() if two and base in per_hour}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sides", default=",".join(SIDES), help="comma-separated subset of: " + ", ".join(SIDES))
    args = parser.parse_args()
    cache = tempfile.mkdtemp(prefix="bench-sweep-cache-")
    env = {**os.environ, "MESAOPT_JAX_CACHE": cache, "RAY_USAGE_STATS_ENABLED": "0"}
    warm = time_side("run-loop", 1, env)
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    unknown = sorted(set(sides) - set(SIDES))
    if unknown:
        parser.error(f"unknown sides {unknown}; allowed: {', '.join(SIDES)}")
    samples: dict[str, list[float]] = {side: [] for side in sides}
    cores: dict[str, list[float]] = {side: [] for side in sides}
    for repeat in range(args.repeats):
        for side in sides:
            wall, busy = busy_cores(side, args.points, env)
            samples[side].append(wall)
            cores[side].append(busy)
            print(f"repeat {repeat + 1}: {side}: {wall:.1f} s, {busy:.2f} cores busy", flush=True)
    medians = {side: statistics.median(v) for side, v in samples.items()}
    per_hour = {side: args.points * 3600 / m for side, m in medians.items()}
    result = {"points": args.points, "repeats": args.repeats, "preset_args": PRESET_ARGS, "warm_up_seconds": warm,
              "samples_seconds": samples, "median_seconds": medians,
              "busy_cores": cores, "points_per_hour": per_hour,
              "ratios": _ratios(per_hour), "cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version()}
    out = HERE / "results" / "sweep.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    shutil.rmtree(cache, ignore_errors=True)
    print(f"\n{args.points} points of {' '.join(PRESET_ARGS)}, median of {args.repeats} ({result['cpu']})")
    for side in sides:
        print(f"{side:18s} {medians[side]:7.1f} s   {per_hour[side]:7.0f} points/hour   "
              f"{statistics.median(cores[side]):.2f} cores busy")
    print("; ".join(f"{k}: {v:.2f}x" for k, v in result["ratios"].items()) + f"   -> {out}")


if __name__ == "__main__":
    main()
