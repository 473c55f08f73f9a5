"""maze-misgen's size rule and the research-scale preset, without training (the measured runs are in
docs/mazes.md)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from mesaopt.errors import MesaoptError
from mesaopt.experiments import EXPERIMENTS
from mesaopt.experiments.maze_misgen.config import MazeMisgenConfig, build_setup, with_size_rule
from mesaopt.experiments.maze_misgen.scaling import size_defaults

ODD_SIDES = (3, 5, 7, 9, 11, 13, 15)


def test_the_rule_gives_the_flagship_its_measured_defaults_at_side_5():
    cfg = with_size_rule(MazeMisgenConfig())
    assert (cfg.size, cfg.total_steps, cfg.max_steps, cfg.region_sizes) == (5, 700_000, 40, (1, 3, 5))
    assert cfg.horizon == 40 and cfg.ppo.learning_rate == 2e-3
    assert (cfg.model, cfg.obs_format, cfg.train_size, cfg.eval_episodes) == ("mlp", "egocentric", 0, 500)


@pytest.mark.parametrize("side", (7, 9, 11, 13, 15))
def test_from_side_7_the_rule_trains_the_planner_at_7_and_evaluates_it_at_the_side(side):
    cfg = with_size_rule(MazeMisgenConfig(size=side))
    assert (cfg.model, cfg.obs_format, cfg.training_side) == ("vprop", "grid", 7)
    assert (cfg.total_steps, cfg.ppo.learning_rate, cfg.eval_episodes) == (650_000, 2e-3, 200)
    assert (cfg.max_steps, cfg.region_sizes) == (size_defaults(side).max_steps, size_defaults(side).region_sizes)
    assert cfg.training_horizon == round(cfg.horizon * 49 / side**2)


def test_up_to_side_5_and_for_an_egocentric_view_the_rule_keeps_the_mlp():
    assert with_size_rule(MazeMisgenConfig(size=3)).model == "mlp"
    cfg = with_size_rule(MazeMisgenConfig(size=9, obs_format="egocentric"))
    assert (cfg.model, cfg.train_size, cfg.total_steps, cfg.eval_episodes) == ("mlp", 0, 2_268_000, 500)
    assert cfg.ppo.learning_rate == size_defaults(9).learning_rate
    mlp_13 = with_size_rule(MazeMisgenConfig(size=13, model="mlp"))
    assert (mlp_13.obs_format, mlp_13.total_steps, mlp_13.ppo.learning_rate) == ("egocentric", 4_732_000, 2.6e-4)
    planner_5 = with_size_rule(MazeMisgenConfig(model="vprop"))
    assert (planner_5.obs_format, planner_5.training_side, planner_5.total_steps) == ("grid", 5, 650_000)


def test_budget_and_horizon_grow_with_the_number_of_cells():
    rules = [size_defaults(s) for s in ODD_SIDES]
    for small, large, s_small, s_large in zip(rules, rules[1:], ODD_SIDES, ODD_SIDES[1:]):
        assert large.total_steps > small.total_steps and large.max_steps > small.max_steps
        ratio = (s_large / s_small) ** 2
        assert large.total_steps / small.total_steps == pytest.approx(ratio, rel=0.01)
    assert [r.region_sizes[-1] for r in rules] == list(ODD_SIDES)  # the whole maze is always a region
    rates = [r.learning_rate for r in rules]
    assert rates == sorted(rates, reverse=True) and rates[ODD_SIDES.index(9)] == pytest.approx(5.6e-4)


@pytest.mark.parametrize("side", ODD_SIDES)
def test_every_rule_config_validates(side):
    cfg = with_size_rule(MazeMisgenConfig(size=side))
    cfg.validate()
    assert cfg.region_sizes[0] == 1 and all(1 <= r <= side for r in cfg.region_sizes)


def test_explicit_settings_beat_the_rule():
    ppo = dataclasses.replace(MazeMisgenConfig().ppo, learning_rate=0.1)
    cfg = with_size_rule(MazeMisgenConfig(size=13, total_steps=5, max_steps=7, region_sizes=(3,), ppo=ppo,
                                          train_size=9, eval_episodes=3))
    assert (cfg.total_steps, cfg.max_steps, cfg.region_sizes, cfg.ppo.learning_rate) == (5, 7, (3,), 0.1)
    assert (cfg.train_size, cfg.eval_episodes) == (9, 3)
    assert with_size_rule(cfg) == cfg  # resolving twice changes nothing
    for side in ODD_SIDES:
        settled = with_size_rule(MazeMisgenConfig(size=side))
        assert with_size_rule(settled) == settled


def test_a_negative_budget_or_step_size_is_refused():
    with pytest.raises(MesaoptError, match="total_steps must be >= 0"):
        MazeMisgenConfig(total_steps=-1).validate()
    with pytest.raises(MesaoptError, match="learning_rate"):
        MazeMisgenConfig(ppo=dataclasses.replace(MazeMisgenConfig().ppo, learning_rate=-1e-3)).validate()


def test_the_research_scale_preset_trains_planners_at_7_and_evaluates_them_at_13():
    record = EXPERIMENTS["maze-misgen-13"]
    cfg = dataclasses.replace(record.config, n_seeds=2)
    setup = build_setup(cfg)
    assert (setup.env.obs_shape, setup.eval_env.obs_shape) == ((3, 7, 7), (3, 13, 13))  # whole-grid planners
    assert setup.n_agents == 4 * 2
    assert np.all(np.asarray(setup.in_dist_params.max_steps) == 270)
    goal_cells = np.asarray(setup.in_dist_params.goal_mask).sum(axis=(1, 2))
    assert list(goal_cells[::2]) == [1, 25, 81, 169]  # regions 1, 5, 9, 13: the last is the whole maze
    assert list(np.asarray(setup.train_params.goal_mask).sum(axis=(1, 2))[::2]) == [1, 9, 25, 49]


def _stored_name(preset: str, cfg) -> str:
    from mesaopt.runs.driver import settled_config
    from mesaopt.runs.store import run_name

    experiment = EXPERIMENTS[preset]
    return run_name(preset, {"preset": preset, **dataclasses.asdict(settled_config(experiment, cfg))})


def test_a_rule_value_and_the_same_value_by_hand_are_one_run():
    by_rule = MazeMisgenConfig(size=9)
    by_hand = MazeMisgenConfig(size=9, train_size=7, model="vprop", obs_format="grid", total_steps=650_000,
                               max_steps=130, region_sizes=(1, 5, 9), eval_episodes=200,
                               ppo=dataclasses.replace(MazeMisgenConfig().ppo, learning_rate=2e-3))
    assert _stored_name("maze-misgen", by_rule) == _stored_name("maze-misgen", by_hand)
    assert _stored_name("maze-misgen", by_rule) != _stored_name("maze-misgen", MazeMisgenConfig(size=9, max_steps=99))
    assert _stored_name("maze-misgen", by_rule) != _stored_name("maze-misgen", MazeMisgenConfig(size=9, train_size=9))
    flagship_by_hand = MazeMisgenConfig(model="mlp", obs_format="egocentric", total_steps=700_000, max_steps=40,
                                        region_sizes=(1, 3, 5), eval_episodes=500,
                                        ppo=dataclasses.replace(MazeMisgenConfig().ppo, learning_rate=2e-3))
    assert _stored_name("maze-misgen", MazeMisgenConfig()) == _stored_name("maze-misgen", flagship_by_hand)


def test_print_config_shows_the_rule_values(capsys):
    from mesaopt.cli import main

    assert main(["run", "maze-misgen", "--size", "13", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert "total_steps = 650000" in text and "max_steps = 270" in text and "region_sizes = [1, 7, 13]" in text
    assert 'model = "vprop"' in text and "train_size = 7" in text and "learning_rate = 0.002" in text
    assert main(["run", "maze-misgen", "--size", "13", "--model", "mlp", "--print-config"]) == 0
    text = capsys.readouterr().out
    assert "total_steps = 4732000" in text and 'obs_format = "egocentric"' in text and "learning_rate = 0.00026" in text


def _train_small(**fields) -> MazeMisgenConfig:
    return MazeMisgenConfig(size=13, train_size=7, region_sizes=(1, 5, 9, 13), n_seeds=1, model="vprop",
                            obs_format="grid", **fields)


def test_train_size_trains_on_the_small_side_and_evaluates_on_size():
    cfg = with_size_rule(_train_small())
    setup = build_setup(cfg)
    assert (setup.env.size, setup.eval_env.size) == (7, 13)
    assert [cfg.training_region(r) for r in cfg.region_sizes] == [1, 3, 5, 7]  # each region's share of the side
    assert list(np.asarray(setup.train_params.goal_mask).sum(axis=(1, 2))) == [1, 9, 25, 49]
    assert list(np.asarray(setup.in_dist_params.goal_mask).sum(axis=(1, 2))) == [1, 25, 81, 169]
    assert np.asarray(setup.shifted_params.goal_mask).shape[1:] == (13, 13)
    assert np.all(np.asarray(setup.train_params.max_steps) == 78)  # 270 steps × 49 / 169 cells
    assert np.all(np.asarray(setup.in_dist_params.max_steps) == 270)
    assert (cfg.total_steps, cfg.ppo.learning_rate, cfg.eval_episodes) == (650_000, 2e-3, 200)  # the planner's


def test_train_size_equal_to_size_changes_nothing():
    same = build_setup(MazeMisgenConfig(size=7, train_size=7, region_sizes=(1, 7), n_seeds=1))
    assert same.env is same.eval_env
    np.testing.assert_array_equal(np.asarray(same.train_params.goal_mask), np.asarray(same.in_dist_params.goal_mask))
    assert _stored_name("maze-misgen", MazeMisgenConfig(size=7, train_size=0)) == _stored_name(
        "maze-misgen", MazeMisgenConfig(size=7, train_size=7))
    assert _stored_name("maze-misgen", MazeMisgenConfig(size=7)) != _stored_name(
        "maze-misgen", MazeMisgenConfig(size=7, train_size=5, model="vprop", obs_format="grid"))


@pytest.mark.parametrize(("fields", "message"), [
    (dict(train_size=6), "train_size must be 0"),
    (dict(train_size=7, model="mlp", obs_format="egocentric"), r"depend on the maze's side.*\['vprop'\]"),
    (dict(train_size=7, model="vprop", obs_format="grid", layout_pool_size=8), "layout_pool_size needs train_size"),
])
def test_an_impossible_train_size_is_refused(fields, message):
    with pytest.raises(MesaoptError, match=message):
        MazeMisgenConfig(size=13, **fields).validate()


def test_a_train_size_the_rules_mlp_cannot_use_is_refused_after_the_model_is_chosen():
    with pytest.raises(MesaoptError, match="depend on the maze's side"):
        with_size_rule(MazeMisgenConfig(size=5, train_size=3))
    with pytest.raises(MesaoptError, match="reads the whole maze"):
        with_size_rule(MazeMisgenConfig(size=9, model="vprop", obs_format="egocentric"))


def test_a_layout_pool_makes_the_rule_train_the_planner_at_the_side_itself():
    cfg = with_size_rule(MazeMisgenConfig(size=9, layout_pool_size=8))
    assert (cfg.model, cfg.training_side) == ("vprop", 9)
