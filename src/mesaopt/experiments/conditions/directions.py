"""RLO §2's predicted direction for each factor, set against the measured one: every comparison is one quantity at
two levels of a factor's headline, each with its 95 % interval, and a verdict — ``held`` (the intervals do not
overlap and the change goes the predicted way), ``contradicted`` (they do not overlap and it goes the other way) or
``unclear`` (they overlap)."""

from __future__ import annotations

from mesaopt.detectors.stats import wilson_interval

PREDICTIONS = {
    "diversity": "more distinct training problems: more learned search",
    "statefulness": "more iterations to run with (statefulness, algorithmic range): more learned search",
    "compression": "description-length pressure favours search; time pressure disfavours it",
    "hardcoded": "a built-in search leaves the learned part no search to do",
    "imitation": "imitating an optimizer makes a searcher; imitating a non-optimizer does not",
}
"""RLO's claim per factor, in words."""


def compare(factor: str, quantity: str, levels: tuple[str, str], low: tuple, high: tuple, predicted: int) -> dict:
    """One comparison: ``quantity`` goes from ``low = (mean, [lo, hi])`` at ``levels[0]`` to ``high`` at
    ``levels[1]``; RLO predicts the sign ``predicted`` (+1 up, -1 down)."""
    (m0, ci0), (m1, ci1) = low, high
    if ci1[0] > ci0[1]:
        measured = 1
    elif ci1[1] < ci0[0]:
        measured = -1
    else:
        measured = 0
    verdict = "unclear" if measured == 0 else ("held" if measured == predicted else "contradicted")
    return {"factor": factor, "quantity": quantity, "from": levels[0], "to": levels[1],
            "from_mean": m0, "from_ci": list(ci0), "to_mean": m1, "to_ci": list(ci1),
            "predicted": "up" if predicted > 0 else "down",
            "measured": {1: "up", -1: "down", 0: "no clear change"}[measured], "verdict": verdict}


def _at(h: dict, name: str, i: int) -> tuple:
    return h[name][i], h[f"{name}_ci"][i]


def _level_pair(factor: str, h: dict, i: int, j: int, predicted: int, names=("extrapolation_accuracy",
                                                                             "thinking_gain")) -> list[dict]:
    levels = (str(h["levels"][i]), str(h["levels"][j]))
    return [compare(factor, name, levels, _at(h, name, i), _at(h, name, j), predicted) for name in names]


def _diversity(h: dict) -> list[dict]:
    return _level_pair("diversity", h, 0, len(h["levels"]) - 1, +1, ("novel_accuracy", "extrapolation_accuracy"))


def _statefulness(h: dict) -> list[dict]:
    tied = [i for i, t in enumerate(h["weight_tied"]) if t]
    return _level_pair("statefulness", h, tied[0], tied[-1], +1) if len(tied) > 1 else []


def _compression(h: dict) -> list[dict]:
    out = []
    levels = h.get("levels", [])
    decays = [i for i, name in enumerate(levels) if str(name).startswith("weight decay")]
    if len(decays) > 1:
        out += _level_pair("compression", h, decays[0], decays[-1], +1, ("extrapolation_accuracy",))
    if "time" in levels and decays:
        out += _level_pair("compression", h, decays[0], levels.index("time"), -1, ("extrapolation_accuracy",))
    k, n = len(h["program_k"]) - 1, h["program_n_seeds"]
    share = h["algorithm_share"][k]
    if len(share) > 1:
        ends = [(share[j], [round(x, 4) for x in wilson_interval(round(share[j] * n), n)]) for j in (0, -1)]
        lams = (f"K {h['program_k'][k]}, lambda {h['program_lambda'][0]:g}",
                f"K {h['program_k'][k]}, lambda {h['program_lambda'][-1]:g}")
        out.append(compare("compression", "algorithm_share (programs)", lams, ends[0], ends[1], -1))
    return out


def _hardcoded(h: dict) -> list[dict]:
    return _level_pair("hardcoded", h, 0, 1, +1, ("extrapolation_accuracy",))


def _imitation(h: dict) -> list[dict]:
    targets = h["targets"]
    if not {"path", "wall_follower"} <= set(targets):
        return []
    return _level_pair("imitation", h, targets.index("wall_follower"), targets.index("path"), +1)


COMPARISONS = {"diversity": _diversity, "statefulness": _statefulness, "compression": _compression,
               "hardcoded": _hardcoded, "imitation": _imitation}
"""Per factor: its headline -> its comparisons."""
