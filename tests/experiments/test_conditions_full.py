"""The ``--full`` variants of the conditions factors: at least 5 seeds, finer ladders than the defaults, and valid
configs (the studies themselves are too long for the suite)."""

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
