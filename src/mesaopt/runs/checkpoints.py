"""Checkpoints: a pytree's arrays in a ``.safetensors`` file plus a JSON sidecar.

Layout for ``path = run/params.safetensors``:

- ``run/params.safetensors`` holds one tensor per array leaf, keyed by its tree path
  (``actor.layers.0.weight``); non-array leaves (activation functions, static fields) are not stored,
  they come from the ``like`` template at load time.
- ``run/params.json`` (the sidecar) holds ``format``, ``format_version``, the mesaopt version, the user's
  ``metadata``, every key with its shape and dtype, and the sha256 of the tensor file.

Both files are written to a temp file and renamed; the tensor file first, the sidecar last, so a
checkpoint without a sidecar is an interrupted write. Loading never executes code (no pickle): it
parses JSON and the safetensors header, checks them against the template, and raises
:class:`~mesaopt.errors.CheckpointError` with one line on any mismatch.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import safetensors
import safetensors.numpy

import mesaopt
from mesaopt.errors import CheckpointError

FORMAT = "mesaopt-checkpoint"
FORMAT_VERSION = 1

# safetensors dtype tags -> numpy dtypes; the numpy helper in safetensors cannot read bfloat16 back.
_SAFETENSORS_DTYPES = {
    "BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "U16": np.uint16, "I16": np.int16,
    "U32": np.uint32, "I32": np.int32, "U64": np.uint64, "I64": np.int64,
    "F16": np.float16, "BF16": jnp.bfloat16, "F32": np.float32, "F64": np.float64,
    "C64": np.complex64, "F8_E4M3": jnp.float8_e4m3fn, "F8_E5M2": jnp.float8_e5m2,
}


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory, fsync, and ``os.replace``.

    A reader sees either the old file or the complete new one, never a partial write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    text = json.dumps(obj, indent=2, sort_keys=True, allow_nan=True) + "\n"
    atomic_write_bytes(path, text.encode("utf-8"))


def sidecar_path(path: Path) -> Path:
    """The JSON sidecar that belongs to the tensor file ``path`` (same name, ``.json`` suffix)."""
    return Path(path).with_suffix(".json")


def _is_array_like(x: Any) -> bool:
    return eqx.is_array(x) or isinstance(x, jax.ShapeDtypeStruct)


def _is_prng_key(x: Any) -> bool:
    return jnp.issubdtype(x.dtype, jax.dtypes.prng_key)


def _keyed_leaves(tree: Any) -> list[tuple[str, Any]]:
    """Array leaves of ``tree`` (arrays or ShapeDtypeStructs) with readable dotted path keys."""
    arrays = eqx.filter(tree, _is_array_like)
    leaves, _ = jax.tree_util.tree_flatten_with_path(arrays)
    keyed = [(jax.tree_util.keystr(p, simple=True, separator=".") or "root", leaf) for p, leaf in leaves]
    seen: set[str] = set()
    for key, _leaf in keyed:
        if key in seen:
            raise ValueError(f"two leaves share the checkpoint key {key!r}; rename a field or dict key")
        seen.add(key)
    return keyed


def _storage_spec(leaf: Any) -> tuple[tuple[int, ...], str]:
    """Shape and dtype name a leaf is stored with (typed PRNG keys are stored as their raw key data)."""
    if _is_prng_key(leaf):
        leaf = jax.eval_shape(jax.random.key_data, leaf)
    return tuple(int(d) for d in leaf.shape), np.dtype(leaf.dtype).name


def _to_numpy(leaf: Any) -> np.ndarray:
    if _is_prng_key(leaf):
        leaf = jax.random.key_data(leaf)
    return np.ascontiguousarray(np.asarray(leaf))


def save_checkpoint(path: Path, tree: Any, metadata: dict) -> None:
    """Save the array leaves of ``tree`` (any pytree, equinox modules included) to ``path``.

    ``path`` should end in ``.safetensors``; the sidecar goes to ``path.with_suffix('.json')``.
    ``metadata`` must be JSON-serialisable (e.g. ``{"model": "mlp", "step": 1000}``); it is checked
    against ``expected_metadata`` at load time. Leading batch axes (stacked seeds) are just shapes.
    Raises ``ValueError`` if two leaves map to the same key.
    """
    path = Path(path)
    tensors = {key: _to_numpy(leaf) for key, leaf in _keyed_leaves(tree)}
    data = safetensors.numpy.save(tensors)
    sidecar = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "mesaopt_version": mesaopt.__version__,
        "metadata": json.loads(json.dumps(metadata)),
        "tensor_file": path.name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "tensors": [{"key": k, "shape": list(v.shape), "dtype": v.dtype.name} for k, v in tensors.items()],
    }
    # Drop an older sidecar first: tensors-without-sidecar then reads as "incomplete", never as a
    # stale sidecar describing new tensors.
    sidecar_path(path).unlink(missing_ok=True)
    atomic_write_bytes(path, data)
    atomic_write_json(sidecar_path(path), sidecar)


def _read_sidecar(path: Path) -> dict:
    """Read and validate the sidecar of ``path``; raise CheckpointError if missing, invalid, or foreign."""
    side = sidecar_path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not side.is_file():
        raise CheckpointError(
            f"incomplete checkpoint {path}: sidecar {side.name} is missing "
            "(the save was interrupted, or this is not a mesaopt checkpoint)"
        )
    try:
        sidecar = json.loads(side.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"checkpoint sidecar {side} is not valid JSON ({e})") from None
    if not isinstance(sidecar, dict) or sidecar.get("format") != FORMAT:
        found = sidecar.get("format") if isinstance(sidecar, dict) else type(sidecar).__name__
        raise CheckpointError(f"{side} is not a mesaopt checkpoint sidecar (format {found!r}, expected {FORMAT!r})")
    if sidecar.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format_version {sidecar.get('format_version')!r}; "
            f"this mesaopt reads format_version {FORMAT_VERSION}"
        )
    return sidecar


def _read_tensors(path: Path, sidecar: dict) -> dict[str, np.ndarray]:
    """Read the tensor file, verify its hash against the sidecar, and parse it (no code execution)."""
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sidecar.get("sha256"):
        raise CheckpointError(
            f"corrupt checkpoint {path}: contents do not match the sidecar's sha256 "
            f"({len(data)} bytes; truncated, modified, or paired with another checkpoint's sidecar)"
        )
    try:
        views = safetensors.deserialize(data)
    except (safetensors.SafetensorError, ValueError, TypeError) as e:
        raise CheckpointError(f"corrupt checkpoint {path}: not a valid safetensors file ({e})") from None
    tensors = {}
    for key, view in views:
        if view["dtype"] not in _SAFETENSORS_DTYPES:
            raise CheckpointError(f"checkpoint {path}: {key!r} has unsupported dtype {view['dtype']!r}")
        dtype = np.dtype(_SAFETENSORS_DTYPES[view["dtype"]]).newbyteorder("<")
        tensors[key] = np.frombuffer(view["data"], dtype=dtype).reshape(view["shape"])
    return tensors


def _check_metadata(path: Path, stored: Any, expected: dict | None) -> None:
    if not expected:
        return
    stored = stored if isinstance(stored, dict) else {}
    for key, want in json.loads(json.dumps(expected)).items():
        if key not in stored:
            raise CheckpointError(f"checkpoint {path} has no metadata {key!r} (expected {want!r})")
        if stored[key] != want:
            raise CheckpointError(f"checkpoint is for {key} {stored[key]!r}, expected {want!r} ({path})")


def _check_keys(path: Path, tensors: dict[str, np.ndarray], keyed: list[tuple[str, Any]]) -> None:
    """Raise CheckpointError naming the first key whose presence, shape, or dtype differs from ``like``."""
    for key, leaf in keyed:
        if key not in tensors:
            raise CheckpointError(f"checkpoint {path} has no array {key!r} that the template expects")
        shape, dtype = _storage_spec(leaf)
        got = tensors[key]
        if tuple(got.shape) != shape:
            raise CheckpointError(
                f"checkpoint {path}: {key!r} has shape {tuple(got.shape)}, the template expects {shape}"
            )
        if got.dtype.name != dtype:
            raise CheckpointError(
                f"checkpoint {path}: {key!r} has dtype {got.dtype.name}, the template expects {dtype}"
            )
    extra = sorted(set(tensors) - {key for key, _ in keyed})
    if extra:
        raise CheckpointError(f"checkpoint {path} has array {extra[0]!r} that the template does not have")


def _restore_leaf(array: np.ndarray, like_leaf: Any) -> jax.Array:
    if _is_prng_key(like_leaf):
        # A shape-only template has no key_impl(); its key dtype carries the implementation.
        impl = like_leaf.dtype._impl if isinstance(like_leaf, jax.ShapeDtypeStruct) else jax.random.key_impl(like_leaf)
        return jax.random.wrap_key_data(jnp.asarray(array), impl=impl)
    return jnp.asarray(array)


def load_checkpoint(path: Path, like: Any, expected_metadata: dict | None = None) -> Any:
    """Load a checkpoint saved by :func:`save_checkpoint` into the structure of ``like``.

    ``like`` is a template pytree (e.g. a freshly initialised model, or ``eqx.filter_eval_shape`` of
    one): its array leaves are replaced by the stored arrays, its other leaves are kept. Every key in
    ``expected_metadata`` must equal the stored metadata value. Raises
    :class:`~mesaopt.errors.CheckpointError` (one line) if the checkpoint is missing, incomplete,
    corrupt, foreign, built for other metadata, or its keys/shapes/dtypes differ from ``like``.
    """
    path = Path(path)
    sidecar = _read_sidecar(path)
    _check_metadata(path, sidecar.get("metadata"), expected_metadata)
    tensors = _read_tensors(path, sidecar)
    keyed = _keyed_leaves(like)
    _check_keys(path, tensors, keyed)
    arrays = eqx.filter(like, _is_array_like)
    leaves, treedef = jax.tree_util.tree_flatten(arrays)
    restored = [_restore_leaf(tensors[key], leaf) for (key, _), leaf in zip(keyed, leaves, strict=True)]
    return eqx.combine(jax.tree_util.tree_unflatten(treedef, restored), like, is_leaf=_is_array_like)


def read_checkpoint_metadata(path: Path) -> dict:
    """The user metadata stored with a checkpoint (reads only the sidecar; CheckpointError if invalid)."""
    return dict(_read_sidecar(Path(path)).get("metadata") or {})
