"""Pure measurements returning typed reports."""

from mesaopt.detectors import icl
from mesaopt.detectors.outcomes import (
    OUTCOMES,
    EpisodeOutcomes,
    OutcomeRates,
    measure_episode_outcomes,
    summarize_outcomes,
)
from mesaopt.detectors.stats import mean_ci

DETECTORS = {
    "outcomes": measure_episode_outcomes,
    "icl.prediction_difference": icl.relative_prediction_difference,
    "icl.prediction_distance": icl.prediction_distance,
    "icl.sensitivity_agreement": icl.sensitivity_agreement,
    "icl.interpolation": icl.interpolation_losses,
    "icl.linear_probe": icl.linear_probe_r2,
    "icl.crossing_point": icl.crossing_point,
}
"""Detectors by name."""

__all__ = [
    "DETECTORS",
    "OUTCOMES",
    "EpisodeOutcomes",
    "OutcomeRates",
    "mean_ci",
    "measure_episode_outcomes",
    "summarize_outcomes",
]
