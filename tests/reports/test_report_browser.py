"""Report pages opened in a real headless chromium: no console or page errors, every image decodes, a title.

The checker itself is tested first on planted pages (one good, some bad), then every preset's tiny-run report goes
through it. Skipped, with the reason, when Playwright or a chromium is missing (``make test`` tries to install both).
"""

from pathlib import Path

import pytest
from matplotlib.figure import Figure

from browser_check import browser_skip_reason, check_report_page, open_browser
from mesaopt.reports.html import Section, write_html_report
from mesaopt.reports.plots import figure_png_bytes

pytestmark = pytest.mark.skipif(browser_skip_reason() is not None, reason=browser_skip_reason() or "")

BAD_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>bad report</title></head>
<body><img alt="broken plot" src="data:image/png;base64,AAAA"><script>console.error("boom")</script></body></html>
"""


@pytest.fixture(scope="module")
def check_page():
    """``check_page(path) -> problems``, all pages of this module in one browser."""
    with open_browser() as check:
        yield check


def _good_report(path: Path) -> Path:
    """A report written by the real writer: a title and one matplotlib PNG."""
    fig = Figure(figsize=(2, 1.5))
    fig.add_subplot().plot([0, 1, 2], [1, 0, 2])
    section = Section(heading="Curve", text="One plot.", images=[("a curve", figure_png_bytes(fig, dpi=50))])
    return write_html_report(path, title="planted good report", summary_rows=[("seeds", "1")], sections=[section])


def test_the_one_shot_checker_agrees(tmp_path):  # first, so it starts its own browser (inside one it reuses that)
    assert check_report_page(_good_report(tmp_path / "good.html")) == []
    problems = check_report_page(_write(tmp_path / "bad.html", BAD_PAGE))
    assert len(problems) == 2, problems


def test_a_good_report_has_no_problems(tmp_path, check_page):
    assert check_page(_good_report(tmp_path / "good.html")) == []


def test_a_broken_image_and_a_console_error_are_both_reported(tmp_path, check_page):
    problems = check_page(_write(tmp_path / "bad.html", BAD_PAGE))
    assert len(problems) == 2, problems
    assert any(p.startswith("console error: boom") for p in problems), problems
    assert any("broken plot" in p and "did not decode" in p for p in problems), problems


def test_an_uncaught_error_no_images_and_an_empty_title_are_reported(tmp_path, check_page):
    page = '<html><head><title> </title></head><body><script>throw new Error("kaboom")</script></body></html>'
    problems = check_page(_write(tmp_path / "empty.html", page))
    assert sorted(problems) == ["page error: kaboom", "the page has no images", "the page's <title> is empty"]


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path, check_page):
    assert check_page(tmp_path / "absent.html") == [f"{(tmp_path / 'absent.html').resolve()} does not exist"]


def test_every_preset_report_opens_cleanly(tiny_reports, check_page):
    assert tiny_reports, "no tiny runs to check"
    problems = {name: check_page(Path(run_dir) / "report.html") for name, run_dir in sorted(tiny_reports.items())}
    bad = {name: found for name, found in problems.items() if found}
    assert not bad, "report pages with problems:\n" + "\n".join(
        f"  {name}: {line}" for name, found in bad.items() for line in found
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
