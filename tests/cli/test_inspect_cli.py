"""``mesaopt inspect`` end to end on tiny stored runs, and its bad inputs (one line, exit 2, nothing lost)."""

import json
import shutil

import pytest

from mesaopt.cli import main
from mesaopt.detectors.verdict import VERDICTS
from mesaopt.experiments.shared.evidence import CARD_KEYS

TINY_MAZE = ["--size", "5", "--region-sizes", "1", "5", "--n-seeds", "2", "--total-steps", "2048",
             "--eval-episodes", "16", "--n-chunks", "1", "--ppo.n-envs", "16", "--ppo.n-steps", "16"]
TINY_INSPECT = ["--n-episodes", "8", "--n-default-samples", "4", "--irl-episodes", "8", "--steering-episodes", "4"]


def _ok(argv, capsys):
    assert main(argv) == 0
    return capsys.readouterr().out.strip().splitlines()[-1]


def _err(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and "Traceback" not in err[0]
    return err[0]


@pytest.fixture(scope="module")
def inspected(tmp_path_factory, smoke_run):
    """A copy of the maze-misgen smoke run (tiny, on a pool of 4 layouts), inspected."""
    import io
    from contextlib import redirect_stdout

    run_dir = tmp_path_factory.mktemp("runs") / "maze-misgen-smoke"
    shutil.copytree(smoke_run("maze-misgen").path, run_dir)
    before = json.loads((run_dir / "report.json").read_text())
    with redirect_stdout(io.StringIO()):
        assert main(["inspect", str(run_dir), *TINY_INSPECT]) == 0
    return run_dir, before, json.loads((run_dir / "report.json").read_text())


def test_inspect_adds_one_card_per_condition(inspected):
    _, _, after = inspected
    assert set(after["evidence"]) == {"region_1", "region_5"}
    for card in after["evidence"].values():
        assert set(CARD_KEYS) <= set(card)
        assert card["verdict"] in VERDICTS
        assert card["behavioral_objective"] in ("goal", "corner", "none")
        assert set(card["optimization_power_bits"]) == {"goal", "corner"}
        assert set(card["goal_directedness"]) == {"goal", "corner"}
        assert all(0.0 <= v <= 2.0 for v in card["goal_directedness"].values())
        assert card["thinking_gain"] is None and card["deception_gap"] is None  # feed-forward, no oversight
        assert 0.0 <= card["probe_goal_accuracy"] <= 1.0 and -1.0 <= card["steering_mean_gain"] <= 1.0
        generalization = card["layout_generalization"]
        assert generalization["pool_size"] == 4 and 0.0 <= generalization["goal_rate_seen"] <= 1.0
    assert after["evidence_settings"]["n_episodes"] == 8


def test_inspect_keeps_everything_else_and_updates_the_html(inspected):
    run_dir, before, after = inspected
    assert {k: v for k, v in after.items() if not k.startswith("evidence")} == before
    html = (run_dir / "report.html").read_text()
    assert "Evidence: is it aligned?" in html and "Evidence: does it search?" in html


def test_inspect_again_rebuilds_only_the_evidence(smoke_run, tmp_path, capsys):
    # the behaviour of the command, on a preset whose inspection takes a second (principal-agent)
    run_dir = tmp_path / "principal-agent-smoke"
    shutil.copytree(smoke_run("principal-agent").path, run_dir)
    _ok(["inspect", str(run_dir)], capsys)
    first = json.loads((run_dir / "report.json").read_text())
    _ok(["inspect", str(run_dir), "--seed", "1"], capsys)
    again = json.loads((run_dir / "report.json").read_text())
    assert first["evidence_settings"]["seed"] == 0 and again["evidence_settings"]["seed"] == 1
    assert again["evidence"] != first["evidence"] and set(again["evidence"]) == set(first["evidence"])
    assert {k: v for k, v in again.items() if not k.startswith("evidence")} == \
        {k: v for k, v in first.items() if not k.startswith("evidence")}


def test_inspect_bad_inputs(inspected, tmp_path, capsys):
    run_dir, _, _ = inspected
    assert "not a mesaopt run" in _err(["inspect", str(tmp_path)], capsys)
    assert "n_episodes must be >= 1" in _err(["inspect", str(run_dir), "--n-episodes", "0"], capsys)
    assert "unknown" in _err(["inspect", str(run_dir), "--no-such-field", "1"], capsys)
    broken = tmp_path / "copy"
    shutil.copytree(run_dir, broken)
    (broken / "checkpoints" / "params.safetensors").unlink()
    report_before = (broken / "report.json").read_text()
    assert "checkpoint" in _err(["inspect", str(broken)], capsys).lower()
    assert (broken / "report.json").read_text() == report_before


def test_inspect_refuses_presets_without_an_inspector(inspected, tmp_path, capsys):
    run_dir, _, _ = inspected
    other = tmp_path / "icl"
    shutil.copytree(run_dir, other)
    report = json.loads((other / "report.json").read_text())
    (other / "report.json").write_text(json.dumps({**report, "preset": "icl-gd"}))
    assert "cannot be inspected; allowed:" in _err(["inspect", str(other)], capsys)


def test_a_recurrent_agents_search_card_is_its_thinking_curve():
    """The search card of a recurrent maze agent (untrained: the card's plumbing, not learning) is the goal rate
    at each count of extra thinking steps; the end-to-end run + inspect of a trained one is marked slow."""
    import dataclasses

    import equinox as eqx
    import jax

    from mesaopt.experiments.maze_misgen.config import MazeMisgenConfig, build_setup
    from mesaopt.experiments.maze_misgen.search_evidence import THINKING_STEPS, search_card
    from mesaopt.experiments.shared.evidence import InspectConfig

    cfg = MazeMisgenConfig(model="gru", region_sizes=(5,), n_seeds=2, total_steps=256,
                           ppo=dataclasses.replace(MazeMisgenConfig().ppo, n_envs=16, n_steps=16))
    setup = build_setup(cfg)
    params = jax.vmap(lambda k: eqx.filter(setup.ppo.model_factory(k), eqx.is_array))(
        jax.random.split(jax.random.key(0), 2))
    steps = []
    card = search_card(setup, params, slice(0, 2), jax.random.split(jax.random.key(1), 3), cfg,
                       InspectConfig(n_episodes=8), steps.append, 5)
    assert steps == ["region 5: success vs extra thinking steps"]
    curve = card["thinking_curve"]
    assert curve["steps"] == list(THINKING_STEPS) and len(curve["goal_rate"]) == len(THINKING_STEPS)
    assert all(0.0 <= r <= 1.0 for r in curve["goal_rate"])
    low, high = card["thinking_gain_ci"]
    assert -1.0 <= low <= card["thinking_gain"] <= high <= 1.0


@pytest.mark.slow
def test_inspect_a_recurrent_agent_reports_its_thinking_gain(tmp_path, capsys):
    run_dir = _ok(["run", "maze-misgen", "--root", str(tmp_path), *TINY_MAZE, "--model", "gru",
                   "--region-sizes", "5", "--n-seeds", "1"], capsys)
    _ok(["inspect", run_dir, *TINY_INSPECT], capsys)
    card = json.loads((tmp_path / run_dir.split("/")[-1] / "report.json").read_text())["evidence"]["region_5"]
    assert -1.0 <= card["thinking_gain"] <= 1.0
    assert card["thinking_curve"]["steps"] == [0, 1, 2, 4, 8] and len(card["thinking_curve"]["goal_rate"]) == 5
