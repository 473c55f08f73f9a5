"""JAX's persistent compilation cache, where every mesaopt process (a run, a sweep's worker) keeps it."""

from __future__ import annotations

import os
from pathlib import Path


def compile_cache_dir() -> Path:
    """``$MESAOPT_JAX_CACHE`` or ``~/.cache/mesaopt/jax``."""
    return Path(os.environ.get("MESAOPT_JAX_CACHE", Path.home() / ".cache" / "mesaopt" / "jax"))


def enable_compile_cache() -> Path:
    """Turn on the persistent compilation cache in :func:`compile_cache_dir` (programs compiling in 0.5 s or
    more are kept); return the directory."""
    import jax

    path = compile_cache_dir()
    path.mkdir(parents=True, exist_ok=True)
    jax.config.update("jax_compilation_cache_dir", str(path))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
    return path
