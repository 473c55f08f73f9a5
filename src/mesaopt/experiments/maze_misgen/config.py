"""Preset ``maze-misgen``: goal misgeneralization in mazes as a dose-response over the training region.

For each training-region size r (goal in the top-right r × r cells during training) PPO trains ``n_seeds``
agents — all regions × seeds in ONE compiled program (a ``vmap`` over the flattened batch). Each agent is
evaluated in distribution and on the shifted distribution (goal anywhere but the corner proxy).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp

from mesaopt.envs import MAZE_ENVS, misgeneralization_params
from mesaopt.errors import MesaoptError
from mesaopt.experiments.maze_misgen.scaling import any_side, model_defaults, reads_grid, size_defaults
from mesaopt.models import MODELS
from mesaopt.optimizers import PPOConfig, make_ppo


@dataclass(frozen=True)
class MazeMisgenConfig:
    """Settings of the maze goal-misgeneralization experiment."""

    size: int = 5
    """Maze side in cells (odd, >= 3); rooms sit at even coordinates, so 5 gives 3 × 3 rooms (192 layouts). The
    model, training side, budget, horizon, region sizes, PPO step size and evaluation follow it by the size rule
    unless given (docs/mazes.md)."""
    region_sizes: tuple[int, ...] = ()
    """Training-region sizes r: the goal is placed in the top-right r × r cells during training. Empty: by
    the size rule, (1, (size + 1) // 2, size), so 1 3 5 at side 5 (``maze_misgen.scaling``)."""
    train_size: int = 0
    """Maze side the agents train on; 0: by the size rule, ``size`` for a model whose weights depend on the side
    (the MLP) and the smaller of ``size`` and 7 for one whose weights do not (``vprop``), which then trains there and
    is evaluated at ``size``: the training horizon is scaled to this side's cells and each region keeps its share of
    the maze (:meth:`training_region`)."""
    n_seeds: int = 5
    """Independent agents per region size."""
    total_steps: int = 0
    """Environment steps per agent (rounded up to whole PPO updates). 0: by the size rule, 28,000 per cell
    (700,000 at side 5) for the MLP, 650,000 for the planner."""
    env: str = "maze"
    """Environment family (see ``mesaopt list``)."""
    obs_format: str = ""
    """Observation: 'egocentric' (agent-centred window), 'grid' (whole maze) or 'flat'. Empty: by the size rule,
    'grid' for a model that reads the whole maze, else 'egocentric'."""
    model: str = ""
    """Actor-critic class (see ``mesaopt list``). Empty: by the size rule, 'mlp' up to side 5 and the planner
    'vprop' from side 7 on (unless ``obs_format`` is not 'grid')."""
    max_steps: int = 0
    """Episode step limit. 0: by the size rule, 1.6 per cell (40 at side 5)."""
    eval_episodes: int = 0
    """Evaluation episodes per agent and distribution. 0: by the size rule, 500 for the MLP, 200 for the planner."""
    eval_greedy: bool = False
    """Evaluate with the argmax action instead of sampling from the policy."""
    layout_pool_size: int = 0
    """0: a fresh layout every episode. N > 0: train (and shift) on a fixed pool of N layouts drawn from the seed,
    so ``mesaopt inspect`` can compare layouts seen in training with never-seen ones."""
    n_chunks: int = 20
    """Training is split into this many compiled chunks so progress can be shown between them."""
    seed: int = 0
    """Root random seed; every agent's key is derived from it."""
    ppo: PPOConfig = field(default_factory=lambda: PPOConfig(learning_rate=0.0))
    """PPO hyperparameters. ``learning_rate`` 0 (the default here): by the size rule, 2e-3 at side 5 and in
    inverse proportion to the egocentric window's cells for the MLP, 2e-3 for the planner."""

    def validate(self) -> None:
        """Raise ``MesaoptError`` naming the first impossible setting."""
        if self.env not in MAZE_ENVS:
            raise MesaoptError(f"unknown maze env {self.env!r}; allowed: {sorted(MAZE_ENVS)}")
        if self.model and self.model not in MODELS:
            raise MesaoptError(f"unknown model {self.model!r}; allowed: {sorted(MODELS)} (or '' for the size rule)")
        if self.model and reads_grid(self.model) and self.obs_format not in ("", "grid"):
            raise MesaoptError(f"model {self.model!r} reads the whole maze (walls, agent, goal): "
                               f"use --obs-format grid (got {self.obs_format!r})")
        if not isinstance(self.size, int) or self.size < 3 or self.size % 2 == 0:
            raise MesaoptError(f"size must be an odd integer >= 3 (the maze is too small otherwise), got {self.size}")
        self._validate_train_size()
        for r in self.region_sizes:
            if not 1 <= r <= self.size:
                raise MesaoptError(f"goal region {r} is outside the {self.size}x{self.size} maze; allowed: 1..{self.size}")
        for name in ("n_seeds", "n_chunks"):
            if getattr(self, name) < 1:
                raise MesaoptError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.eval_episodes < 0:
            raise MesaoptError(f"eval_episodes must be >= 0 (0 = by the size rule), got {self.eval_episodes}")
        if self.total_steps < 0:
            raise MesaoptError(f"total_steps must be >= 0 (0 = by the size rule), got {self.total_steps}")
        if self.layout_pool_size < 0:
            raise MesaoptError(f"layout_pool_size must be >= 0 (0 = fresh layouts), got {self.layout_pool_size}")
        if self.max_steps < 0:
            raise MesaoptError(f"max_steps must be >= 0 (0 = by the size rule), got {self.max_steps}")
        ppo_as_settled = dataclasses.replace(self.ppo, learning_rate=self.ppo.learning_rate or 1.0)
        try:
            ppo_as_settled.validate()
        except ValueError as err:
            raise MesaoptError(str(err)) from None

    def _validate_train_size(self) -> None:
        if self.train_size in (0, self.size):
            return
        if not isinstance(self.train_size, int) or self.train_size < 3 or self.train_size % 2 == 0:
            raise MesaoptError(f"train_size must be 0 (by the size rule) or an odd integer >= 3, got {self.train_size}")
        if self.model and not any_side(self.model):
            usable = sorted(name for name in MODELS if any_side(name))
            raise MesaoptError(f"model {self.model!r} has weights that depend on the maze's side, so it cannot "
                               f"train at train_size {self.train_size} and run at size {self.size}; "
                               f"models that can: {usable}")
        if self.layout_pool_size:
            raise MesaoptError(f"layout_pool_size needs train_size 0 or {self.size} (= size): a pool of training "
                               f"layouts cannot be replayed at another side (got train_size {self.train_size})")

    @property
    def training_side(self) -> int:
        """The side the agents train on: ``train_size``, or ``size`` (in a config the size rule has settled)."""
        return self.train_size or self.size

    @property
    def horizon(self) -> int:
        """The episode step limit at ``size`` (evaluation): ``max_steps``, or the size rule's."""
        return self.max_steps or size_defaults(self.size).max_steps

    @property
    def training_horizon(self) -> int:
        """The episode step limit in training: ``horizon`` scaled by the training side's share of the cells."""
        if self.training_side == self.size:
            return self.horizon
        return max(1, round(self.horizon * (self.training_side / self.size) ** 2))

    def training_region(self, region: int) -> int:
        """The training side's region for ``region`` at ``size``: the same share of the side, rounded, at least the
        corner cell (for example 1, 5, 9, 13 at side 13 train as 1, 3, 5, 7 at side 7)."""
        if self.training_side == self.size:
            return region
        return min(self.training_side, max(1, round(region * self.training_side / self.size)))


def with_size_rule(cfg: MazeMisgenConfig) -> MazeMisgenConfig:
    """``cfg`` with every setting left "by size" replaced by the size rule's value (explicit settings kept);
    validated before and after the model is chosen, so the rule only ever sees a legal side and the chosen model
    is checked against the rest. A model whose weights depend on the side gets ``train_size`` 0 (one run, and a
    printed config that still works at another ``--size``); one whose weights do not gets its training side
    written out, so that an explicit ``--train-size`` equal to ``--size`` stays distinct from the rule's 7."""
    cfg.validate()
    choice = model_defaults(cfg.size, cfg.model, cfg.obs_format,
                            cfg.train_size or (cfg.size if cfg.layout_pool_size else 0))
    train_size = choice.training_side if any_side(choice.model) else (0 if cfg.train_size == cfg.size
                                                                      else cfg.train_size)
    cfg = dataclasses.replace(cfg, model=choice.model, obs_format=choice.obs_format, train_size=train_size)
    cfg.validate()
    rule = size_defaults(cfg.size)
    return dataclasses.replace(
        cfg, total_steps=cfg.total_steps or choice.total_steps, max_steps=cfg.max_steps or rule.max_steps,
        region_sizes=tuple(cfg.region_sizes) or rule.region_sizes,
        eval_episodes=cfg.eval_episodes or choice.eval_episodes,
        ppo=dataclasses.replace(cfg.ppo, learning_rate=cfg.ppo.learning_rate or choice.learning_rate))


@dataclass(frozen=True)
class Setup:
    """Everything built from a config: environment, learner, and stacked per-agent inputs."""

    env: object
    """The environment the agents train in (side ``training_side``)."""
    eval_env: object
    """The environment they are evaluated and inspected in (side ``size``; ``env`` itself when the sides agree)."""
    ppo: object
    train_params: object
    """Training distribution per agent (leading axis: regions × seeds)."""
    in_dist_params: object
    """The training distribution at side ``size``: the in-distribution evaluation (``train_params`` when the sides
    agree)."""
    shifted_params: object
    keys: jax.Array
    n_agents: int


def _stack(trees):
    return jax.tree_util.tree_map(lambda *xs: jnp.stack(xs), *trees)


def layout_pool(env, cfg: MazeMisgenConfig):
    """The fixed training layouts (``layout_pool_size`` of them, drawn from the seed), or None for fresh ones."""
    if cfg.layout_pool_size == 0:
        return None
    keys = jax.random.split(jax.random.fold_in(jax.random.key(cfg.seed), 7), cfg.layout_pool_size)
    return jax.device_get(jax.vmap(lambda k: env.generate_layout(k, env.default_params()))(keys))


def build_setup(cfg: MazeMisgenConfig) -> Setup:
    """Environment, PPO and the per-agent params (region r_i repeated for each seed), by the size rule where
    ``cfg`` leaves a setting to it."""
    cfg = with_size_rule(cfg)
    eval_env = MAZE_ENVS[cfg.env](size=cfg.size, obs_format=cfg.obs_format)
    env = eval_env if cfg.training_side == cfg.size else MAZE_ENVS[cfg.env](
        size=cfg.training_side, obs_format=cfg.obs_format)
    try:
        model_cls = MODELS[cfg.model]
        ppo = make_ppo(cfg.ppo, env, lambda k: model_cls(env.obs_shape, env.num_actions, key=k), cfg.total_steps)
        pool = layout_pool(env, cfg)
        pairs = [misgeneralization_params(cfg.size, r, max_steps=cfg.horizon, layout_pool=pool)
                 for r in cfg.region_sizes]
        in_dist = [p[0] for p in pairs]
        train = in_dist if env is eval_env else [
            misgeneralization_params(cfg.training_side, cfg.training_region(r), max_steps=cfg.training_horizon)[0]
            for r in cfg.region_sizes]
    except ValueError as err:
        raise MesaoptError(str(err)) from None

    def per_agent(trees):
        return _stack([tree for tree in trees for _ in range(cfg.n_seeds)])

    n_agents = len(cfg.region_sizes) * cfg.n_seeds
    keys = jax.random.split(jax.random.key(cfg.seed), n_agents)
    return Setup(env=env, eval_env=eval_env, ppo=ppo, train_params=per_agent(train),
                 in_dist_params=per_agent(in_dist), shifted_params=per_agent([p[1] for p in pairs]),
                 keys=keys, n_agents=n_agents)
