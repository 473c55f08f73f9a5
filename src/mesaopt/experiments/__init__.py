"""Experiments: one package per experiment, one :class:`~mesaopt.experiments.record.Experiment` record each.

``EXPERIMENTS`` maps every preset name to its record; the shell, the run driver and the contract test look
experiments up here and nowhere else. Adding an experiment: ``docs/contributing.md``.
"""

from mesaopt.experiments import (absent_supervisor, conditions, conditions_compression, conditions_diversity,
                                 conditions_hardcoded, conditions_imitation, conditions_statefulness,
                                 evolutionary_suicide, evolved_reward, goodhart_chain, icl_diversity, icl_gd,
                                 icl_regression, maze_misgen, maze_search, maze_search_misgen, nested, optimal_reward,
                                 principal_agent)
from mesaopt.experiments.record import Experiment, RunContext

EXPERIMENTS: dict[str, Experiment] = {
    record.name: record
    for record in (
        maze_misgen.EXPERIMENT,
        maze_misgen.RESEARCH_SCALE_EXPERIMENT,
        icl_gd.EXPERIMENT,
        icl_regression.EXPERIMENT,
        icl_diversity.EXPERIMENT,
        icl_diversity.FULL_EXPERIMENT,
        absent_supervisor.EXPERIMENT,
        maze_search.EXPERIMENT,
        maze_search_misgen.EXPERIMENT,
        evolutionary_suicide.EXPERIMENT,
        evolved_reward.EXPERIMENT,
        optimal_reward.EXPERIMENT,
        goodhart_chain.EXPERIMENT,
        principal_agent.EXPERIMENT,
        nested.EXPERIMENT,
        conditions.EXPERIMENT,
        conditions_compression.EXPERIMENT,
        conditions_diversity.EXPERIMENT,
        conditions_hardcoded.EXPERIMENT,
        conditions_imitation.EXPERIMENT,
        conditions_statefulness.EXPERIMENT,
    )
}
"""Every preset by name."""

__all__ = ["EXPERIMENTS", "Experiment", "RunContext"]
