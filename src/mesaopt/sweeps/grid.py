"""A sweep's plan: ``--grid FIELD=V1,V2`` axes, their grid points, and each point's tasks (seed batches).

Every point's config is resolved and validated here, before anything runs, so a bad field or value is one
``MesaoptError`` line and nothing is written. A task is one run of the store: a point is one task, or, with
``seeds_per_task`` K on a preset whose config has ``seed`` and ``n_seeds``, one task per batch of at most K
seeds (batch ``b`` runs seeds from ``seed + b``: a different, deterministic key stream per batch).
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass

from mesaopt.errors import MesaoptError
from mesaopt.runs.config_cli import parse_config
from mesaopt.runs.driver import validate_config
from mesaopt.runs.store import run_name


@dataclass(frozen=True)
class GridAxis:
    """One swept field and its values, as typed on the command line."""

    field: str
    """The config field, dotted for nested configs (``task.d``), spelled with underscores."""
    values: tuple[str, ...]
    """Its values in the order given; a value with spaces is several values of a tuple field."""


@dataclass(frozen=True)
class SweepTask:
    """One run of a sweep: a point's config, or one seed batch of it."""

    run: str
    """The run's name in the store (``<preset>-<config hash>``)."""
    config: dict
    """The run's config as ``dataclasses.asdict`` data (what the worker rebuilds and runs)."""
    seed: int | None
    """The batch's first seed (None when the preset has no ``seed`` field)."""
    n_seeds: int
    """Seeds the run trains (1 when the preset has no ``n_seeds`` field)."""


@dataclass(frozen=True)
class SweepPoint:
    """One grid point: the swept fields' values and the tasks that together make it."""

    values: dict
    """``{field: value as typed}`` for every axis."""
    tasks: tuple[SweepTask, ...]
    """One task, or one per seed batch."""


def parse_grid(specs: list[str]) -> list[GridAxis]:
    """Axes from ``FIELD=V1,V2,...`` strings; one-line errors for a missing ``=``, an empty value, a repeated field."""
    axes: list[GridAxis] = []
    for spec in specs:
        name, eq, text = spec.partition("=")
        field = name.strip().removeprefix("--").replace("-", "_")
        values = tuple(v.strip() for v in text.split(","))
        if not eq or not field:
            raise MesaoptError(f"--grid {spec!r}: expected FIELD=V1,V2,... (e.g. --grid task.d=4,8)")
        if any(not v for v in values):
            raise MesaoptError(f"--grid {spec!r}: empty value; give comma-separated values, e.g. {field}=4,8")
        if field in (a.field for a in axes):
            raise MesaoptError(f"--grid {field} is given twice; give all its values in one --grid {field}=V1,V2")
        axes.append(GridAxis(field, values))
    return axes


def grid_points(axes: list[GridAxis]) -> list[dict]:
    """Every combination of the axes' values, the first axis varying slowest (``[{}]`` for no axes)."""
    return [dict(zip((a.field for a in axes), combo)) for combo in itertools.product(*(a.values for a in axes))]


def point_overrides(values: dict) -> list[str]:
    """Command-line overrides for one point (``{"task.d": "4"}`` → ``["--task.d", "4"]``)."""
    args: list[str] = []
    for field, value in values.items():
        args += [f"--{field}", *value.split()]
    return args


def seed_batches(seed: int, n_seeds: int, per_task: int) -> list[tuple[int, int]]:
    """``(first seed, seeds)`` of each batch: ``n_seeds`` split into batches of at most ``per_task`` (0: one)."""
    if per_task <= 0 or per_task >= n_seeds:
        return [(seed, n_seeds)]
    sizes = [per_task] * (n_seeds // per_task) + ([n_seeds % per_task] if n_seeds % per_task else [])
    return [(seed + b, size) for b, size in enumerate(sizes)]


def _point_tasks(experiment, cfg, per_task: int) -> tuple[SweepTask, ...]:
    names = {f.name for f in dataclasses.fields(cfg)}
    batchable = {"seed", "n_seeds"} <= names
    if per_task and not batchable:
        raise MesaoptError(f"--seeds-per-task needs a preset whose config has seed and n_seeds; {experiment.name} "
                           "has not (leave --seeds-per-task at 0)")
    batches = seed_batches(cfg.seed, cfg.n_seeds, per_task) if batchable else [(getattr(cfg, "seed", None), 1)]
    tasks = []
    for seed, n in batches:
        batch = dataclasses.replace(cfg, seed=seed, n_seeds=n) if batchable else cfg
        validate_config(batch)
        config = dataclasses.asdict(batch)
        tasks.append(SweepTask(run=run_name(experiment.name, {"preset": experiment.name, **config}), config=config,
                               seed=seed, n_seeds=n))
    return tuple(tasks)


def plan_sweep(experiment, axes: list[GridAxis], base_config, per_task: int) -> list[SweepPoint]:
    """Every point of the grid on top of ``base_config``, each resolved, validated and split into tasks.

    A value the field cannot take is one ``MesaoptError`` line naming the point (nothing has run yet)."""
    if per_task < 0:
        raise MesaoptError(f"--seeds-per-task must be 0 (whole points) or a positive integer, got {per_task}")
    points = []
    for values in grid_points(axes):
        try:
            cfg = parse_config(base_config, point_overrides(values), prog=f"mesaopt sweep {experiment.name}")
            validate_config(cfg)
        except MesaoptError as err:
            where = ", ".join(f"{k}={v}" for k, v in values.items())
            raise MesaoptError(f"grid point {where}: {err}") from None
        points.append(SweepPoint(values=values, tasks=_point_tasks(experiment, cfg, per_task)))
    return points
