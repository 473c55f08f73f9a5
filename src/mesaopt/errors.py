"""User-facing errors. The CLI prints these as one line (``error: ...``) and exits non-zero, no traceback."""

import math
import numbers


def is_finite_number(value) -> bool:
    """A real number that is not NaN or ±inf, nor a bool (``nan <= 0`` is False, so a comparison alone lets NaN
    through): the first check of a numeric config field."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


class MesaoptError(ValueError):
    """A problem with the user's input or files, described in one line that names the allowed values."""

    exit_code = 2
    """The CLI's exit status for this error."""


class NotARunError(MesaoptError):
    """A directory that is not a complete mesaopt run."""


class CheckpointError(MesaoptError):
    """A checkpoint that is corrupt, incomplete, or belongs to a different model."""


class TrainingDivergedError(MesaoptError):
    """Training produced a non-finite loss or parameter; the run stops and nothing is stored."""

    exit_code = 3


class RunLockedError(MesaoptError):
    """Another process is running the same config in the same store right now (its run lock is held)."""

