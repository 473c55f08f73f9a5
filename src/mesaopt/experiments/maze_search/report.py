"""The self-contained ``report.html`` of a ``maze-search`` run, built from its ``report.json`` alone."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from mesaopt.detectors import search
from mesaopt.detectors.path_failures import FAILURE_KINDS
from mesaopt.reports.html import Section, write_html_report
from mesaopt.reports.plots import figure_png_bytes
from mesaopt.runs.checkpoints import atomic_write_bytes

EXPLANATION = (
    "Two networks learn to mark the path from start to goal in small perfect mazes: a recurrent one that applies "
    "one weight-tied block of convolutions again and again (with the maze re-fed at every iteration, and trained "
    "with the progressive loss), and a feed-forward control with as many blocks of its own weights as the recurrent "
    "one has training iterations. Both are tested on larger mazes; the recurrent one may think for more iterations "
    "than it was trained with, the control cannot. Accuracy is exact: every cell of the maze right. A network that "
    "learned a local, iterative search solves larger mazes when given more iterations; one that learned a "
    "size-specific shortcut does not."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per model class: accuracy at the training side and count, the best over iterations at each
    larger side (with its CI at the largest), and the thinking gain with its CI."""
    h = report["headline"]
    sides = h["test_sides"]
    rows = [["model", f"side {sides[0]}, trained count", *[f"best side {side}" for side in sides[1:]],
             "thinking gain"]]
    for kind in h["accuracy"]:
        grid, ci = np.asarray(h["accuracy"][kind]), np.asarray(h["accuracy_ci"][kind])
        best = grid.argmax(axis=1)
        cells = [f"{grid[i, best[i]]:.2f}" for i in range(1, len(sides))]
        if cells:  # one test side only: no larger side to show
            low, high = ci[-1, best[-1]]
            cells[-1] += f" [{low:.2f}, {high:.2f}]"
        gain_low, gain_high = h["thinking_gain_ci"][kind]
        rows.append([kind, f"{h['in_dist_accuracy'][kind]:.2f}", *cells,
                     f"{h['thinking_gain'][kind]:+.2f} [{gain_low:+.2f}, {gain_high:+.2f}]"])
    return rows


def _figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def heatmap_png(report: dict) -> bytes:
    """Accuracy over (test side × test iterations), one panel per model class, values in the cells."""
    h = report["headline"]
    fig = _figure(4.4 * len(h["accuracy"]) + 0.6, 3.4)
    axes = fig.subplots(1, len(h["accuracy"]), squeeze=False)[0]
    image = None
    for ax, (kind, grid) in zip(axes, h["accuracy"].items()):
        grid = np.asarray(grid, float)
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (r, c), v in np.ndenumerate(grid):
            ax.text(c, r, f"{v:.2f}", ha="center", va="center", fontsize=7, color="white" if v < 0.5 else "black")
        ax.set_xticks(range(len(h["test_iterations"])), [str(t) for t in h["test_iterations"]], fontsize=7)
        ax.set_yticks(range(len(h["test_sides"])), [str(s) for s in h["test_sides"]], fontsize=7)
        ax.set_xlabel("test-time iterations")
        ax.set_ylabel("maze side")
        ax.set_title(f"{kind} (trained: sides ≤ {h['train_side']})", fontsize=9)
    fig.colorbar(image, ax=list(axes), shrink=0.8, label="exact-path accuracy")
    return figure_png_bytes(fig)


def curves_png(report: dict) -> bytes:
    """Accuracy vs iterations per side (recurrent: solid with the CI band; feed-forward: dashed)."""
    h, acc = report["headline"], report["accuracy"]
    fig = _figure(6.4, 3.8)
    ax = fig.add_subplot()
    iters = np.asarray(h["test_iterations"])
    colors = ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2")
    for j, side in enumerate(h["test_sides"]):
        color = colors[j % len(colors)]
        ci = np.asarray(acc["recurrent"]["ci"][j])
        ax.plot(iters, acc["recurrent"]["mean"][j], marker="o", color=color, label=f"side {side}")
        ax.fill_between(iters, ci[:, 0], ci[:, 1], color=color, alpha=0.15)
        if "feedforward" in acc:
            ax.plot(iters, acc["feedforward"]["mean"][j], linestyle="--", color=color)
    ax.axvline(report["config"]["train_iterations"], color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("test-time iterations (dotted: training count)")
    ax.set_ylabel("exact-path accuracy")
    ax.set_title("recurrent (solid, 95 % CI over seeds) vs feed-forward (dashed)", fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    return figure_png_bytes(fig)


def _grid(rows: list[str]) -> np.ndarray:
    return np.array([[int(c) for c in row] for row in rows], float)


def _frame_image(frames: dict, index: int) -> np.ndarray:
    """RGB: walls dark, open cells light, the readout's path probability in red, start green, goal blue."""
    open_cells, prob = _grid(frames["open"]), _grid(frames["frames"][index]["rows"]) / 9.0
    rgb = np.where(open_cells[..., None] > 0, 0.93, 0.15) * np.ones(3)
    rgb = rgb * (1 - prob[..., None]) + prob[..., None] * np.array([0.85, 0.1, 0.1])
    rgb[_grid(frames["start"]) > 0] = (0.1, 0.7, 0.2)
    rgb[_grid(frames["goal"]) > 0] = (0.1, 0.3, 0.9)
    return rgb


def animation_gif(frames: dict) -> bytes:
    """The readout after each stored iteration, one GIF frame each (the search unfolding)."""
    fig = _figure(3.4, 3.6)
    ax = fig.add_subplot()
    images = []
    for i, frame in enumerate(frames["frames"]):
        ax.clear()
        ax.imshow(_frame_image(frames, i), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"iteration {frame['iteration']}", fontsize=9)
        fig.canvas.draw()
        images.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    buffer = io.BytesIO()
    pil = [Image.fromarray(im) for im in images]
    pil[0].save(buffer, format="GIF", save_all=True, append_images=pil[1:], duration=250, loop=0)
    return buffer.getvalue()


def filmstrip_png(frames: dict, n: int = 8) -> bytes:
    """``n`` frames of the animation side by side (for readers whose viewer does not animate)."""
    picks = np.unique(np.linspace(0, len(frames["frames"]) - 1, n).round().astype(int))
    fig = _figure(1.7 * len(picks), 2.0)
    for ax, i in zip(fig.subplots(1, len(picks), squeeze=False)[0], picks):
        ax.imshow(_frame_image(frames, i), interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"it. {frames['frames'][i]['iteration']}", fontsize=8)
    return figure_png_bytes(fig)


def evidence_table(report: dict) -> list[list[str]]:
    """Per candidate algorithm: the solve-iteration fit and the probe score; dead-end filling's per-cell settle
    fit (means over seeds)."""
    h = report["headline"]
    rows = [["candidate", "solve-iteration slope", "solve-iteration R²", "probe (balanced accuracy)"]]
    for name, fit in h["solve_iteration_fit"].items():
        rows.append([f"{name} (rounds)", f"{fit['slope']:.2f}", f"{fit['r2']:.2f}", ""])
    if "cell_settle_fit" in h:  # runs stored before the per-cell fit existed lack it
        cell = h["cell_settle_fit"]
        rows.append([f"dead_end_filling (per cell; {cell['settled_share']:.0%} of its cells settle)",
                     f"{cell['slope']:.2f}", f"{cell['r2']:.2f}", ""])
        if "rank_corr" in cell:  # runs stored before the robust summaries lack them
            rows.append(["dead_end_filling (per cell, robust: per-round medians; rank correlation)",
                         f"{cell['median_slope']:.2f}", f"ρ {cell['rank_corr']:.2f}", ""])
    for name, score in h["algorithm_match"].items():
        rows.append([f"{name} (state)", "", "", f"{score:.3f}"])
    return rows


def _cut_sentence(h: dict) -> str:
    """The cut test's result in words (runs stored before it existed: nothing)."""
    if "cut_unravel_rate" not in h:
        return ""
    if h["cut_unravel_rate"] is None:
        return " Cut test: no long path was solved, nothing to cut."
    return (f" Cut test (a wall across the middle of each solved path of >= 20 cells): {h['cut_unravel_rate']:.2f} "
            "of the paths given up (1 = the readout follows the maze, as dead-end filling does; 0 = it holds its "
            "answer), mean over seeds.")


def settling_png(report: dict) -> bytes | None:
    """Per seed, the median iteration at which cells settle against the round dead-end filling fills them (seed
    0 with its 10-90 % band), beside the planted filler's one round per iteration and two rounds per iteration.
    None for runs stored before the per-cell fit."""
    fits = [e["cell_settle_fit"] for e in report["search_evidence"] if "by_round" in e.get("cell_settle_fit", {})]
    if not fits:
        return None
    fig = _figure(5.6, 3.6)
    ax = fig.add_subplot()
    top = max(max(f["by_round"]["round"], default=1) for f in fits)
    for s, fit in enumerate(fits):
        by_round = fit["by_round"]
        if s == 0:
            ax.fill_between(by_round["round"], by_round["q10"], by_round["q90"], color="#1f77b4", alpha=0.2,
                            label="seed 0, 10-90 %")
        ax.plot(by_round["round"], by_round["median"], lw=1.2,
                label=f"seed {s} (R² {fit['r2']:.2f}" + (f", ρ {fit['rank_corr']:.2f})" if "rank_corr" in fit else ")"))
    ax.plot([0, top], [0, top], "k--", lw=1, label="1 round per iteration (planted filler)")
    ax.plot([0, top], [0, top / 2], "k:", lw=1, label="2 rounds per iteration")
    ax.set_xlabel("round in which dead-end filling fills the cell")
    ax.set_ylabel("iteration from which the cell stays right")
    ax.legend(fontsize=7, frameon=False)
    return figure_png_bytes(fig)


def erasure_png(report: dict) -> bytes | None:
    """Per seed, each test maze of the largest side: the share of its path the readout covers after the most
    iterations against the path's length; crosses: paths found (nearly all covered once) and then erased. None for
    runs stored before the erasure detector."""
    runs = [e["path_erasure"] for e in report["search_evidence"] if "path_erasure" in e]
    if not runs:
        return None
    fig = _figure(5.6, 3.4)
    ax = fig.add_subplot()
    for s, run in enumerate(runs):
        length, final = np.asarray(run["path_length"]), np.asarray(run["final_coverage"])
        erased = search.path_erasure(run["peak_coverage"], final)
        jitter = 0.015 * s
        ax.scatter(length[~erased], final[~erased] - jitter, s=9, color=f"C{s}", alpha=0.6, label=f"seed {s}")
        ax.scatter(length[erased], final[erased] + jitter, s=22, marker="x", color=f"C{s}")
    ax.set_xlabel(f"path length (cells), side {runs[0]['side']}")
    ax.set_ylabel("share of the path covered at the end")
    ax.legend(fontsize=7, frameon=False, title="x: found, then erased", title_fontsize=7)
    return figure_png_bytes(fig)


def _failure_sentence(report: dict) -> str:
    """The final answers at the largest side by kind, per seed (empty for runs stored before the failure kinds)."""
    runs = [e["path_erasure"]["failure_kinds"] for e in report["search_evidence"]
            if "failure_kinds" in e.get("path_erasure", {})]
    if not runs:
        return ""
    per_seed = "; ".join(" / ".join(f"{run[k]:.2f}" for k in FAILURE_KINDS) for run in runs)
    return (f" After the most iterations, the share of these mazes whose answer is {' / '.join(FAILURE_KINDS)} "
            f"(erased: path lost, nothing extra; unfilled: path whole, dead ends left on), per seed: {per_seed}.")


def _loss_png(report: dict) -> bytes:
    fig = _figure(6.0, 3.2)
    ax = fig.add_subplot()
    for kind, curves in report["learning_curves"].items():
        loss = np.asarray(curves["loss"])
        for s, row in enumerate(loss):
            ax.plot(curves["step"], row, color="#1f77b4" if kind == "recurrent" else "#d62728", alpha=0.7,
                    label=kind if s == 0 else None)
    ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("per-cell cross-entropy")
    ax.legend(fontsize=8, frameon=False)
    return figure_png_bytes(fig)


def supervision_sentence(report: dict) -> str:
    """What the recurrent network's loss asked for: the dead-end filling's trace, or the path alone (also for runs
    stored before ``trace_rate`` existed, which trained on the path alone)."""
    rate = report["config"].get("trace_rate", 0.0)
    if rate > 0:
        return (f" The recurrent network's loss after t iterations asked for the cells dead-end filling has not "
                f"filled by round {rate:g}·t (process supervision: the search's trace, not only its answer), so "
                "the detectors check what it was taught.")
    return " The recurrent network's loss asked for the path alone after every number of iterations (the answer only)."


def write_maze_search_html(run_dir, report: dict) -> Path:
    """``report.html`` next to ``report.json``, plus ``readout.gif`` (the animation)."""
    h = report["headline"]
    gif = animation_gif(report["readout_frames"])
    atomic_write_bytes(Path(run_dir) / "readout.gif", gif)
    e0 = report["search_evidence"][0]
    summary = [("train side", str(h["train_side"])), ("seeds per model", str(h["n_seeds"])),
               ("best matching algorithm", h["best_matching_algorithm"]),
               ("solve-iteration R² (best candidate)", f"{h['solve_iteration_r2']:.2f}"),
               ("retarget rate", f"{h['retarget_rate']:.2f}"), ("wall time", f"{h['wall_seconds']:.0f} s")]
    sections = [
        Section("What was run", EXPLANATION + supervision_sentence(report), table=summary_table(report)),
        Section("Accuracy over maze side and test-time iterations", images=[
            ("mean exact-path accuracy over seeds", heatmap_png(report)),
            ("accuracy vs iterations", curves_png(report))]),
        Section("The search unfolding", "The first recurrent network's readout on a side-"
                f"{report['readout_frames']['side']} test maze after each iteration (red: path probability; green: "
                "start; blue: goal).",
                images=[("readout per iteration (animated)", gif),
                        ("selected iterations", filmstrip_png(report["readout_frames"]))]),
        Section("Which search?", "Solve iteration: the first iteration at which a maze is solved, regressed on each "
                "candidate's rounds on that maze; per cell: the iteration from which each cell the filling fills "
                "stays right, regressed on the round it is filled in. Probe: a linear read-out of the candidate's "
                "per-cell state from the hidden state (held-out balanced accuracy, 0.5 = chance). "
                f"Side {e0['side']} mazes. Moving the goal: {h['retarget_rate']:.2f} exact;"
                f" goal blanked (seed 0): {e0['goal_ablation']}." + _cut_sentence(h),
                table=evidence_table(report),
                images=[("per-cell settling (median per fill round)", png) for png in [settling_png(report)] if png]),
        *([Section("Where extrapolation fails", "Each test maze of the largest side: how much of its path the "
                   "readout covers after the most iterations, against the path's length. A path at least 90 % covered "
                   "at some iteration and less than half covered at the end was erased: the filling did not stop at "
                   "the path. "
                   f"Erased: {h['path_erasure_rate']:.2f} of mazes (mean over seeds)." + _failure_sentence(report),
                   images=[("path covered at the end vs path length", erasure_png(report))])]
          if "path_erasure_rate" in h else []),
        Section("Training", images=[("training loss per seed", _loss_png(report))]),
    ]
    return write_html_report(Path(run_dir) / "report.html", title="maze-search: learned search on mazes",
                             summary_rows=summary, sections=sections)
