"""Test-session setup: JAX's persistent compilation cache, so reruns skip most compile time."""

import os
from pathlib import Path

import jax

_CACHE_DIR = os.environ.get("MESAOPT_JAX_CACHE") or str(Path(__file__).resolve().parents[1] / ".cache" / "jax-tests")
jax.config.update("jax_compilation_cache_dir", _CACHE_DIR)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
