"""Evolution installs the sweet tooth, and only where the learner is bounded: a reduced ``evolved-reward`` run (a few
seconds). With nutrition felt at once evolution weights nutrition and the junk-food shift costs little; with it felt
two meals late evolution weights sweetness, the evolved learner beats the fitness-rewarded one in the ancestral
world and loses most of what it could eat under the shift; its choices read as the objective its weights say."""

import dataclasses

import pytest

from mesaopt.experiments.evolved_reward import EvolvedRewardConfig, run_evolved_reward
from mesaopt.experiments.record import RunContext


class _Writer:
    def path(self, rel):  # nothing is written by this preset's run function
        raise AssertionError(f"unexpected write {rel}")


@pytest.fixture(scope="module")
def report():
    base = EvolvedRewardConfig()
    cfg = dataclasses.replace(base, levels=(0, 2), n_seeds=3, eval_lifetimes=256,
                              evolution=dataclasses.replace(base.evolution, generations=25))
    return run_evolved_reward(cfg, RunContext(writer=_Writer()))


def test_no_delay_evolves_the_value_itself(report):
    h = report["headline"]
    weights = h["evolved_weights"]["0"]
    assert weights["nutrition"] > 0.5 and weights["nutrition"] > abs(weights["sweetness"]), weights
    assert h["fitness_lost_under_shift_ci"][0][1] <= 0.3
    assert h["behavioral_objective"]["0"] == "value"


def test_a_delay_evolves_the_cue_that_fails_under_the_shift(report):
    h = report["headline"]
    weights = h["evolved_weights"]["2"]
    assert weights["sweetness"] > 0.5 and weights["sweetness"] > abs(weights["nutrition"]), weights
    assert h["train_fitness_ci"][1][0] > h["train_fitness_fitness_reward_ci"][1][1]  # beats fitness-as-reward
    assert h["fitness_lost_under_shift_ci"][1][0] >= 0.8
    assert h["behavioral_objective"]["2"] == "cue"
