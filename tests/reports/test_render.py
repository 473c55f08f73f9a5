"""Maze pictures (PNG, GIF) and result plots: files are written atomically and are valid images."""

import io

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

from mesaopt.reports.plots import figure_png_bytes, plot_dose_response, plot_learning_curves
from mesaopt.reports.render import atomic_path, draw_maze, save_episode_gif, save_trajectory_png, trajectory_png_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
WALLS = np.array(
    [
        [1, 1, 1, 1, 1],
        [1, 0, 0, 0, 1],
        [1, 1, 1, 0, 1],
        [1, 0, 0, 0, 1],
        [1, 1, 1, 1, 1],
    ],
    dtype=bool,
)
# starts at (1, 1), bumps into a wall once (a repeated position), ends on the goal at (3, 1)
TRAJECTORY = np.array([[1, 1], [1, 2], [1, 2], [1, 3], [2, 3], [3, 3], [3, 2], [3, 1]])
GOAL = np.array([3, 1])
PROXY = np.zeros((5, 5), bool)
PROXY[:2, 3:] = True


def _orange_pixels(png: bytes) -> int:
    """Pixels close to the proxy tint (orange over the light open colour)."""
    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    return int(((r > 230) & (g > 170) & (g < 215) & (b < 150)).sum())


def test_trajectory_png_is_a_png_with_the_proxy_tint(tmp_path):
    path = save_trajectory_png(tmp_path / "episode.png", WALLS, TRAJECTORY, GOAL, PROXY, title="hand-made")
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert Image.open(path).size[0] > 100
    assert _orange_pixels(data) > 100
    assert _orange_pixels(trajectory_png_bytes(WALLS, TRAJECTORY, GOAL, None)) < _orange_pixels(data) / 10
    assert [p.name for p in tmp_path.iterdir()] == ["episode.png"]  # no temp files left behind


def test_trajectory_png_bytes_accept_jax_arrays():
    jnp = pytest.importorskip("jax.numpy")
    data = trajectory_png_bytes(jnp.asarray(WALLS), jnp.asarray(TRAJECTORY), jnp.asarray(GOAL), jnp.asarray(PROXY))
    assert data.startswith(PNG_MAGIC)


def test_episode_gif_has_one_frame_per_step(tmp_path):
    path = save_episode_gif(tmp_path / "sub" / "episode.gif", WALLS, TRAJECTORY, GOAL, PROXY, fps=5)
    assert path.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    with Image.open(path) as gif:
        assert gif.n_frames == len(TRAJECTORY)
    assert [p.name for p in path.parent.iterdir()] == ["episode.gif"]


def test_single_position_trajectory_renders(tmp_path):
    path = save_episode_gif(tmp_path / "one.gif", WALLS, TRAJECTORY[:1], GOAL, PROXY)
    with Image.open(path) as gif:
        assert gif.n_frames == 1
    assert trajectory_png_bytes(WALLS, TRAJECTORY[:1], GOAL, PROXY).startswith(PNG_MAGIC)


@pytest.mark.parametrize("bad", [np.zeros((0, 2), int), np.zeros((3, 3), int), np.zeros(4, int)])
def test_bad_trajectory_shape_raises(tmp_path, bad):
    with pytest.raises(ValueError, match="trajectory must have shape"):
        save_trajectory_png(tmp_path / "bad.png", WALLS, bad, GOAL, PROXY)
    assert not (tmp_path / "bad.png").exists()


def test_draw_maze_rejects_mismatched_proxy():
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="proxy_mask shape"):
        draw_maze(ax, WALLS, proxy_mask=np.zeros((3, 3), bool))


def test_failed_write_keeps_the_earlier_file(tmp_path):
    target = tmp_path / "keep.png"
    target.write_bytes(b"earlier")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"partial")
            raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"earlier"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.png"]


def test_dose_response_plot():
    series = {
        "goal rate (in-dist)": ([0.96, 0.91, 0.73], [0.93, 0.88, 0.68], [0.98, 0.94, 0.78]),
        "proxy rate (shifted)": ([0.59, 0.33, 0.09], [0.52, 0.27, 0.05], [0.66, 0.40, 0.13]),
    }
    fig = plot_dose_response([1, 2, 3], series, baselines={"random walk: goal": 0.23})
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == [*series, "random walk: goal"]
    assert ax.get_ylim() == pytest.approx((-0.02, 1.02))
    assert list(ax.get_xticks()) == [1, 2, 3]
    assert figure_png_bytes(fig).startswith(PNG_MAGIC)


def test_dose_response_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="each have 3 values"):
        plot_dose_response([1, 2, 3], {"goal": ([0.1, 0.2], [0.0, 0.1], [0.2, 0.3])})


def test_learning_curves_plot_mean_and_band():
    steps = np.arange(10) * 100
    curves = {"return": np.stack([np.linspace(0, 1, 10), np.linspace(0, 0.5, 10)])}
    fig = plot_learning_curves(steps, curves, ylabel="return", band="minmax")
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_allclose(line.get_ydata(), np.linspace(0, 0.75, 10))
    assert figure_png_bytes(fig).startswith(PNG_MAGIC)
    with pytest.raises(ValueError, match="allowed: \\['minmax', 'std'\\]"):
        plot_learning_curves(steps, curves, ylabel="return", band="iqr")
    with pytest.raises(ValueError, match="must have shape"):
        plot_learning_curves(steps[:5], curves, ylabel="return")
