"""The self-contained ``report.html`` of a ``maze-misgen`` run, built from its ``report.json`` alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from mesaopt.reports.evidence_html import evidence_sections
from mesaopt.reports.html import Section, mean_with_ci, write_html_report
from mesaopt.reports.plots import figure_png_bytes, plot_dose_response, plot_learning_curves
from mesaopt.reports.render import save_episode_gif, trajectory_png_bytes

EXPLANATION = (
    "Agents are trained with PPO on mazes whose goal lies in the top-right r x r cells (the training region). "
    "They are then tested in distribution and on a shifted distribution where the goal can be anywhere except "
    "the top-right corner cell, which is the proxy. 'goal rate' = the episode reached the goal; 'proxy rate' = "
    "it reached the corner and never the goal. A small region makes 'go to the corner' and 'go to the goal' "
    "indistinguishable in training; widening it should restore goal-seeking. Bands are 95 % t-intervals over seeds."
)


def summary_table(report: dict) -> list[list[str]]:
    """Header + one row per region size: in-dist goal, shifted goal, shifted proxy (mean [95 % CI])."""
    h = report["headline"]
    rows = [["region size", "goal rate (in dist)", "goal rate (shifted)", "proxy rate (shifted)"]]
    for i, r in enumerate(h["region_sizes"]):
        rows.append([str(r), mean_with_ci(h["goal_rate_in_dist"][i], h["goal_rate_in_dist_ci"][i]),
                     mean_with_ci(h["goal_rate_shifted"][i], h["goal_rate_shifted_ci"][i]),
                     mean_with_ci(h["proxy_rate_shifted"][i], h["proxy_rate_shifted_ci"][i])])
    return rows


def _dose_response_png(report: dict) -> bytes:
    h, base = report["headline"], report["random_baseline"]["shifted"]

    def series(mean_key, ci_key):
        ci = np.asarray(h[ci_key])
        return h[mean_key], ci[:, 0], ci[:, 1]

    fig = plot_dose_response(
        h["region_sizes"],
        {"goal rate (in dist)": series("goal_rate_in_dist", "goal_rate_in_dist_ci"),
         "goal rate (shifted)": series("goal_rate_shifted", "goal_rate_shifted_ci"),
         "proxy rate (shifted)": series("proxy_rate_shifted", "proxy_rate_shifted_ci")},
        baselines={"random walk: goal (shifted)": base["goal_rate"], "random walk: proxy (shifted)": base["proxy_rate"]},
    )
    return figure_png_bytes(fig)


def _learning_curve_png(report: dict) -> bytes:
    curves = report["learning_curves"]
    rates = np.asarray(curves["success_rate"])
    regions, n_seeds = report["headline"]["region_sizes"], report["headline"]["n_seeds"]
    by_region = {f"region {r}": rates[i * n_seeds:(i + 1) * n_seeds] for i, r in enumerate(regions)}
    fig = plot_learning_curves(np.asarray(curves["env_steps"]), by_region, ylabel="training success rate")
    return figure_png_bytes(fig)


def _example_images(report: dict) -> list[tuple[str, bytes]]:
    images = []
    for name, episodes in report["examples"].items():
        for i, ep in enumerate(episodes):
            walls, proxy = np.asarray(ep["walls"], bool), np.asarray(ep["proxy_mask"], bool)
            title = f"{name} #{i + 1}: {ep['outcome']}"
            images.append((title, trajectory_png_bytes(walls, np.asarray(ep["positions"]), ep["goal"], proxy, title)))
    return images


def write_maze_misgen_html(run_dir: Path, report: dict) -> Path:
    """Write ``report.html`` (and one example GIF) into ``run_dir``; returns the HTML path."""
    h, t, cfg = report["headline"], report["timings"], report["config"]
    trained_at = cfg.get("train_size", 0)
    side = f"{cfg['size']}" + (f" (trained at side {trained_at})" if trained_at not in (0, cfg["size"]) else "")
    summary = [("maze side", side),
               ("agents", f"{len(h['region_sizes'])} region sizes x {h['n_seeds']} seeds"),
               ("env steps per agent", f"{h['env_steps_per_seed']:,}"),
               ("wall time", f"{h['wall_seconds']:.0f} s (compile {t['compile_seconds']:.1f} s, "
                             f"train {t['train_seconds']:.0f} s, {t['env_steps_per_second']:,} env steps/s)")]
    sections = [
        Section("Dose-response", EXPLANATION, images=[("goal and proxy rates vs training-region size",
                                                       _dose_response_png(report))], table=summary_table(report)),
        Section("Learning curves", "Success rate of training episodes, mean and range over seeds.",
                images=[("training success", _learning_curve_png(report))]),
        Section("Example trajectories", "Seed 0 of the smallest and largest region; orange = proxy corner, "
                "star = goal, path coloured from start (cyan) to end (magenta).", images=_example_images(report)),
        *evidence_sections(report),
    ]
    first = next(iter(report["examples"].values()))[0]
    save_episode_gif(Path(run_dir) / "example.gif", np.asarray(first["walls"], bool), np.asarray(first["positions"]),
                     first["goal"], np.asarray(first["proxy_mask"], bool))
    return write_html_report(Path(run_dir) / "report.html", title="maze-misgen: goal misgeneralization",
                             summary_rows=summary, sections=sections)
