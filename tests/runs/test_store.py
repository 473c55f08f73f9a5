"""Run store and catalog: atomic run directories, lookup by config, and an index that can be rebuilt."""

import json
import multiprocessing
import os
import shutil
import sqlite3
import time

import pytest

from mesaopt.errors import NotARunError
from mesaopt.runs import catalog
from mesaopt.runs.catalog import list_runs, rebuild_catalog, record_run
from mesaopt.runs.store import (
    RunWriter,
    clean_partial,
    code_changes,
    config_hash,
    find_complete_run,
    load_run,
    run_name,
    source_fingerprint,
)

CONFIG = {"env": "maze", "size": 7, "lr": 3e-4, "seeds": [0, 1, 2]}


def _finish(root, config=CONFIG, preset="maze-goal", headline=None, files=None):
    """Write and finalize a run holding ``files`` ({relpath: text}); return its final path."""
    with RunWriter(root, preset, config) as writer:
        for relpath, text in (files or {}).items():
            writer.write_bytes(relpath, text.encode())
        return writer.finalize(headline=headline or {"return": 0.5}, wall_seconds=1.25)


def _entries(path):
    return sorted(p.name for p in path.iterdir()) if path.exists() else []


def test_config_hash_is_canonical_and_short():
    h = config_hash(CONFIG)
    assert len(h) == 10 and all(c in "0123456789abcdef" for c in h)
    assert config_hash(dict(reversed(list(CONFIG.items())))) == h  # key order does not matter
    assert config_hash({**CONFIG, "seeds": (0, 1, 2)}) == h  # a tuple is JSON's list
    assert config_hash({**CONFIG, "size": 9}) != h
    assert run_name("maze-goal", CONFIG) == f"maze-goal-{h}"


def test_finalize_writes_complete_run_and_catalogs_it(tmp_path):
    with RunWriter(tmp_path, "maze-goal", CONFIG) as writer:
        assert writer.work_dir.parent == tmp_path / ".partial" and writer.work_dir.is_dir()
        writer.write_json("metrics.json", {"loss": [1.0, 0.5]})
        writer.write_bytes("report.json", json.dumps({"verdict": "proxy"}).encode())
        writer.path("checkpoints/final.safetensors").write_bytes(b"x")
        assert not writer.final_dir.exists()
        final = writer.finalize(headline={"return": 0.9}, wall_seconds=2.5)
    assert final == tmp_path / run_name("maze-goal", CONFIG)
    assert _entries(final) == ["COMPLETE", "checkpoints", "config.json", "metrics.json", "report.json",
                               "run.json", "versions.json"]
    assert json.loads((final / "config.json").read_text()) == CONFIG
    versions = json.loads((final / "versions.json").read_text())
    assert {"python", "jax", "jaxlib", "equinox", "optax", "numpy", "mesaopt", "platform", "devices"} <= set(versions)
    assert versions["devices"]
    assert _entries(tmp_path / ".partial") == []
    run = load_run(final)
    assert run["config"] == CONFIG and run["report"] == {"verdict": "proxy"} and run["headline"] == {"return": 0.9}
    assert load_run(final.name, root=tmp_path)["path"] == final
    rows = list_runs(tmp_path)
    assert [(r["name"], r["preset"], r["headline"], r["wall_seconds"]) for r in rows] == [
        (final.name, "maze-goal", {"return": 0.9}, 2.5)]


def test_exception_inside_writer_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError, match="training diverged"):
        with RunWriter(tmp_path, "maze-goal", CONFIG) as writer:
            writer.write_json("metrics.json", {"loss": [1.0]})
            raise RuntimeError("training diverged")
    assert not writer.final_dir.exists() and not writer.work_dir.exists()
    assert _entries(tmp_path / ".partial") == []
    assert list_runs(tmp_path) == []
    with pytest.raises(RuntimeError, match="aborted"):
        writer.write_json("late.json", {})


def test_failed_finalize_leaves_nothing(tmp_path):
    with pytest.raises(TypeError):
        with RunWriter(tmp_path, "maze-goal", CONFIG) as writer:
            writer.finalize(headline={"not json": object()}, wall_seconds=1.0)
    assert not writer.final_dir.exists() and _entries(tmp_path / ".partial") == []
    assert find_complete_run(tmp_path, "maze-goal", CONFIG) is None
    assert list_runs(tmp_path) == []


def test_leaving_without_finalize_aborts(tmp_path):
    with RunWriter(tmp_path, "maze-goal", CONFIG) as writer:
        writer.write_json("metrics.json", {})
    assert not writer.work_dir.exists() and not writer.final_dir.exists()


def test_second_finalize_replaces_and_keeps_one_row(tmp_path):
    first = _finish(tmp_path, headline={"return": 0.1}, files={"old.txt": "old"})
    second = _finish(tmp_path, headline={"return": 0.2}, files={"new.txt": "new"})
    assert first == second
    assert (second / "new.txt").read_text() == "new" and not (second / "old.txt").exists()
    assert _entries(tmp_path / ".trash") == [] and _entries(tmp_path / ".partial") == []
    rows = list_runs(tmp_path)
    assert len(rows) == 1 and rows[0]["headline"] == {"return": 0.2}


def test_find_complete_run_ignores_incomplete_dir(tmp_path):
    assert find_complete_run(tmp_path, "maze-goal", CONFIG) is None
    squatter = tmp_path / run_name("maze-goal", CONFIG)
    squatter.mkdir()
    (squatter / "config.json").write_text(json.dumps(CONFIG))
    assert find_complete_run(tmp_path, "maze-goal", CONFIG) is None
    with pytest.raises(NotARunError):
        load_run(squatter)
    final = _finish(tmp_path)  # replaces the squatter
    assert find_complete_run(tmp_path, "maze-goal", CONFIG) == final
    assert find_complete_run(tmp_path, "maze-goal", {**CONFIG, "size": 9}) is None
    assert find_complete_run(tmp_path, "other-preset", CONFIG) is None
    (final / "config.json").write_text(json.dumps({**CONFIG, "size": 9}))  # hand-edited: no longer this config
    assert find_complete_run(tmp_path, "maze-goal", CONFIG) is None


def test_load_run_on_random_dir_raises(tmp_path):
    random_dir = tmp_path / "holiday-photos"
    random_dir.mkdir()
    (random_dir / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(NotARunError) as info:
        load_run(random_dir)
    assert str(info.value) == f"{random_dir} is not a mesaopt run (missing COMPLETE marker / config.json)"
    with pytest.raises(NotARunError, match="no-such-run"):
        load_run("no-such-run", root=tmp_path)


def test_writer_rejects_paths_outside_run(tmp_path):
    with RunWriter(tmp_path, "maze-goal", CONFIG) as writer:
        for bad in ("../escape.json", "/etc/passwd", ""):
            with pytest.raises(ValueError, match="relative path inside the run"):
                writer.path(bad)
    assert not (tmp_path / "escape.json").exists()


def test_rebuild_after_catalog_deleted(tmp_path):
    a = _finish(tmp_path, headline={"return": 0.3})
    b = _finish(tmp_path, config={**CONFIG, "size": 9}, preset="maze-big", headline={"return": 0.7})
    (tmp_path / "catalog.sqlite").unlink()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    assert rebuild_catalog(tmp_path) == 2
    rows = {r["name"]: r for r in list_runs(tmp_path)}
    assert set(rows) == {a.name, b.name}
    assert rows[b.name]["preset"] == "maze-big" and rows[b.name]["headline"] == {"return": 0.7}
    assert rows[a.name]["config_hash"] == config_hash(CONFIG) and rows[a.name]["wall_seconds"] == 1.25


def test_list_runs_recovers_from_corrupt_catalog(tmp_path):
    final = _finish(tmp_path)
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"catalog.sqlite{suffix}").unlink(missing_ok=True)
    (tmp_path / "catalog.sqlite").write_bytes(b"this is not an sqlite database" * 200)
    assert [r["name"] for r in list_runs(tmp_path)] == [final.name]
    assert any(name.startswith("catalog.sqlite.corrupt-") for name in _entries(tmp_path))


def test_list_runs_follows_the_filesystem(tmp_path):
    kept = _finish(tmp_path)
    gone = _finish(tmp_path, config={**CONFIG, "size": 9})
    shutil.rmtree(gone)
    assert [r["name"] for r in list_runs(tmp_path)] == [kept.name]
    (kept / "COMPLETE").unlink()
    assert list_runs(tmp_path) == []
    (kept / "COMPLETE").write_text("restored\n")
    unindexed = _finish(tmp_path, config={**CONFIG, "size": 11})
    with sqlite3.connect(tmp_path / "catalog.sqlite") as conn:  # as if killed between rename and catalog write
        conn.execute("DELETE FROM runs WHERE name = ?", (unindexed.name,))
    assert {r["name"] for r in list_runs(tmp_path)} == {kept.name, unindexed.name}


def test_list_runs_newest_first(tmp_path):
    for i, created in enumerate(["2024-01-01T00:00:00.000000Z", "2025-01-01T00:00:00.000000Z",
                                 "2023-01-01T00:00:00.000000Z"]):
        path = _finish(tmp_path, config={**CONFIG, "size": i})
        record_run(tmp_path, path.name, "maze-goal", "h", path, 1.0, {}, created_utc=created)
    assert [r["created_utc"][:4] for r in list_runs(tmp_path)] == ["2025", "2024", "2023"]


def test_clean_partial_removes_only_killed_runs(tmp_path):
    partial = tmp_path / ".partial"
    dead, alive, fresh, ownerless = (partial / n for n in ("dead-1", "alive-1", "fresh-1", "ownerless-1"))
    for d in (dead, alive, fresh, ownerless):
        d.mkdir(parents=True)
    child = multiprocessing.get_context("spawn").Process(target=time.sleep, args=(0,))
    child.start()
    child.join()  # its pid is now (almost surely) free
    host = __import__("socket").gethostname()
    (dead / ".owner.json").write_text(json.dumps({"host": host, "pid": child.pid}))
    (alive / ".owner.json").write_text(json.dumps({"host": host, "pid": os.getppid()}))
    (fresh / ".owner.json").write_text(json.dumps({"host": host, "pid": child.pid}))
    old = time.time() - 3600
    for d in (dead, alive, ownerless):
        os.utime(d, (old, old))
    removed = clean_partial(tmp_path)
    assert sorted(p.name for p in removed) == ["dead-1", "ownerless-1"]
    assert _entries(partial) == ["alive-1", "fresh-1"]


def test_clean_partial_restores_run_left_in_trash(tmp_path):
    final = _finish(tmp_path)
    trash = tmp_path / ".trash"
    trash.mkdir()
    stale_ns = time.time_ns() - 3600 * 10**9
    os.replace(final, trash / f"{final.name}-{stale_ns}")  # killed between the two renames of a swap
    (trash / f"{final.name}-{stale_ns - 1}").mkdir()  # an older leftover that is not a complete run
    clean_partial(tmp_path)
    assert load_run(final)["config"] == CONFIG
    assert _entries(trash) == []


def test_concurrent_catalog_writes_all_land(tmp_path):
    n_procs, per_proc = 4, 8
    args = [(tmp_path, f"run-{i:03d}", "p", "h", tmp_path / f"run-{i:03d}", float(i), {"i": i})
            for i in range(n_procs * per_proc)]
    with multiprocessing.get_context("spawn").Pool(n_procs) as pool:
        pool.starmap(record_run, args, chunksize=per_proc)
    with sqlite3.connect(tmp_path / "catalog.sqlite") as conn:
        names = {row[0] for row in conn.execute("SELECT name FROM runs")}
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert names == {a[1] for a in args}
    assert mode == "wal"
    assert catalog.BUSY_TIMEOUT_S == 10.0


def test_source_fingerprint_changes_with_any_edit_and_only_then(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("x = 1\n")
    (package / "sub" / "b.py").write_text("y = 2\n")
    (package / "notes.txt").write_text("not code")
    before = source_fingerprint(package)
    assert len(before) == 12 and source_fingerprint(package) == before
    (package / "notes.txt").write_text("still not code")
    assert source_fingerprint(package) == before
    (package / "sub" / "b.py").write_text("y = 3\n")
    assert source_fingerprint(package) != before
    (package / "sub" / "b.py").write_text("y = 2\n")
    (package / "sub" / "b.py").rename(package / "b2.py")  # same bytes, another path
    assert source_fingerprint(package) != before


def test_code_changes_name_what_differs_from_the_code_that_made_a_run(tmp_path):
    final = _finish(tmp_path)
    versions = json.loads((final / "versions.json").read_text())
    assert versions["mesaopt_source"] == source_fingerprint()
    assert code_changes(final) == []
    versions["jax"], old_source = "0.0.1", versions.pop("mesaopt_source")
    (final / "versions.json").write_text(json.dumps(versions))
    changes = code_changes(final)
    assert len(changes) == 2 and changes[0].startswith("jax 0.0.1 -> ")
    assert changes[1] == f"mesaopt_source not recorded -> {old_source}"
    (final / "versions.json").write_text("{not json")
    assert {c.split()[0] for c in code_changes(final)} == {
        "jax", "jaxlib", "equinox", "optax", "numpy", "mesaopt", "mesaopt_source"}  # unreadable: every entry differs


def test_a_config_being_run_elsewhere_raises_run_locked_and_frees_when_released(tmp_path):
    from mesaopt.errors import RunLockedError
    from mesaopt.runs.partial import acquire_run_lock, release_run_lock

    partial = tmp_path / ".partial"
    partial.mkdir()
    fd = acquire_run_lock(partial, "preset-abc")  # another open file description: flock conflicts like a process
    with pytest.raises(RunLockedError, match="another mesaopt process is running this config"):
        acquire_run_lock(partial, "preset-abc")
    other = acquire_run_lock(partial, "preset-xyz")  # another config is not blocked
    release_run_lock(partial, "preset-xyz", other)
    release_run_lock(partial, "preset-abc", fd)
    release_run_lock(partial, "preset-abc", acquire_run_lock(partial, "preset-abc"))
