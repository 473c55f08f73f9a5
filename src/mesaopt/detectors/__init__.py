"""Pure measurements returning typed reports."""

from mesaopt.detectors import icl
from mesaopt.detectors.choice_objective import recover_choice_objective
from mesaopt.detectors.deception import measure_oversight_gap
from mesaopt.detectors.generalization import measure_layout_generalization
from mesaopt.detectors.goal_directedness import measure_goal_directedness
from mesaopt.detectors.irl import recover_behavioral_objective
from mesaopt.detectors.objective_correlation import objective_correlations
from mesaopt.detectors.optimization_power import optimization_power_sampled, optimization_power_uniform
from mesaopt.detectors.outcomes import (
    OUTCOMES,
    EpisodeOutcomes,
    OutcomeRates,
    measure_episode_outcomes,
    summarize_outcomes,
)
from mesaopt.detectors.probes import measure_probes
from mesaopt.detectors.stats import mean_ci
from mesaopt.detectors.steering import measure_retargeting
from mesaopt.detectors.thinking import measure_thinking_gain
from mesaopt.detectors.verdict import classify_alignment

DETECTORS = {
    "outcomes": measure_episode_outcomes,
    "optimization_power.uniform": optimization_power_uniform,
    "optimization_power.sampled": optimization_power_sampled,
    "goal_directedness": measure_goal_directedness,
    "irl.behavioral_objective": recover_behavioral_objective,
    "generalization.layouts": measure_layout_generalization,
    "thinking_gain": measure_thinking_gain,
    "probes": measure_probes,
    "steering.retargeting": measure_retargeting,
    "deception.oversight_gap": measure_oversight_gap,
    "alignment_verdict": classify_alignment,
    "objective_correlation": objective_correlations,
    "choice_objective": recover_choice_objective,
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
    "classify_alignment",
    "mean_ci",
    "measure_episode_outcomes",
    "measure_goal_directedness",
    "measure_layout_generalization",
    "measure_oversight_gap",
    "measure_probes",
    "measure_retargeting",
    "measure_thinking_gain",
    "optimization_power_sampled",
    "optimization_power_uniform",
    "recover_behavioral_objective",
    "summarize_outcomes",
]
