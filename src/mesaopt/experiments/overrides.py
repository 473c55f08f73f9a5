"""Apply ``--field value`` command-line overrides to a frozen dataclass config, with one-line errors.

Field names accept dashes or underscores; nested configs use dots (``--ppo.learning-rate 1e-3``). Tuples take
several values (``--region-sizes 1 3 7``); booleans take ``true``/``false`` or stand alone (= true).
"""

from __future__ import annotations

import dataclasses
import types
import typing

from mesaopt.errors import MesaoptError


def field_types(config) -> dict[str, type]:
    """Flattened ``{dotted.name: type}`` of every overridable field (nested dataclasses expanded)."""
    hints = typing.get_type_hints(type(config))
    out: dict[str, type] = {}
    for f in dataclasses.fields(config):
        value = getattr(config, f.name)
        if dataclasses.is_dataclass(value):
            out.update({f"{f.name}.{k}": t for k, t in field_types(value).items()})
        else:
            out[f.name] = hints[f.name]
    return out


def _convert_scalar(name: str, text: str, kind: type):
    try:
        if kind is bool:
            if text.lower() in ("true", "1", "yes"):
                return True
            if text.lower() in ("false", "0", "no"):
                return False
            raise ValueError
        return kind(text)
    except ValueError:
        raise MesaoptError(f"--{name} expects {kind.__name__}, got {text!r}") from None


def _optional_inner(kind):
    """``X`` for ``X | None`` (or ``Optional[X]``), else None."""
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(kind) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(kind)) == 2:
            return args[0]
    return None


def convert(name: str, values: list[str], kind) -> object:
    """Convert the strings given for one flag to the field's type (``none`` for an optional field's None)."""
    inner = _optional_inner(kind)
    if inner is not None:
        if len(values) == 1 and values[0].lower() == "none":
            return None
        return convert(name, values, inner)
    if typing.get_origin(kind) is tuple:
        (item,) = {a for a in typing.get_args(kind) if a is not Ellipsis}
        if not values:
            raise MesaoptError(f"--{name} expects one or more {item.__name__} values")
        return tuple(_convert_scalar(name, v, item) for v in values)
    if kind is bool and not values:
        return True
    if len(values) != 1:
        raise MesaoptError(f"--{name} expects exactly one {kind.__name__} value, got {len(values)}")
    return _convert_scalar(name, values[0], kind)


def _split_flags(args: list[str]) -> list[tuple[str, list[str]]]:
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


def _replace(config, dotted: str, value):
    head, _, rest = dotted.partition(".")
    if rest:
        return dataclasses.replace(config, **{head: _replace(getattr(config, head), rest, value)})
    return dataclasses.replace(config, **{head: value})


def apply_overrides(config, args: list[str]):
    """Return ``config`` with every ``--field value`` in ``args`` applied; unknown fields name the allowed ones."""
    types = field_types(config)
    for name, values in _split_flags(args):
        if name not in types:
            allowed = ", ".join("--" + k.replace("_", "-") for k in types)
            raise MesaoptError(f"unknown config field --{name.replace('_', '-')}; allowed: {allowed}")
        config = _replace(config, name, convert(name.replace("_", "-"), values, types[name]))
    return config


def config_from_dict(default, values: dict):
    """Rebuild a config from its ``dataclasses.asdict`` form (e.g. a run's config.json); unknown keys fail."""
    kwargs = {}
    for f in dataclasses.fields(default):
        if f.name not in values:
            continue
        current = getattr(default, f.name)
        value = values[f.name]
        if dataclasses.is_dataclass(current):
            value = config_from_dict(current, value)
        elif isinstance(current, tuple):
            value = tuple(value)
        kwargs[f.name] = value
    unknown = set(values) - {f.name for f in dataclasses.fields(default)}
    if unknown:
        raise MesaoptError(f"unknown config keys {sorted(unknown)}; allowed: {[f.name for f in dataclasses.fields(default)]}")
    return dataclasses.replace(default, **kwargs)
