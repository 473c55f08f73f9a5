"""Tests of ``mesaopt.runs.config_cli``: tyro-backed overrides, help text, config files and TOML output."""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, field

import pytest

from mesaopt.errors import MesaoptError
from mesaopt.experiments.icl_regression.run import IclRegressionConfig
from mesaopt.experiments.maze_misgen.config import MazeMisgenConfig
from mesaopt.experiments.shared.evidence import InspectConfig
from mesaopt.optimizers.ppo import PPOConfig
from mesaopt.runs.config_cli import config_from_dict, config_help, config_to_toml, load_config_file, parse_config
from mesaopt.tasks.regression import RegressionTask


@dataclass(frozen=True)
class Leaf:
    """Innermost settings."""

    depth: int = 1
    """How deep the leaf sits."""
    label: str | None = None
    """Optional label of the leaf."""


@dataclass(frozen=True)
class Branch:
    """Middle settings."""

    rate: float = 0.5
    """Branch rate."""
    leaf: Leaf = field(default_factory=Leaf)
    """The leaf."""


@dataclass(frozen=True)
class Toy:
    """A small nested config for the tests."""

    count: int = 3
    """How many toys."""
    name: str = "toy"
    """Toy name."""
    shape: tuple[int, int, int] = (1, 2, 3)
    """Fixed-length shape."""
    switches: tuple[bool, ...] = (True,)
    """Several booleans."""
    limit: float | None = 2.5
    """Optional limit."""
    branch: Branch = field(default_factory=Branch)
    """The branch."""


def _parse(default, *args):
    return parse_config(default, list(args), prog="mesaopt test")


def _error(default, *args) -> str:
    with pytest.raises(MesaoptError) as info:
        _parse(default, *args)
    message = str(info.value)
    assert "\n" not in message
    return message


# ---- parse_config ----------------------------------------------------------------------------------------------


def test_no_args_returns_the_default_itself():
    cfg = MazeMisgenConfig()
    assert _parse(cfg) is cfg


def test_scalar_tuple_and_nested_overrides():
    cfg = _parse(MazeMisgenConfig(), "--size", "7", "--region-sizes", "1", "3", "7", "--ppo.learning-rate", "1e-3")
    assert cfg.size == 7
    assert cfg.region_sizes == (1, 3, 7)
    assert cfg.ppo.learning_rate == pytest.approx(1e-3)
    assert isinstance(cfg, MazeMisgenConfig) and isinstance(cfg.ppo, PPOConfig)
    assert cfg.ppo.n_envs == MazeMisgenConfig().ppo.n_envs  # untouched nested fields keep the default's values
    assert MazeMisgenConfig().size == 5  # the default instance is not changed


@pytest.mark.parametrize("args", [
    ["--ppo.learning-rate", "0.125"],
    ["--ppo.learning_rate", "0.125"],
    ["--ppo.learning-rate=0.125"],
    ["--ppo.learning_rate=0.125"],
])
def test_nested_flag_spellings(args):
    assert _parse(MazeMisgenConfig(), *args).ppo.learning_rate == 0.125


@pytest.mark.parametrize("args", [["--n-seeds", "9"], ["--n_seeds", "9"], ["--n-seeds=9"]])
def test_top_level_flag_spellings(args):
    assert _parse(MazeMisgenConfig(), *args).n_seeds == 9


def test_equals_form_starts_a_tuple_and_negative_numbers_are_values():
    cfg = _parse(Toy(), "--shape=-1", "0", "5", "--count", "-4", "--branch.rate", "-0.5")
    assert cfg.shape == (-1, 0, 5)
    assert cfg.count == -4
    assert cfg.branch.rate == -0.5


def test_later_flag_wins():
    assert _parse(MazeMisgenConfig(), "--seed", "1", "--seed", "2").seed == 2


@pytest.mark.parametrize(("args", "expected"), [
    (["--eval-greedy"], True),
    (["--eval-greedy", "true"], True),
    (["--eval-greedy", "True"], True),
    (["--eval-greedy=yes"], True),
    (["--eval-greedy", "1"], True),
    (["--eval-greedy", "false"], False),
    (["--eval-greedy", "FALSE"], False),
    (["--eval-greedy=no"], False),
])
def test_bool_spellings(args, expected):
    default = dataclasses.replace(MazeMisgenConfig(), eval_greedy=not expected)
    assert _parse(default, *args).eval_greedy is expected


def test_bare_bool_followed_by_another_flag():
    cfg = _parse(MazeMisgenConfig(), "--eval-greedy", "--ppo.anneal-lr", "false", "--size", "9")
    assert cfg.eval_greedy is True
    assert cfg.ppo.anneal_lr is False
    assert cfg.size == 9


def test_tuple_of_bools_takes_lower_case():
    assert _parse(Toy(), "--switches", "true", "false", "TRUE").switches == (True, False, True)


@pytest.mark.parametrize("spelling", ["none", "None", "NONE"])
def test_none_for_optional_field(spelling):
    default = IclRegressionConfig(task=RegressionTask(pool_size=5))
    cfg = _parse(default, "--task.pool-size", spelling)
    assert cfg.task.pool_size is None
    assert cfg.task.d == default.task.d


def test_optional_field_takes_a_value():
    cfg = _parse(IclRegressionConfig(), "--task.pool-size", "64", "--learners", "ridge", "gd")
    assert cfg.task.pool_size == 64
    assert cfg.learners == ("ridge", "gd")


def test_two_levels_of_nesting_and_optional_str():
    cfg = _parse(Toy(), "--branch.leaf.depth", "4", "--branch.leaf.label", "oak", "--limit", "none")
    assert cfg.branch.leaf == Leaf(depth=4, label="oak")
    assert cfg.limit is None
    assert _parse(cfg, "--branch.leaf.label", "none").branch.leaf.label is None


def test_unknown_field_lists_allowed_fields():
    message = _error(MazeMisgenConfig(), "--no-such-field", "1")
    assert message.startswith("unknown config field --no-such-field; allowed: --size, --region-sizes, ")
    assert "--ppo.learning-rate" in message
    assert "--eval-greedy" in message


def test_unknown_nested_field():
    message = _error(MazeMisgenConfig(), "--ppo.nope", "1")
    assert "unknown config field --ppo.nope" in message
    assert "--ppo.gae-lambda" in message


@pytest.mark.parametrize(("args", "expected"), [
    (["--n-seeds", "many"], "--n-seeds expects int, got 'many'"),
    (["--ppo.gamma", "abc"], "--ppo.gamma expects float, got 'abc'"),
    (["--region-sizes", "1", "x"], "--region-sizes expects one or more int values, got ['1', 'x']"),
    (["--eval-greedy", "maybe"], "--eval-greedy expects bool (true or false), got 'maybe'"),
    (["--task.pool-size", "lots"], "--task.pool-size expects int or none, got 'lots'"),
])
def test_wrong_type_is_one_line(args, expected, capsys):
    default = IclRegressionConfig() if args[0].startswith("--task") else MazeMisgenConfig()
    assert _error(default, *args) == expected
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""  # tyro's error box is swallowed


@pytest.mark.parametrize(("args", "expected"), [
    (["--n-seeds"], "--n-seeds expects exactly one int value, got no value"),
    (["--n-seeds", "1", "2"], "--n-seeds expects exactly one int value, got 2 values"),
    (["--region-sizes"], "--region-sizes expects one or more int values, got no value"),
])
def test_wrong_number_of_values(args, expected):
    assert _error(MazeMisgenConfig(), *args) == expected


def test_fixed_length_tuple_needs_every_value():
    assert "--shape expects 3 int values, got 2 values" in _error(Toy(), "--shape", "1", "2")
    assert _parse(Toy(), "--shape", "4", "5", "6").shape == (4, 5, 6)


def test_stray_argument():
    assert "unexpected argument 'stray'" in _error(MazeMisgenConfig(), "stray", "--size", "7")


def test_inspect_config_overrides():
    cfg = _parse(InspectConfig(), "--n-episodes", "8", "--seed", "3")
    assert (cfg.n_episodes, cfg.seed) == (8, 3)
    assert cfg.thresholds == InspectConfig().thresholds


# ---- config_help -----------------------------------------------------------------------------------------------


def test_help_lists_every_field_with_docstrings(capsys):
    text = config_help(MazeMisgenConfig(), prog="mesaopt run maze-misgen", description="Maze misgeneralization.")
    assert capsys.readouterr().out == ""
    assert "mesaopt run maze-misgen" in text
    assert "Maze misgeneralization." in text
    assert "Independent agents per region size." in text  # top-level docstring
    assert "Adam step size" in text  # nested docstring
    assert "\x1b[" not in text
    for dotted in ("n_seeds", "region_sizes", "eval_greedy", "ppo.learning_rate", "ppo.n_spares"):
        assert "--" + dotted.replace("_", "-") in text
    assert "true|false" in text


def test_help_shows_long_docstrings_whole_and_nested_tables():
    text = config_help(IclRegressionConfig(), prog="mesaopt run icl-regression")
    lines = text.splitlines()
    doc = "Number M of distinct tasks drawn once and reused (finite pretraining diversity); None = fresh per prompt."
    assert any(doc in line for line in lines)
    assert "--task.pool-size" in text and "--train.learning-rate" in text
    assert "Input dimension (≥ 1)." in text
    assert "2048" in text


# ---- config_from_dict and load_config_file --------------------------------------------------------------------


def test_config_from_dict_round_trips_asdict():
    cfg = _parse(MazeMisgenConfig(), "--size", "9", "--region-sizes", "2", "4", "--ppo.gamma", "0.5")
    stored = json.loads(json.dumps(dataclasses.asdict(cfg)))  # tuples become lists, as in a run's config.json
    assert config_from_dict(MazeMisgenConfig(), stored) == cfg


def test_config_from_dict_keeps_defaults_and_coerces():
    cfg = config_from_dict(MazeMisgenConfig(), {"region_sizes": [3], "ppo": {"learning_rate": 1}})
    assert cfg.region_sizes == (3,)
    assert cfg.ppo.learning_rate == 1.0 and isinstance(cfg.ppo.learning_rate, float)
    assert cfg.size == MazeMisgenConfig().size
    assert cfg.ppo.n_envs == MazeMisgenConfig().ppo.n_envs


@pytest.mark.parametrize(("values", "expected"), [
    ({"nope": 1}, "unknown config key nope; allowed: size, region_sizes"),
    ({"ppo": {"nope": 1}}, "unknown config key ppo.nope; allowed: ppo.n_envs"),
    ({"n_seeds": "many"}, "n_seeds expects int, got 'many'"),
    ({"n_seeds": True}, "n_seeds expects int, got True"),
    ({"eval_greedy": 1}, "eval_greedy expects bool (true or false), got 1"),
    ({"region_sizes": "1 3"}, "region_sizes expects one or more int values, got '1 3'"),
    ({"region_sizes": [1, "x"]}, "region_sizes expects int, got 'x'"),
    ({"ppo": 3}, "ppo expects a table of PPOConfig fields, got 3"),
])
def test_config_from_dict_errors(values, expected):
    with pytest.raises(MesaoptError) as info:
        config_from_dict(MazeMisgenConfig(), values)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_load_toml_file(tmp_path):
    path = tmp_path / "cfg.toml"
    path.write_text('preset = "maze-misgen"\nsize = 7\nregion_sizes = [1, 7]\n\n[ppo]\nlearning_rate = 1\n')
    cfg = load_config_file(MazeMisgenConfig(), path)
    assert cfg.size == 7
    assert cfg.region_sizes == (1, 7)
    assert cfg.ppo.learning_rate == 1.0 and isinstance(cfg.ppo.learning_rate, float)
    assert cfg.n_seeds == MazeMisgenConfig().n_seeds


def test_load_json_file_round_trip(tmp_path):
    cfg = IclRegressionConfig(task=RegressionTask(d=3, pool_size=None), learners=("ridge",))
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"preset": "icl-regression", **dataclasses.asdict(cfg)}))
    default = IclRegressionConfig(task=RegressionTask(pool_size=9))
    assert load_config_file(default, str(path)) == cfg


def _file_error(tmp_path, name: str, text: str | None, default=None) -> str:
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    with pytest.raises(MesaoptError) as info:
        load_config_file(default or MazeMisgenConfig(), path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_file_unknown_keys(tmp_path):
    message = _file_error(tmp_path, "a.toml", "[ppo]\nlearning_rte = 0.1\n")
    assert "unknown config key ppo.learning_rte; allowed: ppo.n_envs" in message
    assert "a.toml" in message
    assert "unknown config key colour" in _file_error(tmp_path, "b.json", '{"colour": "red"}')


def test_file_wrong_type(tmp_path):
    assert "n_seeds expects int, got 'many'" in _file_error(tmp_path, "c.toml", 'n_seeds = "many"\n')


def test_file_bad_suffix(tmp_path):
    message = _file_error(tmp_path, "cfg.yaml", "size: 7\n")
    assert ".yaml" in message and "allowed: .toml, .json" in message


def test_file_invalid_syntax(tmp_path):
    assert "invalid TOML" in _file_error(tmp_path, "bad.toml", "size = = 7\n[ppo\n")
    assert "invalid JSON" in _file_error(tmp_path, "bad.json", '{"size": 7,,}')


def test_file_missing_or_not_a_table(tmp_path):
    assert "does not exist" in _file_error(tmp_path, "absent.toml", None)
    assert "must hold a table" in _file_error(tmp_path, "list.json", "[1, 2]")


# ---- config_to_toml --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cfg", [
    MazeMisgenConfig(),
    _parse(MazeMisgenConfig(), "--size", "9", "--eval-greedy", "--ppo.learning-rate", "3.3e-5", "--region-sizes", "3"),
    IclRegressionConfig(),
    IclRegressionConfig(task=RegressionTask(pool_size=16), learners=()),
    InspectConfig(),
    Toy(name='say "hi"\\ \t\nü 🙂\x7f', limit=None, switches=(),
        branch=Branch(rate=math.inf, leaf=Leaf(label=None))),
], ids=["maze", "maze-overridden", "icl-none", "icl-pool", "inspect", "toy-odd"])
def test_toml_round_trip(cfg, tmp_path):
    text = config_to_toml(cfg)
    tomllib.loads(text)  # valid TOML
    path = tmp_path / "cfg.toml"
    path.write_text(text, encoding="utf-8")
    # A default whose None fields are set (and vice versa) shows the file alone decides every value.
    other = dataclasses.replace(cfg, **_flipped_optionals(cfg))
    assert load_config_file(other, path) == cfg


def _flipped_optionals(cfg) -> dict:
    if isinstance(cfg, IclRegressionConfig):
        return {"task": dataclasses.replace(cfg.task, pool_size=None if cfg.task.pool_size else 3)}
    if isinstance(cfg, Toy):
        return {"limit": 1.0, "branch": Branch(leaf=Leaf(label="x"))}
    return {}


def test_toml_layout_for_none_and_nested_tables():
    text = config_to_toml(IclRegressionConfig())
    assert text.startswith("#") and '"none"' in text.splitlines()[0]
    assert 'pool_size = "none"' in text
    assert "\n[task]\n" in text and "\n[train]\n" in text
    assert 'learners = ["least_squares", "ridge"' in text
    nested = config_to_toml(Toy())
    assert "\n[branch.leaf]\n" in nested and nested.index("[branch]") < nested.index("[branch.leaf]")


def test_toml_rejects_unsupported_values():
    @dataclass(frozen=True)
    class WithDict:
        table: dict = field(default_factory=lambda: {"a": 1})

    with pytest.raises(MesaoptError, match="cannot write config field table"):
        config_to_toml(WithDict())
