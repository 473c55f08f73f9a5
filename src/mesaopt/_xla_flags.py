"""XLA flags mesaopt needs, applied before JAX's CPU backend starts.

``--xla_cpu_enable_concurrency_optimized_scheduler=false``: with jaxlib 0.10.2 on a 2-core CPU, programs that
``vmap`` PPO over seeds intermittently deadlock inside XLA: every worker thread idles in
``Eigen::ThreadPool::WaitForWork`` while the caller waits in ``BlockUntilReady`` (0 % CPU, forever). A 2-seed
egocentric-maze init hung 3/3 times without the flag and finished 3/3 with it (bit-identical numbers, no
slower). This is the "vmap over seeds hangs" of DESIGN.md §10. Set ``MESAOPT_KEEP_XLA_SCHEDULER=1`` to skip.

``--xla_force_host_platform_device_count=N``: one JAX CPU device per usable core (at most
:data:`MAX_CPU_DEVICES`), so that :func:`mesaopt.optimizers.chunks.train_in_chunks` can split the seeds of a run
across cores. A vmapped program runs on one core (XLA's intra-op threads buy little at PPO's sizes); split over
2 devices, 8 PPO seeds trained 1.3-1.5x faster on 2 cores. Nothing else changes: computations without a
sharding still run on device 0. ``MESAOPT_CPU_DEVICES=N`` sets the count; a count the user already put in
``XLA_FLAGS`` wins.
"""

from __future__ import annotations

import os
import sys

_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler=false"
_DEVICE_COUNT_FLAG = "xla_force_host_platform_device_count"
MAX_CPU_DEVICES = 16
"""Upper bound on the CPU devices mesaopt asks for by default."""


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the OS reports one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def cpu_device_count() -> int:
    """CPU devices to ask for: ``MESAOPT_CPU_DEVICES`` if set, else the usable cores, capped."""
    requested = os.environ.get("MESAOPT_CPU_DEVICES", "").strip()
    if requested.isdigit() and int(requested) >= 1:
        return int(requested)
    if requested:  # at import time: one line, then the default (a traceback here would hide the cause)
        print(f"mesaopt: ignoring MESAOPT_CPU_DEVICES={requested!r} (allowed: a positive integer)", file=sys.stderr)
    return max(1, min(usable_cores(), MAX_CPU_DEVICES))


def apply_xla_flags() -> None:
    """Append mesaopt's XLA flags to ``XLA_FLAGS``, leaving alone any the user set (or opted out of)."""
    flags = os.environ.get("XLA_FLAGS", "")
    if not os.environ.get("MESAOPT_KEEP_XLA_SCHEDULER") and "xla_cpu_enable_concurrency_optimized_scheduler" not in flags:
        flags = f"{flags} {_FLAG}"
    if _DEVICE_COUNT_FLAG not in flags:
        flags = f"{flags} --{_DEVICE_COUNT_FLAG}={cpu_device_count()}"
    os.environ["XLA_FLAGS"] = flags.strip()
