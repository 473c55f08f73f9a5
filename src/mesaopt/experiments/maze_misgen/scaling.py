"""The size rule of ``maze-misgen``: the defaults that grow with the maze side, in one place.

A setting left at its "by size" value (0, an empty string, or no region sizes) takes the value below for the
run's ``--size``; a setting given explicitly is kept. Up to side 5 the model is the egocentric MLP and at the
flagship's side 5 the rule gives exactly the defaults the 5×5 results were measured with (700,000 steps, 40-step
episodes, region sizes 1, 3, 5, learning rate 2e-3, 500 evaluation episodes). From side 7 on the MLP no longer
learns in minutes (:func:`size_defaults`' budget reached 0.78-0.22 in distribution at sides 7-13), and the model
is the learned planner ``vprop``, trained on 7×7 mazes and evaluated at the run's side (:func:`model_defaults`).
What the rule reaches at each side, measured, is in ``docs/mazes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mesaopt.models import MODELS

REFERENCE_SIDE = 5
"""The side the flagship's defaults were tuned on; the rule scales from it."""
STEPS_AT_REFERENCE = 700_000
"""Environment steps per agent at the reference side."""
HORIZON_AT_REFERENCE = 40
"""Episode step limit at the reference side."""
LEARNING_RATE_AT_REFERENCE = 2e-3
"""PPO's Adam step size at the reference side."""
EVAL_EPISODES_MLP = 500
"""Evaluation episodes per agent and distribution for models whose weights depend on the side (the flagship's)."""

PLANNER_MODEL = "vprop"
"""The model the rule chooses from ``PLANNER_FROM_SIDE`` on: the learned planner, whose weights do not depend on
the side."""
PLANNER_FROM_SIDE = 7
"""The smallest side at which the rule chooses the planner (the MLP keeps sides 3 and 5, the flagship's)."""
PLANNER_TRAINING_SIDE = 7
"""The side a model whose weights do not depend on the side trains on (or the run's side, if smaller)."""
PLANNER_STEPS = 650_000
"""Environment steps per agent for such a model, at any training side: trained at side 7, every planner's success
in its training rollouts was at least 0.995 from about 300,000 steps on (docs/mazes.md); not tuned."""
PLANNER_LEARNING_RATE = 2e-3
"""PPO's Adam step size for such a model: its weights see local neighbourhoods, not a window that grows."""
PLANNER_EVAL_EPISODES = 200
"""Evaluation episodes for such a model: each step plans over the whole maze, so an episode costs more."""


@dataclass(frozen=True)
class SizeDefaults:
    """The defaults the size rule gives one maze side."""

    total_steps: int
    """Environment steps per agent: in proportion to the number of cells (700,000 at side 5)."""
    max_steps: int
    """Episode step limit: in proportion to the number of cells (40 at side 5, 1.6 steps per cell)."""
    region_sizes: tuple[int, ...]
    """Training regions: the corner cell, half the maze and the whole maze, ``(1, (side + 1) // 2, side)``."""
    learning_rate: float
    """PPO's Adam step size: in inverse proportion to the egocentric window's cells, ``(2 side - 1)²`` (2e-3 at
    side 5). Adam moves every weight by about the step size, so a first-layer unit's input moves by about the step
    size times the window's active cells: this keeps that move the same at every side. At side 9, 2e-3 did not
    learn to find a goal anywhere in 2 M steps (0.28, a random walk's rate) where 5e-4 did (docs/mazes.md)."""


def cells_ratio(size: int) -> float:
    """How many times more cells a side-``size`` maze has than the reference side's."""
    return (size / REFERENCE_SIDE) ** 2


def window_cells(size: int) -> int:
    """Cells of the egocentric window that sees the whole side-``size`` maze from any cell."""
    return (2 * size - 1) ** 2


def size_defaults(size: int) -> SizeDefaults:
    """The rule's defaults for a ``size`` × ``size`` maze (``size`` odd and >= 3, checked by the config)."""
    ratio = cells_ratio(size)
    regions = tuple(sorted({1, (size + 1) // 2, size}))
    return SizeDefaults(
        total_steps=int(round(STEPS_AT_REFERENCE * ratio, -3)),
        max_steps=int(round(HORIZON_AT_REFERENCE * ratio)),
        region_sizes=regions,
        learning_rate=float(f"{LEARNING_RATE_AT_REFERENCE * window_cells(REFERENCE_SIDE) / window_cells(size):.2g}"),
    )


@dataclass(frozen=True)
class ModelDefaults:
    """The model the rule gives one maze side, and the settings that follow from the model."""

    model: str
    """Actor-critic class: ``PLANNER_MODEL`` from ``PLANNER_FROM_SIDE`` on (unless the observation is not the
    grid the planner reads), else the egocentric ``mlp``."""
    obs_format: str
    """``grid`` for a model that reads the whole maze, else ``egocentric``."""
    training_side: int
    """The side the agents train on: the run's side, or ``PLANNER_TRAINING_SIDE`` for a model whose weights do not
    depend on the side (the smaller of the two)."""
    total_steps: int
    """Environment steps per agent: :func:`size_defaults` at the side, or ``PLANNER_STEPS``."""
    learning_rate: float
    """PPO's Adam step size: :func:`size_defaults` at the side, or ``PLANNER_LEARNING_RATE``."""
    eval_episodes: int
    """Evaluation episodes per agent and distribution."""


def any_side(model: str) -> bool:
    """Whether ``model``'s weights do not depend on the maze's side (it can train on one side and run on another)."""
    return bool(getattr(MODELS[model], "any_side", False))


def reads_grid(model: str) -> bool:
    """Whether ``model`` reads the whole maze (the ``grid`` observation) rather than a window of it."""
    return bool(getattr(MODELS[model], "reads_maze_grid", False))


def model_defaults(size: int, model: str = "", obs_format: str = "", train_size: int = 0) -> ModelDefaults:
    """The rule's model for a ``size`` × ``size`` maze and what follows from it; ``model``, ``obs_format`` and
    ``train_size`` given (non-empty, non-zero) are kept, so the rest follows the model actually used."""
    if not model:
        model = PLANNER_MODEL if size >= PLANNER_FROM_SIDE and obs_format in ("", "grid") else "mlp"
    if not obs_format:
        obs_format = "grid" if reads_grid(model) else "egocentric"
    if not any_side(model):
        rule = size_defaults(size)
        return ModelDefaults(model, obs_format, train_size or size, rule.total_steps, rule.learning_rate,
                             EVAL_EPISODES_MLP)
    return ModelDefaults(model, obs_format, train_size or min(size, PLANNER_TRAINING_SIDE), PLANNER_STEPS,
                         PLANNER_LEARNING_RATE, PLANNER_EVAL_EPISODES)
