"""The contract every ``EXPERIMENTS`` entry keeps: documented config fields, a smoke run that stores a report with a
headline and an HTML page, a report that ``mesaopt report`` rebuilds, and ``inspect`` where declared."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import io
import json
import shutil
import textwrap
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from mesaopt.cli import main
from mesaopt.experiments import EXPERIMENTS, Experiment
from mesaopt.runs.store import load_run

NAMES = sorted(EXPERIMENTS)
TINY_INSPECT = ["--n-episodes", "8", "--n-default-samples", "4", "--irl-episodes", "8", "--steering-episodes", "4"]


def field_docstrings(cls) -> dict[str, str]:
    """``{field: docstring}`` read from the class source: the string literal right under each annotated field."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body
    docs = {}
    for node, after in zip(body, body[1:]):
        if isinstance(node, ast.AnnAssign) and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant) \
                and isinstance(after.value.value, str) and after.value.value.strip():
            docs[node.target.id] = after.value.value
    return docs


def undocumented_fields(config, prefix: str = "") -> list[str]:
    """Dotted names of every field (nested configs included) without a docstring."""
    docs = field_docstrings(type(config))
    missing = []
    for f in dataclasses.fields(config):
        if f.name not in docs:
            missing.append(prefix + f.name)
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            missing += undocumented_fields(value, f"{prefix}{f.name}.")
    return missing


def record_problems(key: str, record) -> list[str]:
    """What is wrong with one registry entry's shape (empty: nothing)."""
    problems = [] if isinstance(record, Experiment) else [f"{key}: not an Experiment record"]
    if getattr(record, "name", None) != key:
        problems.append(f"{key}: registered under another name than its record's ({getattr(record, 'name', None)})")
    for name in ("run", "write_report", "summary_table"):
        if not callable(getattr(record, name, None)):
            problems.append(f"{key}: {name} is not callable")
    for name in ("inspect", "load", "settle"):
        value = getattr(record, name, None)
        if value is not None and not callable(value):
            problems.append(f"{key}: {name} is neither None nor callable")
    if type(getattr(record, "smoke_config", None)) is not type(getattr(record, "config", None)):
        problems.append(f"{key}: smoke_config is not a {type(getattr(record, 'config', None)).__name__}")
    return problems


def test_the_docstring_reader_sees_a_missing_docstring():
    @dataclasses.dataclass(frozen=True)
    class Planted:
        documented: int = 1
        """Has one."""
        bare: int = 2

    assert undocumented_fields(Planted()) == ["bare"]


def test_a_record_without_a_report_writer_breaks_the_contract():
    good = EXPERIMENTS["icl-gd"]
    assert record_problems("icl-gd", good) == []
    broken = dataclasses.replace(good, write_report=None)
    assert record_problems("icl-gd", broken) == ["icl-gd: write_report is not callable"]
    assert record_problems("other-name", good)


@pytest.mark.parametrize("name", NAMES)
def test_record_shape_and_documented_fields(name):
    record = EXPERIMENTS[name]
    assert record_problems(name, record) == []
    assert undocumented_fields(record.config) == []


@pytest.mark.parametrize("name", NAMES)
def test_smoke_run_stores_a_report_with_a_headline(name, smoke_run):
    outcome = smoke_run(name)
    run_dir = Path(outcome.path)
    for filename in ("COMPLETE", "config.json", "report.json", "report.html", "versions.json"):
        assert (run_dir / filename).is_file(), filename
    report = json.loads((run_dir / "report.json").read_text())
    assert report["preset"] == name and isinstance(report["headline"], dict) and report["headline"]
    stored = outcome.report if outcome.report is not None else load_run(run_dir)  # made by the other process
    assert report["headline"] == stored["headline"]
    assert "data:image/png;base64," in (run_dir / "report.html").read_text()
    assert not (run_dir / "resume").exists()  # chunk checkpoints never outlive the run


@pytest.mark.parametrize("name", NAMES)
def test_report_command_rebuilds_the_page(name, smoke_run, tmp_path):
    run_dir = tmp_path / "run"  # a copy: the stored run is shared with the other test process
    shutil.copytree(smoke_run(name).path, run_dir)
    page = run_dir / "report.html"
    page.unlink()
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["report", str(run_dir)]) == 0
    assert Path(out.getvalue().strip().splitlines()[-1]) == page and page.stat().st_size > 1000


INSPECTED_ELSEWHERE = {
    "maze-misgen": "tests/cli/test_inspect_cli.py inspects a maze-misgen run end to end",
    "maze-misgen-13": "the same code and smoke config as maze-misgen, whose inspection runs end to end elsewhere",
}
"""Presets whose ``inspect`` a stronger test already runs (each inspection of a trained maze agent costs ~25 s)."""


@pytest.mark.parametrize("name", [n for n in NAMES if EXPERIMENTS[n].inspect is not None and n not in
                                  INSPECTED_ELSEWHERE])
def test_inspect_adds_evidence_where_declared(name, smoke_run):
    run_dir = Path(smoke_run(name).path)
    with redirect_stdout(io.StringIO()):
        assert main(["inspect", str(run_dir), *TINY_INSPECT]) == 0
    report = json.loads((run_dir / "report.json").read_text())
    assert report["evidence"] and all("verdict" in card for card in report["evidence"].values())


@pytest.mark.parametrize("name", [n for n in NAMES if EXPERIMENTS[n].load is not None])
def test_load_gives_back_the_trained_parameters(name, smoke_run):
    import jax

    run_dir = Path(smoke_run(name).path)
    cfg, _learner, params = EXPERIMENTS[name].load(run_dir)
    assert cfg == EXPERIMENTS[name].smoke_config
    assert all(leaf.shape[0] >= 1 for leaf in jax.tree_util.tree_leaves(params))
