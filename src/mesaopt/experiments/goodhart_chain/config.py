"""Config of ``goodhart-chain``: the chain of proxies, the error families, the pressure ladders."""

from __future__ import annotations

from dataclasses import dataclass

from mesaopt.errors import MesaoptError, is_finite_number
from mesaopt.experiments.shared.icl import check_positive

FAMILIES = ("gaussian", "heavy_tailed")
"""Error families: ``gaussian`` (the closed form holds) and ``heavy_tailed`` (Student-t, the same variance)."""

MAX_BITS = 20
"""Largest best-of-n pressure: n = 2^20 candidates per trial."""


@dataclass(frozen=True)
class GoodhartChainConfig:
    """Config of ``goodhart-chain`` (regressional Goodhart down a chain of proxies)."""

    depths: tuple[int, ...] = (1, 2, 4, 8)
    """Chain depths k (increasing, >= 1): the selector at depth k scores candidates by ``P_k = P_{k-1} + e_k``,
    ``P_0 = V`` the true value."""
    bits: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)
    """Best-of-n pressures ``log2 n`` (whole numbers, increasing, 0 to 20)."""
    betas: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
    """Inverse temperatures of the KL-regularized optimum ``pi ∝ exp(beta P_k / sd(P_k))`` over the pool of
    ``2^max(bits)`` candidates (increasing, >= 0)."""
    families: tuple[str, ...] = FAMILIES
    """Which error families to run (distinct names from ``gaussian``, ``heavy_tailed``)."""
    value_sd: float = 1.0
    """sigma_V, the spread of the true value (> 0)."""
    error_sd: float = 1.0
    """sigma_i, the spread of each level's error (> 0; the same at every level)."""
    heavy_tail_df: int = 3
    """Degrees of freedom of the Student-t errors (a whole number >= 3, so the variance exists; the errors are
    scaled to ``error_sd``)."""
    n_trials: int = 10_000
    """Independent trials (fresh pools) per point."""
    trials_per_block: int = 250
    """Trials drawn at once (memory: about 4 x (max depth + 1) x 2^max(bits) bytes per trial)."""
    seed: int = 0
    """Root random seed."""

    @property
    def pool_size(self) -> int:
        """Candidates per trial: ``2^max(bits)``; smaller n are prefixes of this pool."""
        return 2 ** max(self.bits)

    def validate(self) -> None:
        """One-line ``MesaoptError`` naming the first impossible value and the allowed ones."""
        if not self.depths or any(not _whole(d) or d < 1 for d in self.depths):
            raise MesaoptError(f"depths must be whole numbers >= 1, got {tuple(self.depths)}")
        if not self.bits or any(not _whole(b) or not 0 <= b <= MAX_BITS for b in self.bits):
            raise MesaoptError(f"bits must be whole numbers from 0 to {MAX_BITS} (n = 2^bits >= 1 candidates), "
                               f"got {tuple(self.bits)}")
        if not self.betas or any(not is_finite_number(b) or b < 0 for b in self.betas):
            raise MesaoptError(f"betas must be finite numbers >= 0, got {tuple(self.betas)}")
        for name in ("depths", "bits", "betas"):
            values = list(getattr(self, name))
            if values != sorted(set(values)):
                raise MesaoptError(f"{name} must be strictly increasing, got {tuple(values)}")
        unknown = [f for f in self.families if f not in FAMILIES]
        if not self.families or unknown or len(set(self.families)) != len(self.families):
            raise MesaoptError(f"families must be distinct names from {', '.join(FAMILIES)}, "
                               f"got {tuple(self.families)}")
        for name in ("value_sd", "error_sd"):
            if not is_finite_number(getattr(self, name)) or getattr(self, name) <= 0:
                raise MesaoptError(f"{name} must be a finite number > 0 (a standard deviation), "
                                   f"got {getattr(self, name)!r}")
        if not _whole(self.heavy_tail_df) or self.heavy_tail_df < 3:
            raise MesaoptError(f"heavy_tail_df must be a whole number >= 3 (finite variance), "
                               f"got {self.heavy_tail_df!r}")
        check_positive(n_trials=self.n_trials, trials_per_block=self.trials_per_block)



def _whole(value) -> bool:
    return is_finite_number(value) and value == int(value)
