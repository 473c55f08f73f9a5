"""benchmarks/_dots.py: the matmul counter behind profile_seed_scaling.py, on programs whose products are known."""

import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from _dots import program_dots, replay_dots, replay_operands, total_flops


def _known_program(x, w):
    """x [8, 3], w [3, 4]: one dot in a scan of 5, one batched dot, a cond whose costlier branch has two dots."""
    scanned, _ = jax.lax.scan(lambda c, _: (c + jnp.tanh(x @ w).sum(), None), 0.0, None, length=5)
    batched = jnp.einsum("sbk,skn->sbn", jnp.stack([x, x]), jnp.stack([w, w])).sum()
    inner = jax.jit(lambda a: (a @ w).sum())(x)
    branch = jax.lax.cond(scanned > 0, lambda: (x @ w).sum() + (x @ w).sum(), lambda: (x @ w).sum())
    return scanned + batched + inner + branch


def test_counts_every_product_times_the_scans_around_it():
    dots, unbounded = program_dots(_known_program, jnp.ones((8, 3)), jnp.ones((3, 4)))
    one = 2 * 8 * 3 * 4
    assert sorted(d.count for d in dots) == [1, 1, 1, 1, 5]
    assert total_flops(dots) == 5 * one + 2 * one + one + 2 * one
    assert unbounded == []


def test_a_program_without_matmuls_has_no_dots():
    dots, _ = program_dots(lambda x: jnp.cumsum(jnp.sin(x) * 2.0), jnp.ones((16,)))
    assert dots == [] and total_flops(dots) == 0


def test_a_while_loop_is_reported_as_unbounded():
    def loop(x, w):
        return jax.lax.while_loop(lambda c: c[0] < 3, lambda c: (c[0] + 1, c[1] @ w), (0, x))[1]

    dots, unbounded = program_dots(loop, jnp.ones((2, 2)), jnp.eye(2))
    assert len(unbounded) == 1 and [d.count for d in dots] == [1]


def test_the_replay_computes_exactly_the_counted_products():
    dots, _ = program_dots(_known_program, jnp.ones((8, 3)), jnp.ones((3, 4)))
    operands = replay_operands(jax.random.key(0), dots)
    expected = sum(
        float(np.einsum("...ij,...jk->...ik", np.asarray(lhs, np.float64), np.asarray(rhs, np.float64)).sum())
        if d.dimension_numbers[1] == ((), ()) else
        float(np.einsum("nsbk,skm->", np.asarray(lhs, np.float64), np.asarray(rhs, np.float64)))
        for d, (lhs, rhs) in zip(dots, operands)
    )
    assert [lhs.shape[0] for lhs, _ in operands] == [d.count for d in dots]
    np.testing.assert_allclose(float(replay_dots(dots)(operands)), expected, rtol=1e-4)
