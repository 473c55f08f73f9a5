"""Chunk checkpoints of a run in progress, so that a killed run resumes where it stopped.

:class:`ChunkCheckpoints` is the :class:`~mesaopt.optimizers.chunks.ChunkStore` of a run's partial directory.
After chunk ``k`` it writes ``resume/chunk-<k>/`` (the whole training state as safetensors with a JSON sidecar,
the metrics so far, and ``progress.json`` last) into a temp directory, renames it into place, and only then
deletes the previous chunk's directory, so a kill at any moment leaves at least one complete checkpoint.
Loading picks the newest complete one whose layout (runs, padding, steps per chunk, chunks) matches.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from mesaopt.errors import CheckpointError
from mesaopt.optimizers.chunks import ChunkProgress
from mesaopt.runs.checkpoints import atomic_write_json, load_checkpoint, save_checkpoint
from mesaopt.runs.partial import RESUME_DIR
from mesaopt.runs.versions import source_fingerprint

PROGRESS_FILE = "progress.json"


def _chunk_dir_name(done: int) -> str:
    return f"chunk-{done:06d}"


class ChunkCheckpoints:
    """Chunk checkpoints under ``<run work dir>/resume/`` (see the module docstring)."""

    def __init__(self, work_dir: Path, tag: str = "train", on_resume=None) -> None:
        self.root = Path(work_dir) / RESUME_DIR / tag
        """Folder of this training phase's checkpoints (``tag`` tells phases of one run apart)."""
        self.on_resume = on_resume
        """``on_resume(done, n_chunks)`` when :meth:`load` finds a checkpoint to continue from."""
        self.resumed_from = 0
        """The chunk the last :meth:`load` resumed after (0: nothing to resume)."""
        self.code = source_fingerprint()
        """The fingerprint of the code that writes (and may resume) these checkpoints."""

    def complete_dirs(self) -> list[Path]:
        """Complete checkpoint directories, newest first."""
        if not self.root.is_dir():
            return []
        dirs = [d for d in self.root.iterdir() if d.name.startswith("chunk-") and (d / PROGRESS_FILE).is_file()]
        return sorted(dirs, key=lambda d: d.name, reverse=True)

    def save(self, done: int, state: Any, metrics: dict[str, np.ndarray], layout: dict) -> None:
        """Write the checkpoint of chunk ``done``, then drop older ones."""
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{_chunk_dir_name(done)}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        save_checkpoint(tmp / "state.safetensors", state, {"chunk": done, **layout})
        save_file({k: np.ascontiguousarray(v) for k, v in metrics.items()}, str(tmp / "metrics.safetensors"))
        atomic_write_json(tmp / PROGRESS_FILE, {"done": done, "layout": layout, "code": self.code})
        final = self.root / _chunk_dir_name(done)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in self.complete_dirs():
            if old != final:  # older chunks, and unusable ones of another layout or code (even if numbered higher)
                shutil.rmtree(old, ignore_errors=True)

    def load(self, like_state: Any, layout: dict) -> ChunkProgress | None:
        """The newest complete checkpoint of this ``layout`` restored into ``like_state``'s structure, or None."""
        for folder in self.complete_dirs():
            try:
                progress = json.loads((folder / PROGRESS_FILE).read_text(encoding="utf-8"))
                if progress.get("layout") != layout or progress.get("code") != self.code:
                    continue  # another device count or chunking, or other code: not the same computation
                state = load_checkpoint(folder / "state.safetensors", like_state, {"chunk": progress["done"]})
                metrics = load_file(str(folder / "metrics.safetensors"))
            except (OSError, ValueError, KeyError, CheckpointError, SafetensorError, json.JSONDecodeError):
                continue  # a damaged checkpoint: try the one before it
            self.resumed_from = int(progress["done"])
            if self.on_resume is not None:
                self.on_resume(self.resumed_from, int(layout["n_chunks"]))
            return ChunkProgress(done=self.resumed_from, state=state, metrics=metrics)
        return None
