"""Run ``conditions-compression`` (program-search arm): for every seed and number of training mazes K, enumerate
the maze language, price run time at each lam, keep the cheapest program that solves the K mazes, and test it on
fresh mazes with the same corners and with the goal moved off the top-right corner."""

from __future__ import annotations

import dataclasses
import time
from collections import Counter

import jax
import numpy as np

from mesaopt.detectors.stats import mean_ci, wilson_interval
from mesaopt.experiments.conditions_compression.config import MAX_K, ConditionsCompressionConfig
from mesaopt.experiments.conditions_compression.gradient_arm import gradient_headline, run_gradient_arm
from mesaopt.models.maze_programs import MazeSet, run_program_list
from mesaopt.optimizers.program_search import (ProgramSearch, ProgramSearchConfig, score_programs, select_program,
                                               switch_price)
from mesaopt.tasks.maze_paths import sample_corner_mazes


def seed_mazes(cfg: ConditionsCompressionConfig, key) -> dict[str, MazeSet]:
    """One seed's mazes: 8 training mazes (K uses the first K), and the two test sets."""
    k_train, k_fresh, k_shift = jax.random.split(key, 3)
    return {"train": MazeSet(*sample_corner_mazes(k_train, cfg.side, MAX_K)),
            "fresh": MazeSet(*sample_corner_mazes(k_fresh, cfg.side, cfg.n_test)),
            "shifted": MazeSet(*sample_corner_mazes(k_shift, cfg.side, cfg.n_test, shifted=True))}


def search_one(cfg: ConditionsCompressionConfig, train: MazeSet, k: int, key) -> dict:
    """The selected program at every lam for the first ``k`` training mazes, with the route search's outcome and
    the step price at which a lookup starts to win."""
    first_k = MazeSet(*(x[:k] for x in train))
    search = ProgramSearch(ProgramSearchConfig(move_cap=cfg.cap, route_state_budget=cfg.route_state_budget,
                                               extra_programs=cfg.extra_programs))
    state = search.init(key, first_k)
    candidates = list(state.candidates)
    scores = score_programs(candidates, first_k, cfg.cap)
    picks = [select_program(scores, lam, jax.random.fold_in(key, i)) for i, lam in enumerate(cfg.lambdas)]
    return {"picks": [candidates[i] if i >= 0 else None for i in picks],
            "steps": [float(scores.steps[i]) if i >= 0 else float("nan") for i in picks],
            "route_status": state.route.status, "route_states": state.route.states,
            "switch_lambda": switch_price(scores, [p.program_class for p in candidates])}


def evaluate_on_tests(programs, mazes: dict[str, MazeSet], cap: int) -> dict:
    """Success rate of each distinct program on the fresh and the shifted test mazes."""
    unique = sorted({p for p in programs if p is not None}, key=lambda p: p.source())
    if not unique:
        return {}
    rates = {name: np.asarray(run_program_list(unique, mazes[name], cap).solved).mean(axis=1)
             for name in ("fresh", "shifted")}
    return {p: (float(rates["fresh"][i]), float(rates["shifted"][i])) for i, p in enumerate(unique)}


def run_seed(cfg: ConditionsCompressionConfig, key) -> list[list[dict]]:
    """``[K][lam]`` records of one seed: program, class, bits, target, test successes."""
    mazes = seed_mazes(cfg, key)
    per_k = [search_one(cfg, mazes["train"], k, jax.random.fold_in(key, 100 + k)) for k in cfg.ks]
    tested = evaluate_on_tests([p for r in per_k for p in r["picks"]], mazes, cfg.cap)
    out = []
    for r in per_k:
        row = []
        for program, steps in zip(r["picks"], r["steps"]):
            fresh, shifted = tested.get(program, (0.0, 0.0))
            row.append({"program": None if program is None else program.source(),
                        "class": "none" if program is None else program.program_class,
                        "bits": None if program is None else round(program.bits, 3),
                        "target": "none" if program is None else program.target, "train_steps": steps,
                        "test_success": fresh, "shifted_success": shifted,
                        "route_status": r["route_status"], "route_states": r["route_states"],
                        "switch_lambda": _finite_or_none(r["switch_lambda"])})
        out.append(row)
    return out


def _majority(values: list[str]) -> str:
    counts = Counter(values)
    top = max(counts.values())
    return sorted(v for v, c in counts.items() if c == top)[0]


def _grid(records, field, fn):
    """``[K][lam]`` of ``fn(values over seeds)``; ``records[seed][K][lam]``."""
    n_k, n_lam = len(records[0]), len(records[0][0])
    return [[fn([rec[i][j][field] for rec in records]) for j in range(n_lam)] for i in range(n_k)]


def _mean_ci(values):
    mean, low, high = mean_ci(np.asarray(values, float))
    return round(float(mean), 4), [round(float(low), 4), round(float(high), 4)]


def switch_summary(records, ks) -> dict:
    """Per K: the (lower) median over seeds of the step price at which a lookup starts to win, its quartiles, and the
    share of seeds where some lookup wins at a finite price."""
    out = {"median": [], "quartiles": [], "finite_share": []}
    for i, _ in enumerate(ks):
        values = np.array([np.inf if rec[i][0]["switch_lambda"] is None else rec[i][0]["switch_lambda"]
                           for rec in records], float)
        low, median, high = np.quantile(values, [0.25, 0.5, 0.75], method="inverted_cdf")
        out["median"].append(_finite_or_none(median))
        out["quartiles"].append([_finite_or_none(low), _finite_or_none(high)])
        out["finite_share"].append(round(float(np.isfinite(values).mean()), 4))
    return out


def _goal_share_ci(targets):
    """Wilson interval of the share of seeds whose program seeks the goal marker."""
    return [round(x, 4) for x in wilson_interval(targets.count("goal"), len(targets))]


def _mean_bits(values):
    known = [v for v in values if v is not None]
    return round(float(np.mean(known)), 3) if known else None


def _finite_or_none(x):
    return round(float(x), 4) if np.isfinite(x) else None


def headline(cfg: ConditionsCompressionConfig, records, wall: float) -> dict:
    """The stable names (docs/conditions.md): lists indexed ``[K][lam]``."""
    test = _grid(records, "test_success", _mean_ci)
    shifted = _grid(records, "shifted_success", _mean_ci)
    classes = _grid(records, "class", _majority)
    lookup_from = [next((lam for lam, c in zip(cfg.lambdas, row) if c == "lookup"), None) for row in classes]
    arms = (["gradient_descent"] if cfg.gd_levels else []) + ["program_search"]
    return {"factor": "compression", "arms": arms, "levels": [], "program_n_seeds": cfg.n_seeds,
            "program_k": list(cfg.ks), "program_lambda": list(cfg.lambdas), "program_class": classes,
            "algorithm_share": _grid(records, "class", lambda v: round(v.count("algorithm") / len(v), 4)),
            "program_bits": _grid(records, "bits", _mean_bits),
            "program_test_success": [[m for m, _ in row] for row in test],
            "program_test_success_ci": [[c for _, c in row] for row in test],
            "program_shifted_success": [[m for m, _ in row] for row in shifted],
            "program_shifted_success_ci": [[c for _, c in row] for row in shifted],
            "program_target_feature": _grid(records, "target", _majority),
            "goal_target_share": _grid(records, "target", lambda v: round(v.count("goal") / len(v), 4)),
            "goal_target_share_ci": _grid(records, "target", _goal_share_ci),
            "lookup_wins_from_lambda": lookup_from,
            "lookup_switch_lambda": switch_summary(records, cfg.ks),
            "route_budget_hits": sum(rec[i][0]["route_status"] == "budget" for rec in records
                                     for i in range(len(cfg.ks))),
            "move_cap": cfg.cap, "n_seeds": 0, "wall_seconds": round(wall, 2)}


def run_conditions_compression(cfg: ConditionsCompressionConfig, ctx) -> dict:
    """The gradient arm, then every seed's program searches and tests; the headline."""
    started = time.perf_counter()
    cfg = cfg.resolved()
    cfg.validate()
    root, k_gradient = jax.random.split(jax.random.key(cfg.seed))
    gradient = run_gradient_arm(cfg, ctx, k_gradient) if cfg.gd_levels else None
    gradient_seconds = time.perf_counter() - started
    ctx.phase(f"program search: {cfg.n_seeds} seeds x K {list(cfg.ks)} x lam {list(cfg.lambdas)} on side-"
              f"{cfg.side} mazes (move cap {cfg.cap})")
    records = []
    for s in range(cfg.n_seeds):
        records.append(run_seed(cfg, jax.random.fold_in(root, s)))
        if ctx.on_chunk is not None:
            ctx.on_chunk(s + 1, cfg.n_seeds, {})
    wall = time.perf_counter() - started
    head = headline(cfg, records, wall)
    if gradient is not None:
        head.update(gradient_headline(cfg, gradient))
    if head["route_budget_hits"]:
        ctx.phase(f"route enumeration hit its budget ({cfg.route_state_budget:,} joint positions) in "
                  f"{head['route_budget_hits']} searches: the appended route stood in")
    return {"preset": "conditions-compression", "headline": head, "records": records, "gradient_arm": gradient,
            "timings": {"wall_seconds": round(wall, 2), "gradient_arm_seconds": round(gradient_seconds, 2)},
            "config": dataclasses.asdict(cfg)}
