"""The HTML report is one self-contained, escaped file."""

import base64
import io

import numpy as np
import pytest
from PIL import Image

from mesaopt.reports.html import Section, write_html_report


def _png(color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.full((4, 6, 3), color, np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def _report(tmp_path, **overrides):
    kwargs = dict(
        title="Goal misgeneralization <r=1>",
        summary_rows=[("preset", "maze-corner"), ("seeds", "5")],
        sections=[
            Section(
                heading="Outcomes",
                text="Proxy & goal rates.\n\n<script>alert(1)</script>",
                images=[("dose response", _png((255, 0, 0))), ("episode 0", _png((0, 0, 255)))],
                table=[["r", "goal rate"], ["1", "0.35"], ["2", "<b>0.48</b>"]],
            ),
            Section(heading="Notes"),
        ],
    )
    kwargs.update(overrides)
    return write_html_report(tmp_path / "report.html", **kwargs)


def test_report_is_self_contained_and_escaped(tmp_path):
    text = _report(tmp_path).read_text("utf-8")
    assert "Goal misgeneralization &lt;r=1&gt;" in text
    assert "<title>Goal misgeneralization &lt;r=1&gt;</title>" in text
    for caption in ("dose response", "episode 0"):
        assert f"<figcaption>{caption}</figcaption>" in text
    assert text.count('<img src="data:image/png;base64,') == 2
    assert "http://" not in text and "https://" not in text
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<b>0.48</b>" not in text and "&lt;b&gt;0.48&lt;/b&gt;" in text
    assert "Proxy &amp; goal rates." in text
    assert "<th>preset</th><td>maze-corner</td>" in text
    assert "<th>r</th><th>goal rate</th>" in text
    assert "<h2>Notes</h2>" in text


def test_embedded_images_decode_to_the_original_bytes(tmp_path):
    text = _report(tmp_path).read_text("utf-8")
    marker = 'src="data:image/png;base64,'
    start = text.index(marker) + len(marker)
    encoded = text[start : text.index('"', start)]
    assert base64.b64decode(encoded) == _png((255, 0, 0))


def test_atomic_write_leaves_only_the_report(tmp_path):
    _report(tmp_path)
    _report(tmp_path, title="second")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert "<h1>second</h1>" in (tmp_path / "report.html").read_text("utf-8")


def test_non_png_image_is_rejected_and_nothing_is_written(tmp_path):
    bad = [Section(heading="x", images=[("not a png", b"\xff\xd8\xff\xe0JFIF")])]
    with pytest.raises(ValueError, match="must be PNG or GIF bytes"):
        _report(tmp_path, sections=bad)
    assert list(tmp_path.iterdir()) == []


def test_gif_is_embedded_as_a_gif(tmp_path):
    _report(tmp_path, sections=[Section(heading="anim", images=[("frames", b"GIF89a\x01\x00")])])
    assert 'src="data:image/gif;base64,' in (tmp_path / "report.html").read_text("utf-8")


def test_ragged_table_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="row 1 has 1"):
        _report(tmp_path, sections=[Section(heading="t", table=[["a", "b"], ["1"]])])


def test_section_is_frozen():
    section = Section(heading="h")
    with pytest.raises(AttributeError):
        section.heading = "other"
