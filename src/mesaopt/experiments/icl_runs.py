"""Load the trained models of a stored in-context-learning run back from its checkpoint."""

from __future__ import annotations

import jax

from mesaopt.errors import NotARunError
from mesaopt.experiments import icl_diversity, icl_gd, icl_regression

ICL_PRESETS = {
    "icl-gd": (icl_gd.IclGdConfig, icl_gd.make_trainer, icl_gd.checkpoint_metadata),
    "icl-regression": (icl_regression.IclRegressionConfig, icl_regression.make_trainer,
                       icl_regression.checkpoint_metadata),
    "icl-diversity": (icl_diversity.IclDiversityConfig, icl_diversity.make_trainer,
                      icl_diversity.checkpoint_metadata),
    "icl-diversity-full": (icl_diversity.full_study_config, icl_diversity.make_trainer,
                           icl_diversity.checkpoint_metadata),
}
"""Per ICL preset: (config class, ``make_trainer(cfg)``, ``checkpoint_metadata(cfg)``)."""


def load_icl_run(run_dir, root=None) -> tuple:
    """``(cfg, trainer, params)`` of a stored ICL run; ``trainer.model(params_of_run_i)`` is a trained model.

    Raises ``NotARunError`` for a directory that is not a complete ICL run and ``CheckpointError`` (one line)
    for a missing, corrupt or foreign checkpoint (another preset's or another model's).
    """
    from mesaopt.experiments.checkpoints import load_checkpoint
    from mesaopt.experiments.overrides import config_from_dict
    from mesaopt.experiments.store import load_run

    record = load_run(run_dir, root)
    preset = record["config"].get("preset")
    if preset not in ICL_PRESETS:
        raise NotARunError(f"{record['path']} is a {preset!r} run; allowed: {sorted(ICL_PRESETS)}")
    config_cls, make_trainer, metadata = ICL_PRESETS[preset]
    cfg = config_from_dict(config_cls(), {k: v for k, v in record["config"].items() if k != "preset"})
    trainer = make_trainer(cfg)
    n_runs = metadata(cfg)["n_runs"]
    like = jax.eval_shape(jax.vmap(lambda k: trainer.init(k).params), jax.random.split(jax.random.key(0), n_runs))
    path = f"{record['path']}/checkpoints/params.safetensors"
    return cfg, trainer, load_checkpoint(path, like, expected_metadata=metadata(cfg))
