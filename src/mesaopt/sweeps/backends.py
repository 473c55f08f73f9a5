"""Where a sweep's tasks run: Ray tasks (a local instance or a cluster), or one after another in this process.

Both call :func:`mesaopt.sweeps.worker.run_task` and report each task through ``on_result(run, result, error)``:
``result`` the task's return value, or ``error`` one line. On Ray a task whose worker dies (killed, out of
memory, its node lost) is retried up to ``retries`` times (Ray's task retries); an error the task raises itself
(a bad config, a diverged training) is not retried: the same config would fail the same way.

The local instance runs with the dashboard off, usage statistics off and Ray's token authentication on (Ray
2.60's default; mesaopt never turns it off). Ray 2.60 offers no way to keep its servers on the loopback
interface: its gRPC ports listen on every interface whatever ``node_ip_address`` says (measured with ``ss
-ltnp``; docs/sweeps.md), so a machine on a shared network needs a firewall or a private network.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass

from mesaopt.errors import MesaoptError
from mesaopt.sweeps.worker import run_task, worker_env

OnResult = Callable[[str, dict | None, str | None], None]
LOCAL_OBJECT_STORE_BYTES = 200 * 1024**2
"""The local instance's object store: tasks return a headline, not arrays (Ray's default takes 30 % of RAM)."""


@dataclass(frozen=True)
class RaySettings:
    """How the sweep uses Ray."""

    address: str | None
    """None: start a local instance for this sweep; else ``auto``, ``host:port`` or ``ray://host:port``."""
    workers: int
    """CPUs of the local instance (one task per CPU by default); ignored with an address."""
    cpus_per_task: int
    """CPUs each task holds (and JAX CPU devices it gets)."""
    retries: int
    """Ray task retries after a worker dies."""
    cache_dir: str | None
    """The compile cache directory to give workers (None: their own default)."""


def ray_installed() -> bool:
    """Whether the ``ray`` extra is importable."""
    return importlib.util.find_spec("ray") is not None


def run_in_process(specs: list[dict], on_submit: Callable[[str], None], on_result: OnResult) -> None:
    """Run the tasks one after another here (no Ray)."""
    for spec in specs:
        on_submit(spec["run"])
        try:
            result = run_task(spec)
        except MesaoptError as err:
            on_result(spec["run"], None, str(err))
        else:
            on_result(spec["run"], result, None)


def _connect(settings: RaySettings) -> None:
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if settings.address is None:
        os.environ.setdefault("RAY_worker_niceness", "0")  # Ray's default 15 starves workers beside other work
        with warnings.catch_warnings():  # Ray starts its servers with fork + exec, which JAX's fork hook warns of
            warnings.filterwarnings("ignore", message="os.fork", category=RuntimeWarning)
            ray.init(num_cpus=settings.workers, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, object_store_memory=LOCAL_OBJECT_STORE_BYTES)
    else:
        try:
            ray.init(address=settings.address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, ValueError, RuntimeError) as err:
            raise MesaoptError(f"cannot join the Ray cluster at --address {settings.address}: {_first_line(err)} "
                               "(a cluster with token authentication, Ray's default, needs RAY_AUTH_MODE=token and "
                               "its token in RAY_AUTH_TOKEN or ~/.ray/auth_token; docs/sweeps.md)") from None


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _task_error(err: BaseException) -> str:
    """One line for a failed Ray task: the task's own exception where Ray kept it."""
    cause = getattr(err, "cause", None)
    return _first_line(cause) if isinstance(cause, BaseException) else f"{type(err).__name__}: {_first_line(err)}"


def run_on_ray(specs: list[dict], settings: RaySettings, on_submit: Callable[[str], None],
               on_result: OnResult) -> None:
    """Submit every task to Ray and report each as it finishes; shuts down the connection afterwards."""
    import ray

    _connect(settings)
    try:
        remote = ray.remote(run_task).options(
            num_cpus=settings.cpus_per_task, max_retries=settings.retries, retry_exceptions=False,
            runtime_env={"env_vars": worker_env(settings.cpus_per_task, settings.cache_dir)})
        pending = {}
        for spec in specs:
            pending[remote.remote(spec)] = spec["run"]
            on_submit(spec["run"])
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                run = pending.pop(ref)
                try:
                    result = ray.get(ref)
                except ray.exceptions.RayError as err:
                    on_result(run, None, _task_error(err))
                else:
                    on_result(run, result, None)
    finally:
        ray.shutdown()
