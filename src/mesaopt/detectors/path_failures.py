"""How a maze solver's final answer is wrong. Per maze, from the share of its path the readout misses and the
number of cells it calls path that are not: *right* (nothing missing, nothing extra), *erased* (more than half the
path missing and nothing extra: a filling that ate the path), *unfilled* (the whole path on, dead-end cells left
on: a filling that stopped short or skipped cells) or *other* (mostly both: path cells missing and extra cells
on). A dead-end filler that stops at the path is always right; the same filler with the goal blanked erases;
stopped after one round it leaves dead ends unfilled (``tests/detectors/test_path_failures.py``)."""

from __future__ import annotations

import numpy as np

FAILURE_KINDS = ("right", "erased", "unfilled", "other")
"""The kinds, in report order."""
ERASED_ABOVE = 0.5
"""An answer with no extra cell counts as erased when more than this share of its path is missing."""


def failure_kinds(missing_share, extra_cells) -> np.ndarray:
    """Per maze, the index in :data:`FAILURE_KINDS` of its answer, from the share of its path the answer misses and
    the number of extra cells it has. An answer with no extra cell and at most :data:`ERASED_ABOVE` of the path
    missing counts as *other* (a partly broken path, not an erased one)."""
    missing, extra = np.asarray(missing_share), np.asarray(extra_cells)
    kinds = np.full(missing.shape, FAILURE_KINDS.index("other"))
    kinds[(missing == 0) & (extra == 0)] = FAILURE_KINDS.index("right")
    kinds[(missing > ERASED_ABOVE) & (extra == 0)] = FAILURE_KINDS.index("erased")
    kinds[(missing == 0) & (extra > 0)] = FAILURE_KINDS.index("unfilled")
    return kinds


def failure_shares(kinds) -> dict[str, float]:
    """The share of mazes of each kind."""
    kinds = np.asarray(kinds)
    return {name: round(float(np.mean(kinds == i)), 4) for i, name in enumerate(FAILURE_KINDS)}
