"""Pure measurements returning typed reports."""

from mesaopt.detectors.outcomes import (
    OUTCOMES,
    EpisodeOutcomes,
    OutcomeRates,
    measure_episode_outcomes,
    summarize_outcomes,
)
from mesaopt.detectors.stats import mean_ci

DETECTORS = {"outcomes": measure_episode_outcomes}
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
