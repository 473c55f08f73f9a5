"""Shared plumbing for the side-by-side benchmarks: one driver, one worker subprocess per side.

Each side (mesaopt, a peer) runs in its own subprocess and answers JSON requests one line at a time, so a peer
that needs another venv (another jax, another torch) only needs another interpreter: set
``MESAOPT_BENCH_PYTHON_<SIDE>`` (e.g. ``MESAOPT_BENCH_PYTHON_NAVIX=benchmarks/.venv-navix/bin/python``). By default
every side runs on ``benchmarks/.venv-peers/bin/python`` (made by ``benchmarks/setup.sh``).

Workers are started and warmed up one after another (never two compiling at once on a 2-core machine); then the
driver interleaves the timed repeats across sides (round-robin), so a burst of load from another process on a
shared machine hits every side instead of one. Each number is a median over the repeats.

The driver imports nothing but the standard library, so it runs on any Python >= 3.10.
"""

from __future__ import annotations

import json
import os
import platform
import queue
import statistics
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PEERS_PYTHON = BENCH_DIR / ".venv-peers" / "bin" / "python"


def side_python(side: str) -> str:
    """The interpreter a side runs on: ``MESAOPT_BENCH_PYTHON_<SIDE>``, else the peers' venv, else this one."""
    override = os.environ.get(f"MESAOPT_BENCH_PYTHON_{side.upper().replace('-', '_')}")
    if override:
        return override
    return str(PEERS_PYTHON) if PEERS_PYTHON.exists() else sys.executable


class WorkerFailed(RuntimeError):
    """A worker died, timed out or reported an error."""


class WorkerError(WorkerFailed):
    """A worker reported that one request failed; it is still running and can take the next one."""


class Worker:
    """A side's subprocess: ``python SCRIPT --worker SIDE``, spoken to in JSON lines."""

    def __init__(self, script: Path, side: str, *, env: dict[str, str] | None = None, start_timeout: float = 600):
        self.side = side
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = RESULTS_DIR / f"{script.stem}-{side}.log"
        self._log = open(self.log_path, "a")
        self._log.write(f"\n===== {time.strftime('%Y-%m-%d %H:%M:%S')} {side} =====\n")
        self._log.flush()
        self.proc = subprocess.Popen(
            [side_python(side), str(script), "--worker", side],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=str(REPO),
            env={**os.environ, **(env or {})},
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.info = self._receive(start_timeout)

    def _pump(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def _receive(self, timeout: float) -> dict:
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            self.kill()
            raise WorkerFailed(f"{self.side}: no answer within {timeout:.0f} s (killed; log: {self.log_path})")
        if line is None:
            self.proc.wait()
            raise WorkerFailed(f"{self.side}: worker exited with code {self.proc.returncode} (log: {self.log_path})")
        reply = json.loads(line)
        if "error" in reply:
            self._log.write(reply["error"])
            self._log.flush()
            raise WorkerError(f"{self.side}: {reply['error'].strip().splitlines()[-1]} (log: {self.log_path})")
        return reply

    def request(self, timeout: float = 600, **message) -> dict:
        if self.proc.poll() is not None:
            raise WorkerFailed(f"{self.side}: worker is not running (log: {self.log_path})")
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        return self._receive(timeout)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (BrokenPipeError, subprocess.TimeoutExpired):
                self.kill()
        self._log.close()


def key_name(key: tuple) -> str:
    return " / ".join(str(k) for k in key)


def measure_variant_sides(script: Path, variants: dict, sides, repeats: int, *, env=None, tag: str = "",
                          prepare_timeout: float = 900, measure_timeout: float | None = None):
    """Prepare every variant of every side in ``sides`` (``variants[side]``: variant names), time them round robin
    and close the workers: ``(samples, {key: compile_s}, {key: error}, {side: worker info})``."""
    workers, compile_s, errors, info = {}, {}, {}, {}
    for side in sides:
        worker, compiled, failed = prepare_side(script, side, [{"variant": v} for v in variants[side]], env=env,
                                                timeout=prepare_timeout, tag=tag)
        compile_s.update(compiled)
        errors.update(failed)
        if worker is not None:
            workers[side] = worker
            info[side] = {k: v for k, v in worker.info.items() if k != "ready"}
    items = {key: {"variant": key[1]} for key in compile_s if key[0] in workers}
    timeout = {} if measure_timeout is None else {"timeout": measure_timeout}
    samples = measure_round_robin(workers, items, repeats, errors, tag=tag, **timeout)
    for worker in workers.values():
        worker.close()
    return samples, compile_s, errors, info


def prepare_side(script: Path, side: str, items: list[dict], *, env=None, timeout: float = 900, tag: str = ""):
    """Start ``side``'s worker and send ``prepare`` for each item (a dict of request fields).

    Returns ``(worker or None, {key: compile_s}, {key: error})`` with ``key = (side, *item.values())``. An item
    the worker reports as failed is skipped; a worker that dies or hangs ends the side.
    """
    compile_s, errors = {}, {}
    print(f"[{tag}] starting {side} ...", flush=True)
    try:
        worker = Worker(script, side, env=env)
    except WorkerFailed as err:
        print(f"[{tag}] {err}", flush=True)
        return None, compile_s, {(side,): str(err)}
    for item in items:
        key = (side, *item.values())
        print(f"[{tag}] {side}: preparing {key_name(key[1:])} ...", flush=True)
        try:
            compile_s[key] = worker.request(op="prepare", timeout=timeout, **item)["compile_s"]
        except (WorkerError, WorkerFailed) as err:
            _record_error(errors, key, err, tag)
            if isinstance(err, WorkerFailed):  # the worker is gone: end this side
                return None, compile_s, errors
    return worker, compile_s, errors


def _record_error(errors: dict, key: tuple, err: Exception, tag: str) -> None:
    errors[key] = str(err)
    print(f"[{tag}] {err}", flush=True)


def chunk_benchmark_main(doc: str, sides: dict, setups: dict, run_driver, report, results_name: str, *,
                         repeats: int, chunk_flag: str, chunk_default: int, chunk_help: str, env_var: str) -> None:
    """``main()`` of a benchmark timed in chunks: ``--repeats``, ``chunk_flag`` (its value reaches the workers
    through ``env_var``, which ``run_driver`` sets), ``--sides``; a worker process serves ``setups[side](n)``."""
    import argparse

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=repeats, help="timed chunks per row (median reported)")
    parser.add_argument(chunk_flag, type=int, default=chunk_default, help=chunk_help)
    parser.add_argument("--sides", type=lambda text: text.split(","), default=list(sides))
    args = parser.parse_args()
    if args.worker:
        per_chunk = int(os.environ.get(env_var, str(chunk_default)))
        serve(lambda: setups[args.worker](per_chunk))
        return
    run_benchmark(args, sides, run_driver, report, results_name, parser)


def run_benchmark(args, sides, run_driver, report, results_name: str, parser) -> None:
    """The driver side of a benchmark script: check ``--sides``, measure, print, write the JSON."""
    unknown = [s for s in args.sides if s not in sides]
    if unknown:
        parser.error(f"unknown side(s) {unknown}; allowed: {list(sides)}")
    result = run_driver(args)
    report(result)
    cpu = result.get("machine", {}).get("cpu") or cpu_info()
    features = " ".join(cpu["vector_features"]) or "none found"
    print(f"\nCPU: {cpu['model']}, {os.cpu_count()} cores; vector features: {features}")
    print(f"\nwrote {write_json(results_name, result)}")


def measure_round_robin(workers: dict, items: dict[tuple, dict], repeats: int, errors: dict, *,
                        timeout: float = 600, tag: str = "", **extra) -> dict:
    """``repeats`` rounds; each round measures every item once, sides interleaved. Returns {key: [steps/s]}.

    ``items`` maps a key ``(side, ...)`` to its request fields; keys whose side has no worker are skipped.
    """
    samples = {key: [] for key in items}
    for rep in range(repeats):
        print(f"[{tag}] repeat {rep + 1}/{repeats}", flush=True)
        for key, fields in items.items():
            side = key[0]
            if side not in workers or key in errors:
                continue
            try:
                reply = workers[side].request(op="measure", timeout=timeout, **fields, **extra)
                samples[key].append(reply["steps_per_s"])
            except (WorkerError, WorkerFailed) as err:
                _record_error(errors, key, err, tag)
                if isinstance(err, WorkerFailed):
                    workers.pop(side).kill()
    return samples


def serve(setup) -> None:
    """Worker main loop. ``setup() -> (info, handle)``; ``handle(message) -> reply`` for every request.

    JSON goes to the original stdout; everything libraries print is moved to stderr (the worker's log).
    """
    channel = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def send(obj) -> None:
        channel.write(json.dumps(obj) + "\n")
        channel.flush()

    try:
        info, handle = setup()
    except Exception:  # report the failure to the driver instead of dying silently
        send({"error": traceback.format_exc()})
        return
    send({"ready": True, **info})
    for line in sys.stdin:
        message = json.loads(line)
        if message.get("op") == "quit":
            break
        try:
            send(handle(message))
        except Exception:  # one failing request (a peer's bug) must not lose the others' results
            send({"error": traceback.format_exc()})


def chunk_handler(prepare_fn):
    """Worker handler for sides timed in chunks. ``prepare_fn(variant) -> (setup_s, run_chunk(), steps_per_chunk)``;
    ``prepare`` runs one warm-up chunk (compiles, fills caches), ``measure`` times one chunk."""
    prepared = {}

    def handle(msg):
        variant = msg["variant"]
        if msg["op"] == "prepare":
            setup_s, run_chunk, steps = prepare_fn(variant)
            run_chunk()  # warm-up chunk
            prepared[variant] = (run_chunk, steps)
            return {"compile_s": setup_s}
        run_chunk, steps = prepared[variant]
        return {"steps_per_s": time_calls(run_chunk, steps, 0.0)}

    return handle


def time_calls(run_once, steps_per_call: int, seconds: float) -> float:
    """Steps per second over as many back-to-back calls of ``run_once`` as fit in ``seconds`` (at least one)."""
    calls, start = 0, time.perf_counter()
    while True:
        run_once()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * steps_per_call / elapsed


def median_seconds(fn, *args, repeats: int) -> float:
    """Median wall seconds of ``fn(*args)``, jitted, over ``repeats`` calls after one warm-up call. For the
    mesaopt-only profiles (jax is imported here, not at the top: the driver stays standard-library only)."""
    import jax

    fn = jax.jit(fn)
    jax.block_until_ready(fn(*args))
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def summarize(samples: list[float]) -> dict:
    return {
        "median": statistics.median(samples),
        "min": min(samples),
        "max": max(samples),
        "samples": samples,
    }


VECTOR_FEATURES = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16",
                   "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8", "asimd", "sve")
"""CPU flags that decide which matmul/convolution kernels a library can use (x86 and Arm)."""


def cpu_info() -> dict:
    """The CPU's model name and the vector features of :data:`VECTOR_FEATURES` it has (from /proc/cpuinfo),
    so that figures from different machines can be told apart."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                model = value.strip()
            elif key.strip() in ("flags", "Features"):
                flags.update(value.split())
    except OSError:
        pass
    return {"model": model, "vector_features": [f for f in VECTOR_FEATURES if f in flags]}


def machine_info() -> dict:
    return {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "cpu": cpu_info(),
        "loadavg_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def write_json(name: str, payload: dict) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)
    return path


def median_of(rows: list[dict], side: str, variant: str) -> float | None:
    """The median steps/s of one (side, variant) row of a result, or None if it was not measured."""
    return next((r["median"] for r in rows if r["side"] == side and r["variant"] == variant), None)


def print_ratio(label: str, ours: float | None, theirs: float | None, digits: int = 1) -> float | None:
    """Print ``label: ours/s vs theirs/s = ratio x`` (or ``n/a``) and return the ratio."""
    if ours is None or theirs is None:
        print(f"  {label}: n/a")
        return None
    print(f"  {label}: {ours:.{digits}f}/s vs {theirs:.{digits}f}/s = {ours / theirs:.2f}x")
    return ours / theirs


def fmt_rate(x: float | None) -> str:
    if x is None:
        return "-"
    if x >= 1e6:
        return f"{x / 1e6:.2f} M"
    if x >= 1e3:
        return f"{x / 1e3:.1f} k"
    return f"{x:.0f}"


def print_table(headers: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    print(line)
    print("-" * len(line))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))


def verdict(ratio: float | None, target: float) -> str:
    if ratio is None:
        return "n/a"
    return f"{'meets' if ratio >= target else 'MISSES'} target >= {target:g}x"
