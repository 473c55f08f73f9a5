"""Where one ``icl-regression`` training step spends its time, per operation, in mesaopt (XLA) and in torch.

    benchmarks/.venv-peers/bin/python benchmarks/profile_transformer.py [--steps 20] [--repeats 3] [--top 25]
    benchmarks/.venv-peers/bin/python benchmarks/profile_transformer.py --sides mesaopt --plain

``bench_transformer.py``'s setting (the ``icl-regression`` defaults, one seed, batch 64).

* mesaopt: one jitted ``lax.scan`` of ``--steps`` training steps, traced with ``jax.profiler`` with XLA's per-thunk
  trace events on (``--xla_cpu_enable_xprof_traceme``, set here before JAX starts). Each thunk (a fused kernel, a
  matmul, a copy) is named back to the JAX operation that made it (the ``op_name`` metadata of the optimized HLO)
  and its time is summed per kind of operation; ``transpose(jvp(...))`` is the backward pass.
  ``--plain`` profiles the model as it was before the ``models.xla_cpu`` forms (plain ``x @ w + b``, no
  gradient barrier, ``vmap`` over the prompts of a batch), to see what they changed.
* torch: ``torch.profiler`` over the same number of steps of ``bench_transformer.torch_train_step`` (eager,
  2 threads), self CPU time per aten operator.

Thunk times add up to more than the wall time where XLA runs two thunks at once (one on each core).
"""

from __future__ import annotations

import argparse
import collections
import glob
import gzip
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_enable_xprof_traceme=true").strip()
sys.path.insert(0, str(Path(__file__).resolve().parent))


def use_plain_model() -> None:
    """Undo the ``models.xla_cpu`` forms in the transformer: plain products, no barrier, vmap over prompts."""
    import jax

    import mesaopt.models.transformer as transformer
    import mesaopt.tasks.tokens as tokens

    transformer.dense = lambda x, w, b: x @ w + b
    transformer.materialized_gradient = lambda x: x
    batched = tokens.predict_with_sequence_model

    def vmapped(model, xs, ys, token_format):
        return batched(lambda t, m: jax.vmap(lambda one: model(one, m))(t), xs, ys, token_format)

    import mesaopt.experiments.shared.transformer as shared

    shared.predict_with_sequence_model = vmapped


def op_names(hlo_text: str) -> dict[str, str]:
    """``{instruction name: op_name metadata}`` of an optimized HLO module."""
    names = {}
    for line in hlo_text.splitlines():
        match = re.match(r"\s*(?:ROOT )?%?([\w.\-]+) = ", line)
        op = re.search(r'op_name="([^"]+)"', line)
        if match:
            names[match.group(1)] = op.group(1) if op else ""
    return names


def op_kind(op_name: str) -> str:
    """``jit(<lambda>)/while/body/closed_call/transpose(jvp())/dot_general`` -> ``backward: dot_general``."""
    path = re.sub(r"^jit\([^)]*\)/(while/body/)?(closed_call/)?", "", op_name)
    phase = "backward" if path.startswith("transpose(") else "forward" if path.startswith("jvp(") else "other"
    leaf = path.rsplit("/", 1)[-1] if path else "(unnamed)"
    einsum = re.search(r"\(([.\w]+,[.\w]+->[.\w]+)\)", path)
    return f"{phase}: {leaf}" + (f" [{einsum.group(1)}]" if einsum else "")


def profile_mesaopt(steps: int, repeats: int) -> tuple[dict[str, float], float]:
    """``({kind: ms per step}, wall ms per step)`` for mesaopt's step."""
    import jax

    from mesaopt.experiments.icl_regression.run import IclRegressionConfig, make_trainer

    trainer = make_trainer(IclRegressionConfig())
    state = jax.jit(trainer.init)(jax.random.key(0))
    compiled = jax.jit(lambda s: jax.lax.scan(lambda s, _: trainer.step(s, None), s, None, length=steps)) \
        .lower(state).compile()
    names = op_names(compiled.as_text())
    state, metrics = compiled(state)
    jax.block_until_ready(metrics)
    start = time.perf_counter()
    for _ in range(repeats):  # wall time without the profiler (its per-thunk events slow the program down)
        state, metrics = compiled(state)
        jax.block_until_ready(metrics)
    wall = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as trace_dir:
        with jax.profiler.trace(trace_dir, create_perfetto_trace=True):
            for _ in range(repeats):
                state, metrics = compiled(state)
                jax.block_until_ready(metrics)
        trace = glob.glob(f"{trace_dir}/**/*.trace.json.gz", recursive=True)[0]
        events = json.load(gzip.open(trace))["traceEvents"]
    per_kind = collections.Counter()
    for event in events:
        if event.get("ph") == "X" and event["name"] in names:
            per_kind[op_kind(names[event["name"]])] += event["dur"] / 1000 / (steps * repeats)
    return dict(per_kind), 1000 * wall / (steps * repeats)


def profile_torch(steps: int, repeats: int) -> tuple[dict[str, float], float]:
    """``({aten operator: self CPU ms per step}, wall ms per step)`` for torch's eager step at 2 threads."""
    import torch

    from bench_transformer import torch_train_step

    torch.set_num_threads(2)
    step = torch_train_step(compiled=False)
    start = time.perf_counter()
    for _ in range(steps * repeats):  # wall time without the profiler
        step()
    wall = time.perf_counter() - start
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(steps * repeats):
            step()
    per_op = {e.key: e.self_cpu_time_total / 1000 / (steps * repeats) for e in prof.key_averages()}
    return per_op, 1000 * wall / (steps * repeats)


def print_profile(title: str, per_kind: dict[str, float], wall_ms: float, top: int) -> None:
    total = sum(per_kind.values())
    print(f"\n{title}: {wall_ms:.2f} ms per step wall (profiler off), {total:.2f} ms summed over operations "
          f"(profiler on)")
    for kind, ms in sorted(per_kind.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {ms:7.3f} ms  {100 * ms / total:5.1f} %  {kind}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=20, help="training steps per profiled chunk")
    parser.add_argument("--repeats", type=int, default=3, help="profiled chunks")
    parser.add_argument("--top", type=int, default=25, help="operations shown per side")
    parser.add_argument("--sides", type=lambda s: s.split(","), default=["mesaopt", "torch"])
    parser.add_argument("--plain", action="store_true", help="mesaopt without the models.xla_cpu forms")
    args = parser.parse_args()
    import mesaopt  # noqa: F401  (mesaopt's XLA flags, as every benchmark side runs with)

    if args.plain:
        use_plain_model()
    if "mesaopt" in args.sides:
        label = "mesaopt (plain model)" if args.plain else "mesaopt"
        print_profile(label, *profile_mesaopt(args.steps, args.repeats), args.top)
    if "torch" in args.sides:
        print_profile("torch eager, 2 threads", *profile_torch(args.steps, args.repeats), args.top)


if __name__ == "__main__":
    main()
