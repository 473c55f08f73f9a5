"""Pictures of maze levels and episodes: PNG stills and GIF animations.

Uses :class:`matplotlib.figure.Figure` with the Agg canvas directly (never ``pyplot``), so rendering has no
global state and needs no display. Positions are (row, col) with row 0 at the top, as in
:mod:`mesaopt.envs.maze`; cell ``(r, c)`` is drawn centred at ``x = c, y = r``.
"""

from __future__ import annotations

import contextlib
import io
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.animation import PillowWriter
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from numpy.typing import ArrayLike

from mesaopt.runs.checkpoints import atomic_write_bytes

WALL_COLOR = "#2d2f36"
OPEN_COLOR = "#f3efe6"
PROXY_COLOR = "#ff8c1a"
PROXY_ALPHA = 0.45
GOAL_COLOR = "#ffd21f"
AGENT_COLOR = "#1f5fd6"
TRAIL_CMAP = "cool"
TRAIL_RANGE = (0.0, 1.0)  # cyan -> magenta: distinct from the orange proxy, yellow goal and blue agent


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` (same suffix); on success rename it onto ``path``, else delete it.

    A crash mid-write leaves either the earlier file or nothing, never a partial file.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=target.suffix or ".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _as_positions(trajectory: ArrayLike) -> np.ndarray:
    """A validated ``[T, 2]`` integer array of (row, col) positions, T >= 1."""
    traj = np.asarray(trajectory)
    if traj.ndim != 2 or traj.shape[1] != 2 or traj.shape[0] < 1:
        raise ValueError(f"trajectory must have shape (T >= 1, 2) of (row, col) positions, got {traj.shape}")
    return traj.astype(np.int64)


def _maze_image(walls: np.ndarray, proxy_mask: np.ndarray | None) -> np.ndarray:
    """RGB image: dark walls, light open cells, proxy cells blended towards orange."""
    image = np.where(walls[..., None], to_rgb(WALL_COLOR), to_rgb(OPEN_COLOR))
    if proxy_mask is not None:
        proxy = np.asarray(proxy_mask, bool)
        if proxy.shape != walls.shape:
            raise ValueError(f"proxy_mask shape {proxy.shape} does not match walls shape {walls.shape}")
        tinted = (1 - PROXY_ALPHA) * image + PROXY_ALPHA * np.asarray(to_rgb(PROXY_COLOR))
        image = np.where(proxy[..., None], tinted, image)
    return image


def _cell_points(ax: Axes, size: int) -> float:
    """Approximate side of one cell in points, to scale markers and lines with the figure."""
    box = ax.get_position()
    fig = ax.get_figure()
    side_in = min(box.width * fig.get_figwidth(), box.height * fig.get_figheight())
    return 72.0 * side_in / size


def _draw_trajectory(ax: Axes, traj: np.ndarray, cell_pt: float, color_steps: int | None) -> None:
    """Line through cell centres coloured by time (start → end), and a square marker at the start."""
    steps = max(color_steps if color_steps is not None else len(traj) - 1, 1)
    low, high = TRAIL_RANGE
    cmap = colormaps[TRAIL_CMAP]
    colors = cmap(low + (high - low) * Normalize(0, steps, clip=True)(np.arange(len(traj))))
    xy = traj[:, ::-1].astype(float)  # (row, col) -> (x=col, y=row)
    if len(traj) > 1:
        segments = np.stack([xy[:-1], xy[1:]], axis=1)
        lines = LineCollection(segments, colors=colors[1:], linewidths=0.13 * cell_pt, capstyle="round", zorder=3)
        ax.add_collection(lines)
    ax.plot(*xy[0], marker="s", ms=0.4 * cell_pt, color=colors[0], mec="black", mew=1.0, zorder=4, ls="none")


def _legend_handles(has_proxy: bool, has_goal: bool, has_agent: bool, has_traj: bool) -> list:
    """Legend entries for what was drawn."""
    handles = []
    if has_goal:
        handles.append(Line2D([], [], marker="*", ls="none", ms=12, color=GOAL_COLOR, mec="#6b5200", label="goal"))
    if has_agent:
        handles.append(Line2D([], [], marker="o", ls="none", ms=9, color=AGENT_COLOR, mec="white", label="agent"))
    if has_traj:
        start = Line2D([], [], marker="s", ls="none", ms=8, color=colormaps[TRAIL_CMAP](TRAIL_RANGE[0]), mec="black",
                       label="start")
        handles.append(start)
    if has_proxy:
        handles.append(Patch(facecolor=PROXY_COLOR, alpha=PROXY_ALPHA, edgecolor=PROXY_COLOR, label="proxy region"))
    return handles


def draw_maze(
    ax: Axes,
    walls: ArrayLike,
    *,
    goal: ArrayLike | None = None,
    agent: ArrayLike | None = None,
    proxy_mask: ArrayLike | None = None,
    trajectory: ArrayLike | None = None,
    title: str | None = None,
    legend: bool = False,
    color_steps: int | None = None,
) -> Axes:
    """Draw a maze on ``ax``: walls dark, open cells light, proxy region tinted orange, goal a yellow star,
    agent a blue circle, trajectory a line through cell centres coloured by time with a square at its start.

    ``walls`` is ``bool[n, n]`` (True = wall); positions are (row, col); JAX arrays are accepted.
    ``color_steps`` fixes the time span of the colour gradient (default: the trajectory's length), so the
    frames of an animation share colours. ``legend`` adds a legend below the maze. Returns ``ax``.
    """
    walls = np.asarray(walls, bool)
    if walls.ndim != 2 or walls.shape[0] != walls.shape[1]:
        raise ValueError(f"walls must be a square 2-D grid, got shape {walls.shape}")
    size = walls.shape[0]
    ax.imshow(_maze_image(walls, proxy_mask), extent=(-0.5, size - 0.5, size - 0.5, -0.5), interpolation="nearest")
    ax.set_xticks(np.arange(-0.5, size, 1.0), minor=True)
    ax.set_yticks(np.arange(-0.5, size, 1.0), minor=True)
    ax.grid(which="minor", color="#9a958a", linewidth=0.4, alpha=0.6)
    ax.tick_params(which="both", bottom=False, left=False, labelbottom=False, labelleft=False)
    cell_pt = _cell_points(ax, size)
    if trajectory is not None:
        _draw_trajectory(ax, _as_positions(trajectory), cell_pt, color_steps)
    if goal is not None:
        row, col = np.asarray(goal).tolist()
        ax.plot(col, row, marker="*", ms=0.75 * cell_pt, color=GOAL_COLOR, mec="#6b5200", mew=1.0, zorder=5)
    if agent is not None:
        row, col = np.asarray(agent).tolist()
        ax.plot(col, row, marker="o", ms=0.45 * cell_pt, color=AGENT_COLOR, mec="white", mew=1.5, zorder=6)
    ax.set_xlim(-0.5, size - 0.5)
    ax.set_ylim(size - 0.5, -0.5)
    if title:
        ax.set_title(title, fontsize=10)
    if legend:
        handles = _legend_handles(proxy_mask is not None, goal is not None, agent is not None, trajectory is not None)
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=len(handles) or 1,
                  frameon=False, fontsize=8, handletextpad=0.3, columnspacing=1.0)
    return ax


def _new_figure(inches: float = 4.0, legend_space: float = 0.0) -> tuple[Figure, Axes]:
    """A figure with its own Agg canvas and one square axes (no pyplot); ``legend_space`` inches below it."""
    height = inches + 0.35 + legend_space  # 0.35 in for the title
    fig = Figure(figsize=(inches, height))
    FigureCanvasAgg(fig)
    margin = 0.04 * inches
    ax = fig.add_axes((0.04, (legend_space + margin) / height, 0.92, (inches - 2 * margin) / height))
    return fig, ax


def trajectory_png_bytes(
    walls: ArrayLike,
    trajectory: ArrayLike,
    goal: ArrayLike,
    proxy_mask: ArrayLike | None,
    title: str | None = None,
    *,
    dpi: int = 110,
) -> bytes:
    """PNG bytes of one episode: the maze, the path taken, the goal, the proxy region and the final agent cell."""
    traj = _as_positions(trajectory)
    fig, ax = _new_figure(4.0, legend_space=0.35)
    draw_maze(ax, walls, goal=goal, agent=traj[-1], proxy_mask=proxy_mask, trajectory=traj, title=title, legend=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white", bbox_inches="tight", pad_inches=0.08)
    return buf.getvalue()


def save_trajectory_png(
    path: str | os.PathLike,
    walls: ArrayLike,
    trajectory: ArrayLike,
    goal: ArrayLike,
    proxy_mask: ArrayLike | None,
    title: str | None = None,
) -> Path:
    """Write :func:`trajectory_png_bytes` to ``path`` atomically; returns the path."""
    atomic_write_bytes(Path(path), trajectory_png_bytes(walls, trajectory, goal, proxy_mask, title))
    return Path(path)


def save_episode_gif(
    path: str | os.PathLike,
    walls: ArrayLike,
    trajectory: ArrayLike,
    goal: ArrayLike,
    proxy_mask: ArrayLike | None,
    fps: int = 4,
    *,
    dpi: int = 80,
) -> Path:
    """Animated GIF with one frame per trajectory entry: the agent moving and its trail so far.

    Each frame is titled ``step t/T`` (which also keeps consecutive frames distinct, so GIF encoders do not
    merge frames where the agent stood still). Written atomically; returns the path.
    """
    traj = _as_positions(trajectory)
    if not isinstance(fps, (int, np.integer)) or fps < 1:
        raise ValueError(f"fps must be a positive integer, got {fps!r}")
    fig, ax = _new_figure(3.2)
    writer = PillowWriter(fps=int(fps))
    with atomic_path(path) as tmp:  # tmp keeps the .gif suffix, which Pillow uses to pick the format
        with writer.saving(fig, str(tmp), dpi):
            for t in range(len(traj)):
                ax.clear()
                title = f"step {t}/{len(traj) - 1}"
                draw_maze(ax, walls, goal=goal, agent=traj[t], proxy_mask=proxy_mask, trajectory=traj[: t + 1],
                          title=title, color_steps=len(traj) - 1)
                writer.grab_frame(facecolor="white")
    return Path(path)
