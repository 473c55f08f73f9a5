"""Open HTML report pages in a real (headless) chromium and list what is wrong with them.

Playwright drives a chromium that is already on the machine (Debian's ``chromium`` package, or the binary named by
``MESAOPT_CHROMIUM``) through ``executable_path``; Playwright's own browser download (``playwright install``) is never
used. Playwright is imported lazily, so this module imports fine without it; ask :func:`browser_skip_reason` first.

A page is fine when :func:`check_report_page` returns an empty list: no console errors, no uncaught page errors, a
non-empty ``<title>``, at least one image, and every ``<img>`` decoded with a non-zero natural width.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

CHROMIUM_ENV = "MESAOPT_CHROMIUM"
CHROMIUM_PATHS = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]  # root in a container, no GPU, tiny /dev/shm
PAGE_TIMEOUT_MS = 30_000

# Runs in the page: decodes every <img>; returns the title, the image count and one line per broken image.
_INSPECT_JS = """
async () => {
  const problems = [];
  const images = Array.from(document.images);
  for (const [i, img] of images.entries()) {
    const name = `image ${i + 1} (alt=${JSON.stringify(img.alt)}, src=${img.src.slice(0, 40)}...)`;
    try {
      await img.decode();
    } catch (err) {
      problems.push(`${name} did not decode: ${err}`);
      continue;
    }
    if (img.naturalWidth === 0) problems.push(`${name} has naturalWidth 0`);
  }
  return {title: document.title, nImages: images.length, problems};
}
"""

PageCheck = Callable[[str | os.PathLike], list[str]]


def find_chromium() -> str | None:
    """Path of a chromium binary: ``$MESAOPT_CHROMIUM`` if set, else a standard path, else one on ``PATH``."""
    override = os.environ.get(CHROMIUM_ENV)
    if override:
        return override if os.access(override, os.X_OK) else None
    for path in CHROMIUM_PATHS:
        if os.access(path, os.X_OK):
            return path
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def browser_skip_reason() -> str | None:
    """``None`` when Playwright imports and a chromium is found; else why the browser checks cannot run."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -e '.[browser]')"
    if find_chromium() is None:
        override = os.environ.get(CHROMIUM_ENV)
        if override:
            return f"{CHROMIUM_ENV}={override} is not an executable file"
        return f"no chromium found (apt-get install chromium, or set {CHROMIUM_ENV})"
    return None


_open: list[PageCheck] = []  # the browser open_browser holds now, if any (one per process: Playwright's sync API)


@contextlib.contextmanager
def open_browser() -> Iterator[PageCheck]:
    """One headless chromium for many pages: yields ``check(path) -> problems`` (see :func:`check_report_page`).

    Re-entrant: inside an open browser it yields the same one (Playwright's sync API cannot start twice at once).
    """
    if _open:
        yield _open[-1]
        return
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        raise RuntimeError(browser_skip_reason() or "no chromium found")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        _open.append(lambda path: _check_page(browser, path))
        try:
            yield _open[-1]
        finally:
            _open.pop()
            browser.close()


def check_report_page(path: str | os.PathLike) -> list[str]:
    """The problems of the page at ``path`` (an empty list when it is fine), in the open browser or a fresh one."""
    with open_browser() as check:
        return check(path)


def _check_page(browser, path: str | os.PathLike) -> list[str]:
    """Load ``file://path`` in a new browser context of ``browser`` and collect its problems."""
    file = Path(path).resolve()
    if not file.is_file():
        return [f"{file} does not exist"]
    problems: list[str] = []
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.on("console", lambda msg: problems.append(_console_problem(msg)) if msg.type == "error" else None)
        page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
        page.goto(file.as_uri(), wait_until="load")
        found = page.evaluate(_INSPECT_JS)
    finally:
        context.close()
    problems.extend(found["problems"])
    if found["nImages"] == 0:
        problems.append("the page has no images")
    if not found["title"].strip():
        problems.append("the page's <title> is empty")
    return problems


def _console_problem(msg) -> str:
    """One line for a console error message, with its source location when chromium gives one."""
    location = msg.location or {}
    where = f" ({location.get('url', '')[:60]}:{location.get('lineNumber')})" if location.get("url") else ""
    return f"console error: {msg.text}{where}"
