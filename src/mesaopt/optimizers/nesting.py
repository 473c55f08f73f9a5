"""Nesting as a first-class object: a chain of levels, each an optimizer with the objective it is given, the
pressure it applies and what it produces — which the next level takes as its objective (or its input)."""

from __future__ import annotations

from dataclasses import dataclass

from mesaopt.errors import MesaoptError


@dataclass(frozen=True)
class Level:
    """One optimizer of a chain."""

    name: str
    """Short name, used as a report key (e.g. ``"evolution"``)."""
    optimizer: str
    """What optimizes at this level (e.g. ``"CMA-ES over reward weights"``)."""
    objective: str
    """What it optimizes (the top level's is the true objective)."""
    pressure: str
    """The knob that sets how hard it optimizes (generations, learning steps, look-ahead depth, bits)."""
    consumes: str
    """The kind of thing its objective is made of, which the level above must produce."""
    produces: str
    """The kind of thing it outputs for the level below."""


def check_chain(levels) -> None:
    """One-line ``MesaoptError`` unless ``levels`` has at least two levels with distinct names, each consuming
    what the one above produces."""
    levels = tuple(levels)
    if len(levels) < 2:
        raise MesaoptError(f"a chain needs at least two levels, got {len(levels)}")
    names = [lv.name for lv in levels]
    if len(set(names)) != len(names):
        raise MesaoptError(f"level names must be distinct, got {names}")
    for upper, lower in zip(levels, levels[1:]):
        if lower.consumes != upper.produces:
            raise MesaoptError(f"level '{lower.name}' consumes {lower.consumes!r} but the level above it, "
                               f"'{upper.name}', produces {upper.produces!r}")
