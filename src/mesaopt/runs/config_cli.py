"""Command-line overrides, help and config files for frozen dataclass configs, built on tyro.

``parse_config`` applies ``--field value`` overrides with tyro. Field names take dashes or underscores; nested
configs use dots (``--ppo.learning-rate 1e-3``); ``--field=value`` works too. Tuples take several values
(``--region-sizes 1 3 7``). Booleans stand alone (= true) or take ``true``/``false`` (also ``yes``/``no``,
``1``/``0``, any case). An ``X | None`` field takes ``none`` (any case) for None. Every problem is one
``MesaoptError`` line naming what is allowed; tyro's own error boxes are captured, never shown.

Config files (``load_config_file``) are TOML or JSON tables shaped like ``dataclasses.asdict(cfg)``.
``config_to_toml`` writes one; TOML has no null, so None is written as the string ``"none"``, which every
``X | None`` field reads back as None (on the command line as in files).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import math
import os
import re
import tomllib
import types
import typing
from pathlib import Path

import tyro

from mesaopt.errors import MesaoptError

_TYRO_CONFIG = (tyro.conf.FlagConversionOff,)
_HELP_COLUMNS = "200"
_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")
_SPELLING_NOTE = (
    "Booleans: --flag alone or --flag true|false. Optional values: none. Tuples: several values (--xs 1 2 3)."
)
_TOML_HEADER = '# mesaopt config. TOML has no null: "none" stands for an unset (None) value.'


# ---- field types and value descriptions ----------------------------------------------------------------------


def _field_types(config, prefix: str = "") -> dict[str, object]:
    """Flattened ``{dotted_name: type}`` of every field (nested dataclass values expanded)."""
    hints = typing.get_type_hints(type(config))
    out: dict[str, object] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update(_field_types(value, f"{prefix}{f.name}."))
        else:
            out[prefix + f.name] = hints[f.name]
    return out


def _optional_inner(kind):
    """``X`` for ``X | None`` (or ``Optional[X]``), else None."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = typing.get_args(kind)
        rest = [a for a in args if a is not type(None)]
        if len(args) == 2 and len(rest) == 1:
            return rest[0]
    return None


def _tuple_items(kind) -> tuple[tuple, bool] | None:
    """``(item types, variadic)`` of a tuple type (``((X,), True)`` for ``tuple[X, ...]``), else None."""
    if typing.get_origin(kind) is not tuple:
        return None
    args = typing.get_args(kind)
    if len(args) == 2 and args[1] is Ellipsis:
        return (args[0],), True
    return args, False


def _item_types(items: tuple[tuple, bool], n: int) -> tuple:
    kinds, variadic = items
    return kinds * n if variadic else kinds


def _describe(kind) -> str:
    """Short human name of a field type, e.g. ``int``, ``int or none``, ``one or more int values``."""
    inner = _optional_inner(kind)
    if inner is not None:
        return f"{_describe(inner)} or none"
    items = _tuple_items(kind)
    if items is not None:
        kinds, variadic = items
        if variadic or len(set(kinds)) == 1:
            return f"{'one or more' if variadic else len(kinds)} {_describe(kinds[0])} values"
        return f"{len(kinds)} values ({', '.join(_describe(k) for k in kinds)})"
    if kind is bool:
        return "bool (true or false)"
    if typing.get_origin(kind) is typing.Literal:
        return "one of " + ", ".join(str(a) for a in typing.get_args(kind))
    return getattr(kind, "__name__", str(kind))


def _flag(dotted: str) -> str:
    return "--" + dotted.replace("_", "-")


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# ---- command line ----------------------------------------------------------------------------------------------


def _split_flags(args: list[str]) -> list[tuple[str, list[str]]]:
    """``[(field_name, values)]`` from ``--field v1 v2 --other=v``; names normalised to underscores."""
    flags: list[tuple[str, list[str]]] = []
    for arg in args:
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            flags.append((name.replace("-", "_"), [value] if eq else []))
        elif flags:
            flags[-1][1].append(arg)
        else:
            raise MesaoptError(f"unexpected argument {arg!r}; overrides look like --field value")
    return flags


def _normalise_values(name: str, values: list[str], kind) -> list[str]:
    """Check how many values a flag got and respell bools/none the way tyro reads them."""
    inner = _optional_inner(kind)
    if inner is not None:
        if len(values) == 1 and values[0].lower() == "none":
            return ["None"]
        kind = inner
    items = _tuple_items(kind)
    if items is not None:
        if not values or (not items[1] and len(values) != len(items[0])):
            raise MesaoptError(f"{_flag(name)} expects {_describe(kind)}, got {_count(values)}")
        return [_respell_bool(v) if k is bool else v for v, k in zip(values, _item_types(items, len(values)))]
    if kind is bool and not values:
        return ["True"]
    if len(values) != 1:
        raise MesaoptError(f"{_flag(name)} expects exactly one {_describe(kind)} value, got {_count(values)}")
    return [_respell_bool(values[0])] if kind is bool else values


def _count(values: list[str]) -> str:
    return f"{len(values)} values" if values else "no value"


def _respell_bool(text: str) -> str:
    if text.lower() in _TRUE:
        return "True"
    if text.lower() in _FALSE:
        return "False"
    return text  # tyro rejects it; the error names the allowed spellings


def _tyro_args(args: list[str], kinds: dict[str, object]) -> tuple[list[str], dict[str, list[str]]]:
    """Canonical tyro arguments for ``args`` and the raw values given per field (for error messages)."""
    out: list[str] = []
    given: dict[str, list[str]] = {}
    for name, values in _split_flags(args):
        if name not in kinds:
            allowed = ", ".join(_flag(k) for k in kinds)
            raise MesaoptError(f"unknown config field {_flag(name)}; allowed: {allowed}")
        given[name] = values
        values = _normalise_values(name, values, kinds[name])
        single = len(values) == 1 and _tuple_items(_optional_inner(kinds[name]) or kinds[name]) is None
        out.extend([f"{_flag(name)}={values[0]}"] if single else [_flag(name), *values])
    return out, given


@contextlib.contextmanager
def _captured():
    """Collect everything tyro prints (stdout and stderr), laid out wide enough not to cut docstrings."""
    buffer = io.StringIO()
    old_columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = _HELP_COLUMNS
    try:
        with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            yield buffer
    finally:
        if old_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = old_columns


def _tyro_error(text: str, kinds: dict[str, object], given: dict[str, list[str]]) -> MesaoptError:
    """One-line error from tyro's captured error box: the flag it names, its type, and what was given."""
    for flag in re.findall(r"--[A-Za-z0-9_.-]+", text):
        name = flag[2:].replace("-", "_")
        if name in given:
            values = given[name]
            shown = repr(values[0]) if len(values) == 1 else repr(values)
            return MesaoptError(f"{_flag(name)} expects {_describe(kinds[name])}, got {shown}")
    cleaned = re.sub(r"[-─━│┃╭╮╰╯]{3,}|[│┃╭╮╰╯]", " ", _plain(text))
    return MesaoptError("invalid config overrides: " + _one_line(cleaned))


def _plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)


def parse_config(default, args: list[str], *, prog: str, description: str = "") -> object:
    """Return ``default`` with the ``--field value`` overrides in ``args`` applied (parsed by tyro).

    Raises ``MesaoptError`` (one line naming the allowed fields or the expected type) for an unknown field,
    a stray argument, a missing or extra value, or a value of the wrong type. ``-h``/``--help`` is not handled
    here: show ``config_help`` instead.
    """
    if not args:
        return default
    kinds = _field_types(default)
    tyro_args, given = _tyro_args(list(args), kinds)
    with _captured() as out:
        try:
            return tyro.cli(type(default), default=default, args=tyro_args, prog=prog,
                            description=description or None, config=_TYRO_CONFIG)
        except SystemExit:
            pass
    raise _tyro_error(out.getvalue(), kinds, given)


def config_help(default, *, prog: str, description: str = "") -> str:
    """Help text listing every field (nested ones as ``--ppo.learning-rate``) with docstring, type and default."""
    with _captured() as out:
        with contextlib.suppress(SystemExit):
            tyro.cli(type(default), default=default, args=["--help"], prog=prog,
                     description=description or None, config=_TYRO_CONFIG)
    lines = [line.rstrip() for line in _plain(out.getvalue()).splitlines()]
    width = max((len(line) for line in lines if not re.fullmatch(r"\s*-+", line)), default=0)
    lines = [line[:width] if re.fullmatch(r"\s*-+", line) else line for line in lines]
    return "\n".join(lines).rstrip() + "\n\n" + _SPELLING_NOTE + "\n"


# ---- dictionaries and files -----------------------------------------------------------------------------------


def _coerce(name: str, value, kind):
    """``value`` checked against (and, where lossless, converted to) the field type ``kind``."""
    inner = _optional_inner(kind)
    if inner is not None:
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        return _coerce(name, value, inner)
    items = _tuple_items(kind)
    if items is not None:
        if not isinstance(value, (list, tuple)) or (not items[1] and len(value) != len(items[0])):
            raise MesaoptError(f"{name} expects {_describe(kind)}, got {value!r}")
        return tuple(_coerce(name, v, k) for v, k in zip(value, _item_types(items, len(value))))
    ok = {
        bool: lambda v: isinstance(v, bool),
        int: lambda v: isinstance(v, int) and not isinstance(v, bool),
        float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        str: lambda v: isinstance(v, str),
    }
    if kind in ok and not ok[kind](value):
        raise MesaoptError(f"{name} expects {_describe(kind)}, got {value!r}")
    if typing.get_origin(kind) is typing.Literal and value not in typing.get_args(kind):
        raise MesaoptError(f"{name} expects {_describe(kind)}, got {value!r}")
    return float(value) if kind is float else value


def _from_dict(default, values, prefix: str):
    if not isinstance(values, dict):
        where = prefix.rstrip(".") or "config"
        raise MesaoptError(f"{where} expects a table of {type(default).__name__} fields, got {values!r}")
    names = [f.name for f in dataclasses.fields(default)]
    unknown = [key for key in values if key not in names]
    if unknown:
        allowed = ", ".join(prefix + n for n in names)
        raise MesaoptError(f"unknown config key {prefix}{unknown[0]}; allowed: {allowed}")
    hints = typing.get_type_hints(type(default))
    kwargs = {}
    for key, value in values.items():
        current = getattr(default, key)
        if dataclasses.is_dataclass(current):
            kwargs[key] = _from_dict(current, value, f"{prefix}{key}.")
        else:
            kwargs[key] = _coerce(prefix + key, value, hints[key])
    return dataclasses.replace(default, **kwargs)


def config_from_dict(default, values: dict) -> object:
    """Rebuild a config from its ``dataclasses.asdict`` form (e.g. a run's config.json) on top of ``default``.

    Missing keys keep their defaults; lists become tuples and ints floats where the field says so. Unknown keys
    (at any depth, named with dots) and values of the wrong type fail with a one-line ``MesaoptError``.
    """
    return _from_dict(default, values, "")


def _read_table(path: Path) -> dict:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise MesaoptError(f"config file {path} has suffix {path.suffix or '(none)'!r}; allowed: .toml, .json")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise MesaoptError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as err:
        raise MesaoptError(f"cannot read config file {path}: {_one_line(err)}") from None
    try:
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as err:
        raise MesaoptError(f"invalid {suffix[1:].upper()} in config file {path}: {_one_line(err)}") from None
    if not isinstance(data, dict):
        raise MesaoptError(f"config file {path} must hold a table of config fields, got {type(data).__name__}")
    return data


def load_config_file(default, path) -> object:
    """Return ``default`` with the values of a ``.toml`` or ``.json`` config file applied.

    The file holds nested tables shaped like ``dataclasses.asdict(cfg)``; a top-level ``preset`` key is ignored
    and ``"none"`` stands for None. Every problem (suffix, missing file, syntax, unknown key, wrong type) is a
    one-line ``MesaoptError``.
    """
    path = Path(path)
    data = _read_table(path)
    data.pop("preset", None)
    try:
        return config_from_dict(default, data)
    except MesaoptError as err:
        raise MesaoptError(f"{path}: {err}") from None


# ---- TOML output -----------------------------------------------------------------------------------------------


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(name: str, value) -> str:
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(_toml_value(name, v) for v in value) + "]"
    raise MesaoptError(f"cannot write config field {name} ({type(value).__name__}) as TOML")


def _toml_table(cfg, prefix: str, lines: list[str]) -> None:
    nested = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(value):
            nested.append((f.name, value))
        else:
            lines.append(f"{f.name} = {_toml_value(prefix + f.name, value)}")
    for name, value in nested:
        lines.extend(["", f"[{prefix}{name}]"])
        _toml_table(value, f"{prefix}{name}.", lines)


def config_to_toml(cfg) -> str:
    """The config as TOML text (nested configs as ``[table]``s, None as ``"none"``); ``load_config_file`` reads it."""
    lines = [_TOML_HEADER]
    _toml_table(cfg, "", lines)
    return "\n".join(lines) + "\n"
