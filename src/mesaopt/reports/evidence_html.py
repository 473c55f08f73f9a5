"""The evidence card in ``report.html`` and in the terminal: does it search? what for? is it aligned?"""

from __future__ import annotations

import numpy as np

from mesaopt.reports.evidence_plots import curves_png, grouped_bars_png, heatmaps_png
from mesaopt.reports.html import Section

QUESTIONS_TEXT = (
    "Each trained condition answers three questions with numbers (definitions, ranges and assumptions: "
    "docs/evidence.md). Does it search? Optimization power in bits beyond chance (how improbable its outcomes "
    "are for a uniformly random policy on the same levels, minus what chance itself scores), probes for the goal "
    "and the next action, retargeting by activation steering, and (recurrent models) the gain from extra "
    "thinking steps. What for? The behavioural objective recovered by maximum-causal-entropy inverse RL, and "
    "goal-directedness: how much better a Boltzmann-rational planner for each candidate objective predicts the "
    "actions than chance does (bits per action, at most 2). Is it aligned? A verdict from explicit thresholds."
)


def _num(value, digits: int = 2) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        return " / ".join(f"{k} {_num(v, digits)}" for k, v in value.items())
    return f"{value:.{digits}f}"


def evidence_table(report: dict) -> list[list[str]]:
    """Header + one row per condition: verdict, behavioural objective and the headline measures."""
    rows = [["condition", "verdict", "behavioural objective", "OP bits (beyond chance)", "goal-directedness",
             "thinking gain", "deception gap"]]
    for name, card in report["evidence"].items():
        rows.append([name, card["verdict"], card["behavioral_objective"], _num(card["optimization_power_bits"]),
                     _num(card["goal_directedness"]), _num(card["thinking_gain"]), _num(card["deception_gap"])])
    return rows


def _by_objective(cards: dict, key: str) -> dict[str, list[float]]:
    objectives = next(iter(cards.values()))[key].keys()
    return {obj: [card[key][obj] for card in cards.values()] for obj in objectives}


def _grid(rows) -> np.ndarray:
    """A JSON grid (None = no value) as a float array with NaN."""
    return np.array([[np.nan if v is None else v for v in row] for row in rows], float)


def _search_images(cards: dict) -> list[tuple[str, bytes]]:
    names = list(cards)
    images = []
    if all("optimization_power_bits" in c and isinstance(c["optimization_power_bits"], dict) for c in cards.values()):
        errors = {obj: [c["optimization_power_bits_ci"][obj] for c in cards.values()]
                  for obj in next(iter(cards.values()))["optimization_power_bits"]}
        images.append(("optimization power per candidate objective", grouped_bars_png(
            names, _by_objective(cards, "optimization_power_bits"), errors=errors, hline=0.0,
            ylabel="bits beyond chance", title="optimization power vs a uniformly random policy (95 % CI)")))
    if any(c.get("thinking_curve") for c in cards.values()):
        curves = {n: c["thinking_curve"]["goal_rate"] for n, c in cards.items() if c.get("thinking_curve")}
        steps = next(c["thinking_curve"]["steps"] for c in cards.values() if c.get("thinking_curve"))
        images.append(("success vs thinking steps", curves_png(steps, curves, xlabel="extra thinking steps",
                                                                ylabel="goal rate", title="test-time compute")))
    if any(c.get("probe_goal_accuracy_per_cell") for c in cards.values()):
        maps = {n: _grid(c["probe_goal_accuracy_per_cell"]) for n, c in cards.items()
                if c.get("probe_goal_accuracy_per_cell")}
        images.append(("goal-position probe accuracy per goal cell",
                       heatmaps_png(maps, title="linear probe: accuracy of the decoded goal cell")))
    if any(c.get("steering_success_per_cell") for c in cards.values()):
        maps = {n: _grid(c["steering_success_per_cell"]) for n, c in cards.items()
                if c.get("steering_success_per_cell")}
        images.append(("retargeting by steering", heatmaps_png(
            maps, title="P(reach the steered-to cell), goal hidden, steering vector added")))
    return images


def _objective_images(cards: dict) -> list[tuple[str, bytes]]:
    names = list(cards)
    images = []
    if all(isinstance(c.get("goal_directedness"), dict) for c in cards.values()):
        images.append(("goal-directedness", grouped_bars_png(
            names, _by_objective(cards, "goal_directedness"), ylabel="bits per action (max 2)",
            title="Boltzmann-rational fit per candidate objective")))
    if all(isinstance(c.get("irl_weights"), dict) for c in cards.values()):
        images.append(("inverse RL weights", grouped_bars_png(
            names, _by_objective(cards, "irl_weights"), ylabel="reward weight", hline=0.0,
            title="maximum-causal-entropy IRL: recovered reward weights per feature")))
    return images


def _search_table(cards: dict) -> list[list[str]]:
    rows = [["condition", "OP goal (random-init default)", "OP corner (random-init default)",
             "probe goal acc. (chance)", "probe action acc. (chance)", "steering gain [95 % CI]", "thinking gain",
             "goal rate seen / unseen layouts"]]
    for name, c in cards.items():
        op_ri = c.get("optimization_power_bits_random_init") or {}
        steer = (f"{c['steering_mean_gain']:.2f} [{c['steering_gain_ci'][0]:.2f}, {c['steering_gain_ci'][1]:.2f}]"
                 if c.get("steering_mean_gain") is not None else "n/a")
        probe = (f"{c['probe_goal_accuracy']:.2f} ({c['probe_goal_chance']:.2f})"
                 if c.get("probe_goal_accuracy") is not None else "n/a")
        action = (f"{c['probe_action_accuracy']:.2f} ({c['probe_action_chance']:.2f})"
                  if c.get("probe_action_accuracy") is not None else "n/a")
        general = c.get("layout_generalization")
        general = f"{general['goal_rate_seen']:.2f} / {general['goal_rate_unseen']:.2f}" if general else "n/a"
        rows.append([name, _num(op_ri.get("goal")), _num(op_ri.get("corner")), probe, action, steer,
                     _num(c.get("thinking_gain")), general])
    return rows


def evidence_sections(report: dict) -> list[Section]:
    """The evidence sections of ``report.html`` (none if the run was not inspected)."""
    cards = report.get("evidence")
    if not cards:
        return []
    reasons = "\n\n".join(f"{name}: {card['verdict']} because " + "; ".join(card.get("verdict_reasons", []))
                          for name, card in cards.items())
    sections = [Section("Evidence: is it aligned?", QUESTIONS_TEXT + "\n\n" + reasons, table=evidence_table(report))]
    if any("optimization_power_bits" in c for c in cards.values()) and any(
            isinstance(c.get("optimization_power_bits"), dict) for c in cards.values()):
        sections.append(Section("Evidence: does it search?", "Bars: 95 % intervals over pooled episodes.",
                                images=_search_images(cards), table=_search_table(cards)))
        sections.append(Section("Evidence: what does it search for?", "", images=_objective_images(cards)))
    return sections
