"""What code made a run: package versions, a fingerprint of mesaopt's source, the platform and devices."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
from pathlib import Path
from typing import Any

VERSIONS_FILE = "versions.json"
_VERSIONED_PACKAGES = ("jax", "jaxlib", "equinox", "optax", "numpy", "mesaopt")


def _read_json_or_none(path: Path) -> Any:
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def source_fingerprint(package_dir: Path | None = None) -> str:
    """12 hex digits of SHA-256 over the ``.py`` files of ``package_dir`` (default: the installed mesaopt).

    Each file adds its path relative to the package and its bytes, in sorted order, so any edit to the code
    changes it while a version number may stay the same.
    """
    package_dir = Path(package_dir) if package_dir is not None else Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package_dir.rglob("*.py")):
        digest.update(path.relative_to(package_dir).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def code_identity() -> dict[str, Any]:
    """The versions of the numeric stack and mesaopt, and mesaopt's :func:`source_fingerprint`."""
    identity: dict[str, Any] = {}
    for package in _VERSIONED_PACKAGES:
        try:
            identity[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            identity[package] = None
    identity["mesaopt_source"] = source_fingerprint()
    return identity


def code_changes(run_dir: Path) -> list[str]:
    """How the code that made ``run_dir`` differs from this process's, e.g. ``["jax 0.10.1 -> 0.10.2"]``.

    Compares :func:`code_identity` with the run's ``versions.json``; an entry the run did not record (older runs
    have no ``mesaopt_source``) or an unreadable file counts as different.
    """
    try:
        stored = _read_json_or_none(Path(run_dir) / VERSIONS_FILE) or {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        stored = {}
    stored = stored if isinstance(stored, dict) else {}
    return [f"{name} {stored.get(name, 'not recorded')} -> {value}"
            for name, value in code_identity().items() if stored.get(name) != value]


def collect_versions() -> dict:
    """Python, the numeric stack, mesaopt's source fingerprint, the platform and the JAX devices: ``versions.json``."""
    versions: dict[str, Any] = {"python": platform.python_version(), **code_identity()}
    versions["platform"] = platform.platform()
    import jax  # the shell only: importing here keeps the store importable without initialising JAX

    versions["jax_backend"] = jax.default_backend()
    versions["devices"] = [f"{d.platform}:{d.id} {d.device_kind}" for d in jax.devices()]
    return versions
