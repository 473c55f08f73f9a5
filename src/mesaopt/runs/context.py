"""What a run function gets from the driver besides its config."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass
class RunContext:
    """What a run function gets from the driver besides its config."""

    writer: Any
    """The run's :class:`~mesaopt.runs.store.RunWriter`: ``writer.path(rel)`` and ``writer.write_json(rel, obj)``."""
    checkpoints: Any = None
    """A :class:`~mesaopt.runs.resume.ChunkCheckpoints` for ``train_in_chunks(..., store=...)`` (None: no resume).
    It serves one training phase; a run that trains twice gives its second phase its own store,
    ``ChunkCheckpoints(writer.work_dir, tag="phase-2")``, so neither resumes from the other's checkpoints."""
    on_chunk: Callable | None = None
    """``on_chunk(done, total, metrics_of_chunk)`` after each training chunk (progress)."""
    on_phase: Callable | None = None
    """``on_phase(name)`` when the run enters another phase (e.g. ``"evaluating"``)."""

    def phase(self, name: str) -> None:
        """Tell the shell the run entered phase ``name``."""
        if self.on_phase is not None:
            self.on_phase(name)
