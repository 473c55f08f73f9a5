"""Small pieces every experiment uses: pytree indexing, learning-curve thinning, a stored run's config."""

from __future__ import annotations

import jax
import numpy as np

from mesaopt.runs.config_cli import config_from_dict
from mesaopt.runs.store import load_run

MAX_CURVE_POINTS = 200
"""Learning curves in a report keep at most about this many points."""


def take(tree, index):
    """Row ``index`` (an int or a slice) of every leaf of a pytree stacked over runs."""
    return jax.tree_util.tree_map(lambda x: x[index], tree)


def curve_indices(n_steps: int, max_points: int = MAX_CURVE_POINTS) -> np.ndarray:
    """Indices of the steps a learning curve keeps: every ``stride``-th, ≲ ``max_points`` of them."""
    return np.arange(0, n_steps, max(1, n_steps // max_points))


def stored_config(run_dir, default):
    """``(config, run record)`` of a stored run: its ``config.json`` read back into ``default``'s dataclass.

    Raises ``NotARunError`` for a directory that is not a complete run (one line).
    """
    record = load_run(run_dir)
    cfg = config_from_dict(default, {k: v for k, v in record["config"].items() if k != "preset"})
    return cfg, record


def checkpoint_path(record: dict) -> str:
    """Where a stored run keeps its trained parameters."""
    return f"{record['path']}/checkpoints/params.safetensors"
