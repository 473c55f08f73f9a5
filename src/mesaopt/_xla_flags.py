"""XLA flags mesaopt needs, applied before JAX's CPU backend starts.

``--xla_cpu_enable_concurrency_optimized_scheduler=false``: with jaxlib 0.10.2 on a 2-core CPU, programs that
``vmap`` PPO over seeds intermittently deadlock inside XLA: every worker thread idles in
``Eigen::ThreadPool::WaitForWork`` while the caller waits in ``BlockUntilReady`` (0 % CPU, forever). A 2-seed
egocentric-maze init hung 3/3 times without the flag and finished 3/3 with it (bit-identical numbers, no
slower). This is the "vmap over seeds hangs" of DESIGN.md §10. Set ``MESAOPT_KEEP_XLA_SCHEDULER=1`` to skip.
"""

from __future__ import annotations

import os

_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler=false"


def apply_xla_flags() -> None:
    """Append mesaopt's XLA flags to ``XLA_FLAGS`` unless the user set that flag or opted out."""
    if os.environ.get("MESAOPT_KEEP_XLA_SCHEDULER"):
        return
    current = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_enable_concurrency_optimized_scheduler" not in current:
        os.environ["XLA_FLAGS"] = f"{current} {_FLAG}".strip()
