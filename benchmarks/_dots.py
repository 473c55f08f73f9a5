"""The matrix products inside a JAX program: count their FLOPs and replay them alone.

``program_dots(fn, *args)`` walks ``fn``'s jaxpr and returns one :class:`Dot` per ``dot_general`` equation, with the
number of times it runs per call: the product of the lengths of the ``scan``s around it. Sub-programs (``pjit``,
custom derivatives, ``remat``, ``shard_map``) count once; of a ``cond`` the costliest branch counts; a ``while``
loop's body counts once and is reported in ``unbounded`` (its trip count is not in the jaxpr).

``replay_dots(dots)`` builds a function that runs exactly those products, each as many times as counted, on fresh
random operands and nothing else: how long a program's matmuls take on their own, at their real shapes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import jax
import jax.numpy as jnp
from jax.extend import core


@dataclass(frozen=True)
class Dot:
    """One ``dot_general`` of a program."""

    lhs_shape: tuple[int, ...]
    """Shape of the left operand."""
    rhs_shape: tuple[int, ...]
    """Shape of the right operand."""
    dimension_numbers: tuple
    """``((lhs_contract, rhs_contract), (lhs_batch, rhs_batch))`` as in ``lax.dot_general``."""
    dtype: str
    """Operand dtype (the left one)."""
    count: int
    """How many times it runs per call of the program (scan lengths multiplied)."""

    @property
    def flops(self) -> int:
        """FLOPs of one run: 2 × (product of the left shape) × (the right operand's free dimensions)."""
        (_, rhs_contract), (_, rhs_batch) = self.dimension_numbers
        free = [d for i, d in enumerate(self.rhs_shape) if i not in (*rhs_contract, *rhs_batch)]
        return 2 * math.prod(self.lhs_shape) * math.prod(free)


def _sub_jaxprs(eqn):
    """The jaxprs an equation runs once per run of its own (not scans, conds or whiles)."""
    for value in eqn.params.values():
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(item, core.ClosedJaxpr):
                yield item.jaxpr
            elif isinstance(item, core.Jaxpr):
                yield item


def _walk(jaxpr, times: int, dots: list, unbounded: list) -> None:
    for eqn in jaxpr.eqns:
        name = eqn.primitive.name
        if name == "dot_general":
            lhs, rhs = (v.aval for v in eqn.invars)
            dots.append(Dot(tuple(lhs.shape), tuple(rhs.shape), eqn.params["dimension_numbers"], str(lhs.dtype), times))
        elif name == "scan":
            _walk(eqn.params["jaxpr"].jaxpr, times * eqn.params["length"], dots, unbounded)
        elif name == "cond":
            branches = []
            for branch in eqn.params["branches"]:
                found: list = []
                _walk(branch.jaxpr, times, found, unbounded)
                branches.append(found)
            dots.extend(max(branches, key=lambda b: sum(d.flops * d.count for d in b)))
        elif name == "while":
            unbounded.append(eqn)
            _walk(eqn.params["body_jaxpr"].jaxpr, times, dots, unbounded)
        else:
            for sub in _sub_jaxprs(eqn):
                _walk(sub, times, dots, unbounded)


def program_dots(fn, *args) -> tuple[list[Dot], list]:
    """``(dots, unbounded_whiles)`` of ``fn(*args)``; see the module docstring."""
    dots: list[Dot] = []
    unbounded: list = []
    _walk(jax.make_jaxpr(fn)(*args).jaxpr, 1, dots, unbounded)
    return dots, unbounded


def total_flops(dots: list[Dot]) -> int:
    """FLOPs of every product, each times its count."""
    return sum(d.flops * d.count for d in dots)


def replay_operands(key, dots: list[Dot]):
    """Random operands for :func:`replay_dots`: per dot, ``count`` left operands and one right operand."""
    keys = jax.random.split(key, 2 * len(dots))
    return [
        (jax.random.normal(keys[2 * i], (d.count, *d.lhs_shape), d.dtype),
         jax.random.normal(keys[2 * i + 1], d.rhs_shape, d.dtype))
        for i, d in enumerate(dots)
    ]


def replay_dots(dots: list[Dot]):
    """``run(operands) -> scalar``: every dot of ``dots``, ``count`` times each (a scan over its left operands).

    Each product's result is summed into the carry, so none can be skipped; the sums are the only other work.
    """

    def run(operands):
        total = jnp.zeros((), jnp.float32)
        for d, (lhs_stack, rhs) in zip(dots, operands):
            step = lambda acc, lhs, d=d, rhs=rhs: (
                acc + jax.lax.dot_general(lhs, rhs, d.dimension_numbers).sum(dtype=jnp.float32), None)
            total, _ = jax.lax.scan(step, total, lhs_stack)
        return total

    return run
