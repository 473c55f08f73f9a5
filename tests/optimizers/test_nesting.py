"""A chain of levels: each level consumes what the one above produces."""

import dataclasses

import pytest

from mesaopt.errors import MesaoptError
from mesaopt.experiments.nested import LEVELS
from mesaopt.optimizers.nesting import Level, check_chain


def test_the_nested_chain_fits_and_broken_chains_are_one_line_errors():
    check_chain(LEVELS)
    with pytest.raises(MesaoptError, match="a chain needs at least two levels, got 1"):
        check_chain(LEVELS[:1])
    broken = (LEVELS[0], dataclasses.replace(LEVELS[1], consumes="values"))
    with pytest.raises(MesaoptError, match="level 'learner' consumes 'values' but the level above it, 'evolution', "
                                           "produces 'reward'"):
        check_chain(broken)
    twin = Level("evolution", "x", "y", "z", consumes="reward", produces="values")
    with pytest.raises(MesaoptError, match="level names must be distinct"):
        check_chain((LEVELS[0], twin))
