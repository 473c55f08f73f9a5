"""A self-contained HTML report: one file, inline CSS, PNG images embedded as base64 data URIs.

The file references nothing outside itself (no scripts, fonts, stylesheets or links), so it can be mailed,
archived with a run and opened offline. All text is HTML-escaped. The file is written atomically.
"""

from __future__ import annotations

import base64
import dataclasses
import html
import os
from collections.abc import Sequence
from pathlib import Path

from mesaopt.runs.checkpoints import atomic_write_bytes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
GIF_MAGIC = (b"GIF87a", b"GIF89a")
"""Signatures of a GIF (animations, e.g. a thinking network's readout iteration by iteration)."""

_CSS = """
body { margin: 0; background: #f6f6f4; color: #1d1d1f;
       font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 960px; margin: 0 auto; padding: 24px 32px 48px; background: #fff; min-height: 100vh; }
h1 { font-size: 1.6em; margin: 0.2em 0 0.6em; }
h2 { font-size: 1.25em; margin: 1.6em 0 0.5em; padding-bottom: 0.2em; border-bottom: 1px solid #ddd; }
p { margin: 0.5em 0; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #c9c9c9; padding: 4px 10px; text-align: left; vertical-align: top; }
th { background: #eeeeea; }
table.summary th { width: 14em; }
figure { display: inline-block; margin: 0.6em 1.2em 0.6em 0; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #e2e2e2; }
figcaption { font-size: 0.88em; color: #555; margin-top: 0.2em; }
"""


@dataclasses.dataclass(frozen=True)
class Section:
    """One report section."""

    heading: str
    """Section title."""
    text: str = ""
    """Plain text (not HTML); blank lines separate paragraphs."""
    images: Sequence[tuple[str, bytes]] = ()
    """``(caption, png_bytes)`` pairs, shown in order."""
    table: Sequence[Sequence[str]] | None = None
    """Rows of cells, the first row being the header; cells are converted with ``str``."""


def mean_with_ci(mean: float, ci, digits: int = 2) -> str:
    """``"0.41 [0.00, 1.00]"``: a mean and its interval ``[low, high]`` for report tables."""
    return f"{mean:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def _esc(value: object) -> str:
    """HTML-escaped text of ``value`` (quotes included, so it is safe in attributes too)."""
    return html.escape(str(value), quote=True)


def _paragraphs(text: str) -> str:
    """``<p>`` elements for blank-line separated paragraphs; single newlines become ``<br>``."""
    blocks = [block.strip() for block in text.replace("\r\n", "\n").split("\n\n")]
    return "\n".join(f"<p>{_esc(b).replace(chr(10), '<br>')}</p>" for b in blocks if b)


def _image(caption: str, png: bytes) -> str:
    """A ``<figure>`` with the PNG (or animated GIF) embedded as a data URI."""
    is_bytes = isinstance(png, (bytes, bytearray))
    if not is_bytes or not (bytes(png).startswith(PNG_MAGIC) or bytes(png)[:6] in GIF_MAGIC):
        raise ValueError(f"image {caption!r} must be PNG or GIF bytes (starting with the PNG or GIF signature)")
    mime = "image/png" if bytes(png).startswith(PNG_MAGIC) else "image/gif"
    data = base64.b64encode(bytes(png)).decode("ascii")
    return (
        f'<figure><img src="data:{mime};base64,{data}" alt="{_esc(caption)}">'
        f"<figcaption>{_esc(caption)}</figcaption></figure>"
    )


def _table(rows: Sequence[Sequence[object]], css_class: str = "", header: bool = True) -> str:
    """A bordered table; the first row is the header when ``header``. Rows must all have the same length."""
    rows = [list(row) for row in rows]
    if not rows:
        return ""
    width = len(rows[0])
    bad = [i for i, row in enumerate(rows) if len(row) != width]
    if bad:
        row = bad[0]
        raise ValueError(f"table rows must all have {width} cells like the header; row {row} has {len(rows[row])}")
    parts = [f'<table class="{css_class}">' if css_class else "<table>"]
    for i, row in enumerate(rows):
        tag = "th" if header and i == 0 else "td"
        parts.append("<tr>" + "".join(f"<{tag}>{_esc(cell)}</{tag}>" for cell in row) + "</tr>")
    parts.append("</table>")
    return "\n".join(parts)


def _summary(rows: Sequence[tuple[str, str]]) -> str:
    """Key/value table: keys as row headers."""
    if not rows:
        return ""
    body = "\n".join(f"<tr><th>{_esc(key)}</th><td>{_esc(value)}</td></tr>" for key, value in rows)
    return f'<table class="summary">\n{body}\n</table>'


def _section(section: Section) -> str:
    """HTML for one section: heading, paragraphs, images, table."""
    parts = [f"<section>\n<h2>{_esc(section.heading)}</h2>", _paragraphs(section.text)]
    parts.extend(_image(caption, png) for caption, png in section.images)
    if section.table is not None:
        parts.append(_table(section.table))
    parts.append("</section>")
    return "\n".join(part for part in parts if part)


def render_html_report(*, title: str, summary_rows: Sequence[tuple[str, str]], sections: Sequence[Section]) -> str:
    """The report as an HTML string (see :func:`write_html_report`)."""
    body = "\n".join([f"<h1>{_esc(title)}</h1>", _summary(summary_rows), *(_section(s) for s in sections)])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)}</title>\n<style>{_CSS}</style>\n</head>\n"
        f"<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n"
    )


def write_html_report(
    path: str | os.PathLike,
    *,
    title: str,
    summary_rows: Sequence[tuple[str, str]],
    sections: Sequence[Section],
) -> Path:
    """Write one self-contained HTML report to ``path`` (atomically) and return the path.

    ``summary_rows`` are ``(name, value)`` pairs shown as a table under the title; each :class:`Section` adds a
    heading, text, captioned PNG images (embedded as ``data:image/png;base64`` URIs) and an optional table.
    All text is escaped; nothing outside the file is referenced. Raises ``ValueError`` for non-PNG images or
    ragged tables.
    """
    document = render_html_report(title=title, summary_rows=summary_rows, sections=sections)
    atomic_write_bytes(Path(path), document.encode("utf-8"))
    return Path(path)
