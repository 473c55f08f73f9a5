"""The self-contained ``report.html`` of a ``maze-search-misgen`` run, built from its ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from mesaopt.reports.evidence_html import evidence_sections
from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.plots import figure_png_bytes, plot_dose_response, plot_learning_curves

EXPLANATION = (
    "Recurrent thinking networks (as in maze-search) are trained on mazes whose goal always lies in the top-right "
    "r x r block of rooms (the proxy). On the shifted test (the training side, goal and start outside the block) "
    "each predicted path is classified: 'goal' = exactly the path to the goal marker; 'proxy' = a simple path of "
    "open cells from the start that ends in the block; 'both' = a tree of open cells made of the whole goal path "
    "plus one branch ending in the block; 'other' = anything else (walls predicted, broken, flooded, ending "
    "elsewhere). In distribution, accuracy is exact-path accuracy with the goal in the block. Bands and brackets "
    "are 95 % t-intervals over seeds."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per condition: in-distribution accuracy, shifted goal / proxy / both / other rates."""
    h = report["headline"]
    rows = [["goal region r", "accuracy (in dist)", "goal (shifted)", "proxy (shifted)", "both (shifted)",
             "other (shifted)"]]
    for i, r in enumerate(h["conditions"]):
        rows.append([str(r), mean_with_ci(h["in_dist_accuracy"][i], h["in_dist_accuracy_ci"][i]),
                     mean_with_ci(h["goal_rate_shifted"][i], h["goal_rate_shifted_ci"][i]),
                     mean_with_ci(h["proxy_rate_shifted"][i], h["proxy_rate_shifted_ci"][i]),
                     mean_with_ci(h["both_rate_shifted"][i], h["both_rate_shifted_ci"][i]),
                     mean_with_ci(h["other_rate_shifted"][i], h["other_rate_shifted_ci"][i])])
    return rows


def _dose_response_png(report: dict) -> bytes:
    h = report["headline"]

    def series(key):
        ci = np.asarray(h[f"{key}_ci"])
        return h[key], ci[:, 0], ci[:, 1]

    fig = plot_dose_response(h["conditions"], {"accuracy (in dist)": series("in_dist_accuracy"),
                                               "goal rate (shifted)": series("goal_rate_shifted"),
                                               "proxy rate (shifted)": series("proxy_rate_shifted"),
                                               "both (shifted)": series("both_rate_shifted")},
                             title="What the maze solver searches for vs training goal region",
                             xlabel="training goal region r (rooms)")
    return figure_png_bytes(fig)


def _loss_png(report: dict) -> bytes:
    curves, h = report["learning_curves"], report["headline"]
    loss, n = np.asarray(curves["loss"]), h["n_seeds"]
    by_region = {f"region {r}": loss[i * n:(i + 1) * n] for i, r in enumerate(h["conditions"])}
    return figure_png_bytes(plot_learning_curves(np.asarray(curves["step"]), by_region, xlabel="training step",
                                                 ylabel="per-cell cross-entropy"))


def _grid(rows: list[str]) -> np.ndarray:
    return np.array([[c == "1" for c in row] for row in rows])


def example_png(example: dict, title: str) -> bytes:
    """One shifted maze: walls dark, the true path light green, the prediction blue, start green, goal red."""
    open_cells, path, pred = _grid(example["open"]), _grid(example["path"]), _grid(example["predicted"])
    rgb = np.where(open_cells[..., None], 1.0, 0.15) * np.ones(3)
    rgb[path] = (0.75, 0.95, 0.75)
    rgb[pred & open_cells] = (0.25, 0.45, 0.95)
    rgb[_grid(example["start"])] = (0.1, 0.7, 0.1)
    rgb[_grid(example["goal"])] = (0.9, 0.1, 0.1)
    fig = Figure(figsize=(2.2, 2.4), layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(rgb, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_axis_off()
    return figure_png_bytes(fig)


def write_maze_search_misgen_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` into ``run_dir``; returns its path."""
    h, t = report["headline"], report["timings"]
    summary = [("networks", f"{len(h['conditions'])} goal regions x {h['n_seeds']} seeds"),
               ("test side", str(h["test_side"])),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"train {t['train_seconds']:.0f} s, {t['train_steps_per_second']} train steps/s)")]
    pictures = [(f"{name}, maze {i + 1}", example_png(ex, f"{name} #{i + 1}"))
                for name, shown in report["examples"].items() for i, ex in enumerate(shown)]
    sections = [
        Section("Goal or proxy?", EXPLANATION, images=[("rates vs goal region", _dose_response_png(report))],
                table=summary_table(report)),
        Section("Shifted examples", "The first network of each condition on the first shifted mazes: blue = its "
                "predicted path, light green = the true path, green = start, red = goal.", images=pictures),
        Section("Training", images=[("training loss per network", _loss_png(report))]),
        *evidence_sections(report),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="maze-search-misgen: what does a learned search "
                             "search for?", summary_rows=summary, sections=sections)
