"""The ``--full`` variants of the conditions factors and of ``maze-search``: at least 5 seeds, finer ladders than
the defaults, and valid configs (the studies themselves are too long for the suite)."""

import pytest

from mesaopt.experiments.conditions_compression import ConditionsCompressionConfig
from mesaopt.experiments.conditions_diversity import ConditionsDiversityConfig
from mesaopt.experiments.conditions_statefulness import ConditionsStatefulnessConfig


@pytest.mark.parametrize("config, seeds, ladders", [
    (ConditionsDiversityConfig(), ("n_seeds",), ("pool_sizes",)),
    (ConditionsStatefulnessConfig(), ("n_seeds",), ("iterations",)),
    (ConditionsCompressionConfig(), ("n_seeds", "gd_seeds"), ("ks", "lambdas", "weight_decays")),
])
def test_full_means_more_seeds_and_finer_ladders(config, seeds, ladders):
    assert config.resolved() is config
    full = type(config)(full=True).resolved()
    full.validate()
    assert not full.full
    for name in seeds:
        assert getattr(full, name) >= 5 and getattr(full, name) > getattr(config, name)
    for name in ladders:
        assert set(getattr(config, name)) < set(getattr(full, name)), name


def test_maze_search_full_trains_eight_networks_per_model_class():
    from mesaopt.experiments.maze_search.config import MazeSearchConfig

    assert MazeSearchConfig().resolved() == MazeSearchConfig()
    full = MazeSearchConfig(full=True).resolved()
    full.validate()
    assert full.n_seeds == 8 and not full.full
    assert full == MazeSearchConfig(n_seeds=8)  # nothing else changes
    assert MazeSearchConfig(full=True, n_seeds=12).resolved().n_seeds == 12  # never fewer than asked for
