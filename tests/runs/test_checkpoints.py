"""Checkpoints: round trips, and one clear CheckpointError for every way a checkpoint can be wrong."""

import hashlib
import json

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import safetensors.numpy

from mesaopt.errors import CheckpointError, MesaoptError
from mesaopt.runs.checkpoints import load_checkpoint, read_checkpoint_metadata, save_checkpoint, sidecar_path


def _mlp(seed: int, width: int = 8) -> eqx.nn.MLP:
    return eqx.nn.MLP(3, 2, width, 2, key=jax.random.key(seed))


def _assert_trees_equal(a, b) -> None:
    a_leaves = jax.tree_util.tree_leaves(eqx.filter(a, eqx.is_array))
    b_leaves = jax.tree_util.tree_leaves(eqx.filter(b, eqx.is_array))
    assert len(a_leaves) == len(b_leaves) > 0
    for x, y in zip(a_leaves, b_leaves):
        assert x.shape == y.shape and x.dtype == y.dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.fixture
def saved(tmp_path):
    """An MLP saved with metadata model=mlp; returns (path, model)."""
    path = tmp_path / "ckpt" / "model.safetensors"
    model = _mlp(0)
    save_checkpoint(path, model, {"model": "mlp", "step": 7})
    return path, model


def test_equinox_module_round_trip(saved):
    path, model = saved
    template = _mlp(1)
    assert not np.array_equal(template.layers[0].weight, model.layers[0].weight)
    loaded = load_checkpoint(path, template, expected_metadata={"model": "mlp"})
    _assert_trees_equal(loaded, model)
    x = jnp.arange(3.0)
    np.testing.assert_array_equal(loaded(x), model(x))  # non-array leaves (activations) came from the template


def test_sidecar_lists_readable_keys_shapes_and_format(saved):
    path, _ = saved
    sidecar = json.loads(sidecar_path(path).read_text())
    assert sidecar["format"] == "mesaopt-checkpoint" and sidecar["format_version"] == 1
    assert sidecar["metadata"] == {"model": "mlp", "step": 7}
    assert "mesaopt_version" in sidecar
    shapes = {t["key"]: (t["shape"], t["dtype"]) for t in sidecar["tensors"]}
    assert shapes["layers.0.weight"] == ([8, 3], "float32")
    assert set(safetensors.numpy.load_file(str(path))) == set(shapes)
    assert read_checkpoint_metadata(path)["step"] == 7


def test_stacked_pytree_round_trip(tmp_path):
    n_seeds = 15
    stacked = eqx.filter_vmap(lambda k: eqx.nn.MLP(3, 2, 8, 2, key=k))(jax.random.split(jax.random.key(0), n_seeds))
    tree = {"actor": stacked, "step": jnp.arange(n_seeds, dtype=jnp.int32), "mask": jnp.ones((n_seeds, 2), bool),
            "half": jnp.full((n_seeds,), 1.5, jnp.bfloat16), "rng": jax.random.split(jax.random.key(3), n_seeds)}
    path = tmp_path / "stacked.safetensors"
    save_checkpoint(path, tree, {"model": "mlp", "n_seeds": n_seeds})
    like = jax.tree_util.tree_map(lambda x: jnp.zeros_like(x) if eqx.is_array(x) else x, tree)
    like["rng"] = jax.random.split(jax.random.key(9), n_seeds)
    loaded = load_checkpoint(path, like, {"n_seeds": n_seeds})
    assert loaded["actor"].layers[0].weight.shape == (n_seeds, 8, 3)
    assert loaded["half"].dtype == jnp.bfloat16
    np.testing.assert_array_equal(jax.random.key_data(loaded["rng"]), jax.random.key_data(tree["rng"]))
    _assert_trees_equal(loaded["actor"], stacked)
    _assert_trees_equal(loaded["step"], tree["step"])


def test_load_into_shape_only_template(saved):
    path, model = saved
    template = eqx.filter_eval_shape(_mlp, 1)
    loaded = load_checkpoint(path, template)
    _assert_trees_equal(loaded, model)


def test_missing_file(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.safetensors", _mlp(0))


def test_missing_sidecar_is_incomplete(saved):
    path, _ = saved
    sidecar_path(path).unlink()
    with pytest.raises(CheckpointError, match="incomplete checkpoint"):
        load_checkpoint(path, _mlp(1))


@pytest.mark.parametrize("keep", [0, 7, 100, -5])
def test_truncated_file_is_corrupt(saved, keep):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    with pytest.raises(CheckpointError, match="corrupt checkpoint"):
        load_checkpoint(path, _mlp(1))


def test_flipped_byte_is_corrupt(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF  # inside the tensor data: the header still parses, only the hash can tell
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_checkpoint(path, _mlp(1))


def test_garbage_safetensors_with_matching_hash(saved):
    """Even a file whose hash matches its sidecar must parse as safetensors."""
    path, _ = saved
    junk = b"\xff" * 64
    path.write_bytes(junk)
    sidecar = json.loads(sidecar_path(path).read_text())
    sidecar["sha256"] = hashlib.sha256(junk).hexdigest()
    sidecar_path(path).write_text(json.dumps(sidecar))
    with pytest.raises(CheckpointError, match="not a valid safetensors"):
        load_checkpoint(path, _mlp(1))


def test_foreign_safetensors_without_our_sidecar(tmp_path):
    path = tmp_path / "foreign.safetensors"
    safetensors.numpy.save_file({"layers.0.weight": np.zeros((8, 3), np.float32)}, str(path))
    with pytest.raises(CheckpointError, match="incomplete checkpoint"):
        load_checkpoint(path, _mlp(0))
    sidecar_path(path).write_text(json.dumps({"format": "pt", "framework": "torch"}))
    with pytest.raises(CheckpointError, match="not a mesaopt checkpoint"):
        load_checkpoint(path, _mlp(0))
    sidecar_path(path).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(path, _mlp(0))


def test_newer_format_version(saved):
    path, _ = saved
    sidecar = json.loads(sidecar_path(path).read_text())
    sidecar["format_version"] = 2
    sidecar_path(path).write_text(json.dumps(sidecar))
    with pytest.raises(CheckpointError, match="format_version 2"):
        load_checkpoint(path, _mlp(1))


def test_shape_mismatch_names_key_and_both_shapes(saved):
    path, _ = saved
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path, _mlp(1, width=16))
    message = str(info.value)
    assert "'layers.0.weight'" in message and "(8, 3)" in message and "(16, 3)" in message
    assert "\n" not in message and isinstance(info.value, MesaoptError)


def test_dtype_and_key_mismatch(saved):
    path, model = saved
    as_f16 = jax.tree_util.tree_map(lambda x: x.astype(jnp.float16) if eqx.is_array(x) else x, model)
    with pytest.raises(CheckpointError, match="dtype float32, the template expects float16"):
        load_checkpoint(path, as_f16)
    with pytest.raises(CheckpointError, match="has no array 'actor.layers.0.weight'"):
        load_checkpoint(path, {"actor": model})
    with pytest.raises(CheckpointError, match="template does not have"):
        load_checkpoint(path, eqx.tree_at(lambda m: m.layers[2].bias, model, None))


def test_metadata_mismatch(saved):
    path, _ = saved
    with pytest.raises(CheckpointError, match="checkpoint is for model 'mlp', expected 'cnn'"):
        load_checkpoint(path, _mlp(1), expected_metadata={"model": "cnn"})
    with pytest.raises(CheckpointError, match="no metadata 'env'"):
        load_checkpoint(path, _mlp(1), expected_metadata={"env": "maze"})


def test_resave_replaces_both_files(saved):
    path, _ = saved
    other = _mlp(5)
    save_checkpoint(path, other, {"model": "mlp", "step": 8})
    assert read_checkpoint_metadata(path)["step"] == 8
    _assert_trees_equal(load_checkpoint(path, _mlp(1)), other)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.json", "model.safetensors"]  # no temp files


def test_colliding_keys_are_refused(tmp_path):
    with pytest.raises(ValueError, match="share the checkpoint key 'a.b'"):
        save_checkpoint(tmp_path / "x.safetensors", {"a.b": jnp.ones(1), "a": {"b": jnp.ones(1)}}, {})


def test_prng_keys_load_into_shape_only_template(tmp_path):
    path = tmp_path / "keys.safetensors"
    keys = jax.random.split(jax.random.key(4), 3)
    save_checkpoint(path, {"keys": keys}, {})
    loaded = load_checkpoint(path, jax.eval_shape(lambda: {"keys": jax.random.split(jax.random.key(0), 3)}))
    assert jax.random.key_impl(loaded["keys"]) == jax.random.key_impl(keys)
    np.testing.assert_array_equal(jax.random.key_data(loaded["keys"]), jax.random.key_data(keys))
