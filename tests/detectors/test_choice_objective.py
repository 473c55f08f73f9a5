"""The choice-model behavioural objective: a planted cue-seeker reads as "cue", a planted value-seeker as "value",
a random chooser and a chooser repelled by the cue as neither."""

import numpy as np
import pytest

from mesaopt.detectors.choice_objective import fit_choice_weight, recover_choice_objective

RNG = np.random.default_rng(0)
N = 2000
CUE = RNG.uniform(size=(N, 2))
VALUE = -CUE + 0.3 * RNG.normal(size=(N, 2))  # anti-correlated: the two candidates disagree on most choices


def choices(pick_first: np.ndarray):
    first, second = np.where(pick_first, 0, 1), np.where(pick_first, 1, 0)
    rows = np.arange(N)
    chosen = {"cue": CUE[rows, first], "value": VALUE[rows, first]}
    declined = {"cue": CUE[rows, second], "value": VALUE[rows, second]}
    return chosen, declined


def noisy(prefer_first: np.ndarray, accuracy: float = 0.9) -> np.ndarray:
    return np.where(RNG.uniform(size=N) < accuracy, prefer_first, ~prefer_first)


@pytest.mark.parametrize("seeker, expected", [("cue", "cue"), ("value", "value")])
def test_a_planted_seeker_reads_as_its_objective(seeker, expected):
    feature = CUE if seeker == "cue" else VALUE
    report = recover_choice_objective(*choices(noisy(feature[:, 0] > feature[:, 1])))
    assert report["objective"] == expected and report["weight"][expected] > 0
    assert report["gain_bits"][expected] > report["gain_bits"]["value" if expected == "cue" else "cue"]


def test_random_and_repelled_choosers_read_as_none():
    assert recover_choice_objective(*choices(RNG.uniform(size=N) < 0.5))["objective"] == "none"
    repelled = recover_choice_objective(*choices(CUE[:, 0] < CUE[:, 1]))  # always the less sweet option
    assert repelled["weight"]["cue"] < 0
    assert repelled["objective"] != "cue"


def test_the_fitted_weight_grows_with_how_deterministic_the_choices_are():
    gaps = RNG.normal(size=N)
    soft = fit_choice_weight(np.where(RNG.uniform(size=N) < 1 / (1 + np.exp(-1.0 * gaps)), gaps, -gaps))
    sharp = fit_choice_weight(np.where(RNG.uniform(size=N) < 1 / (1 + np.exp(-4.0 * gaps)), gaps, -gaps))
    assert 0.7 < soft < 1.3 and 3.0 < sharp < 5.0, (soft, sharp)
