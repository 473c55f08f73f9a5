"""The reward search finds a reward fitter than fitness itself, and it values what fitness ignores: a reduced
``optimal-reward`` run (one level, three searches, a few generations)."""

import dataclasses

from mesaopt.experiments.optimal_reward import OptimalRewardConfig, run_optimal_reward
from mesaopt.experiments.record import RunContext


class _Writer:
    def path(self, rel):
        raise AssertionError(f"unexpected write {rel}")


def test_the_searched_reward_beats_fitness_and_values_quenching():
    base = OptimalRewardConfig()
    cfg = dataclasses.replace(base, levels=(3000,), n_seeds=3, eval_lifetimes=64, lifetimes_per_evaluation=4,
                              evolution=dataclasses.replace(base.evolution, generations=10), n_chunks=1)
    h = run_optimal_reward(cfg, RunContext(writer=_Writer()))["headline"]
    assert h["margin_ci"][0][0] > 0, h["margin_ci"]  # fitter than fitness-as-reward on the same lifetimes
    assert h["best_fitness"][0] > 2 * h["fitness_reward_fitness"][0]
    reward = h["best_reward"]["3000"]
    assert reward["hungry_thirsty"] < 0 and reward["hungry_quenched"] > reward["hungry_thirsty"], reward
