"""User-facing errors. The CLI prints these as one line (``error: ...``) and exits non-zero, no traceback."""


class MesaoptError(ValueError):
    """A problem with the user's input or files, described in one line that names the allowed values."""


class NotARunError(MesaoptError):
    """A directory that is not a complete mesaopt run."""


class CheckpointError(MesaoptError):
    """A checkpoint that is corrupt, incomplete, or belongs to a different model."""
