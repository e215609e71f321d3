"""Checks of the rendered book as a reader gets it, plus the Colab setup cell of every chapter.

The tests marked ``book`` inspect ``_build/html``: build it first (``make book``; ``make test``
builds it and runs them last). Run on their own without a build, they skip and say why. The
chapter pages are found by globbing ``_build/html/notebooks/*.html``, so new chapters are covered
without touching this file.

``test_colab_setup_cell`` needs no build and runs with the unit tests.
"""

from __future__ import annotations

import functools
import html
import http.server
import importlib.abc
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import types
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
REPO_URL = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"]["branch"]
COLAB_URL = CONFIG["launch_buttons"]["colab_url"].rstrip("/")

PROSE_PAGES = ["book/intro.html", "book/how_to_run.html", "book/references.html"]
CHAPTER_PAGES = sorted(p.relative_to(HTML).as_posix() for p in HTML.glob("notebooks/*.html"))
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# `make test` sets this, so a missing build or browser fails there instead of skipping.
STRICT = os.environ.get("CSPNET_BOOK_TESTS_STRICT") == "1"


def _missing(reason: str) -> None:
    if STRICT:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def built_html() -> Path:
    if not (HTML / "index.html").is_file():
        _missing("_build/html does not exist: run `make book` first (`make test` does both)")
    return HTML


# --------------------------------------------------------------------------- (a) offline


class _AssetRefs(HTMLParser):
    """Collects the URLs of scripts and stylesheets a page loads."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "link" and a.get("href"):
            rel = a.get("rel", "").lower().split()
            if a["href"].split("?")[0].endswith(".css") or {"stylesheet", "preload", "modulepreload"} & set(rel):
                self.urls.append(a["href"])


@pytest.mark.book
def test_pages_load_nothing_from_the_internet(built_html: Path) -> None:
    offenders = []
    pages = sorted(built_html.rglob("*.html"))
    assert pages, "no HTML pages in _build/html"
    for page in pages:
        parser = _AssetRefs()
        parser.feed(page.read_text(encoding="utf-8", errors="replace"))
        offenders += [
            f"{page.relative_to(built_html)}: {url}"
            for url in parser.urls
            if re.match(r"(?i)(https?:)?//", url)
        ]
    assert not offenders, "scripts/stylesheets from the network:\n" + "\n".join(offenders)


@pytest.mark.book
def test_every_notebook_has_a_page(built_html: Path) -> None:
    missing = [nb.name for nb in NOTEBOOKS if not (built_html / "notebooks" / f"{nb.stem}.html").is_file()]
    assert not missing, f"notebooks without a rendered page (add them to _toc.yml): {missing}"


# --------------------------------------------------------------------------- (b) in Chromium


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (stdlib signature)
        pass


@pytest.fixture(scope="session")
def base_url(built_html: Path):
    """The built book over HTTP on a free loopback port, as `make serve` would serve it."""
    handler = functools.partial(_QuietHandler, directory=str(built_html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        _missing("Chromium not found: `make test` installs it (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        # Debian's Chromium, no browser download. The flags keep it from calling home.
        b = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield b
        b.close()


# Runs in the page after `load`: waits for MathJax and the widget manager, then reports.
_INSPECT = r"""
async () => {
  const hasMath = document.querySelectorAll('div.math, span.math').length > 0;
  if (hasMath && window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  // Raw TeX delimiters left in text a reader sees (code listings do not count).
  const skip = 'pre, code, script, style, textarea, mjx-container';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const rawMath = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (n.parentElement && n.parentElement.closest(skip)) continue;
    if (/\\\(|\\\[|\$\$/.test(n.textContent)) rawMath.push(n.textContent.trim().slice(0, 80));
  }
  const imgs = Array.from(document.images);
  imgs.forEach((i) => { if (i.loading === 'lazy') i.loading = 'eager'; });
  await Promise.all(imgs.map((i) => i.complete ? null
    : new Promise((r) => { i.addEventListener('load', r); i.addEventListener('error', r); })));
  return {
    hasMath,
    mathJaxLoaded: !!(window.MathJax && MathJax.startup),
    typeset: document.querySelectorAll('mjx-container').length,
    rawMath,
    brokenImages: imgs.filter((i) => i.naturalWidth === 0).map((i) => i.currentSrc || i.src),
    widgetViews: document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]').length,
  };
}
"""

_WIDGETS_RENDERED = """
(n) => document.querySelectorAll('.widget-subarea').length >= n
"""


@pytest.mark.book
@pytest.mark.parametrize("path", PROSE_PAGES + CHAPTER_PAGES)
def test_page_in_chromium(path: str, base_url: str, browser) -> None:
    problems: list[str] = []
    page = browser.new_page()
    page.set_default_timeout(30_000)

    def only_the_book(route) -> None:
        url = route.request.url
        if url.startswith(base_url) or url.startswith(("data:", "blob:", "about:")):
            route.continue_()
        else:
            problems.append(f"request outside the book: {url}")
            route.abort()

    page.route("**/*", only_the_book)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))

    try:
        response = page.goto(base_url + path, wait_until="load")
        assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
        report = page.evaluate(_INSPECT)
        if report["widgetViews"]:
            page.wait_for_function(_WIDGETS_RENDERED, arg=report["widgetViews"])
        # MathJax loads its fonts and extensions lazily; on a busy machine that can take longer
        # than the default 30 s (seen once in CI on chapter 5, which passed alone in 6 s).
        page.wait_for_load_state("networkidle", timeout=120_000)
        colab_links = page.locator(f'a[href^="{COLAB_URL}/"]').evaluate_all("as => as.map(a => a.href)")
    finally:
        page.close()

    assert not problems, f"{path}:\n" + "\n".join(dict.fromkeys(problems))
    assert not report["brokenImages"], f"{path}: images that did not load: {report['brokenImages']}"
    if report["hasMath"]:
        assert report["mathJaxLoaded"], f"{path}: has math but MathJax did not load"
        assert report["typeset"] > 0, f"{path}: has math but MathJax typeset nothing"
        assert not report["rawMath"], f"{path}: raw TeX left on the page: {report['rawMath']}"
    if path.startswith("notebooks/"):
        repo = REPO_URL.removeprefix("https://github.com/")
        # the Colab edition of the chapter (scripts/colab_edition.py, book/_ext/colab_launch.py)
        expected = f"{COLAB_URL}/github/{repo}/blob/{BRANCH}/colab/{Path(path).stem}.ipynb"
        assert expected in colab_links, f"{path}: no Colab launch link {expected} (found {colab_links})"


# --------------------------------------------------------------------------- (c) Colab setup cell


def _first_code_cell(notebook: Path) -> str:
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            src = cell["source"]
            return "".join(src) if isinstance(src, list) else src
    pytest.fail(f"{notebook.name} has no code cell")


class _NoColab(importlib.abc.MetaPathFinder):
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "google.colab" or name.startswith("google.colab."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


def _commands_run_by(source: str, in_colab: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Execute a cell as IPython would, recording the shell commands and magics it would run."""
    from IPython.core.inputtransformer2 import TransformerManager

    commands: list[str] = []

    class Shell:  # stands in for get_ipython(): `%pip ...` and `!pip ...` land here
        def run_line_magic(self, name: str, line: str) -> None:
            commands.append(f"%{name} {line}")

        def run_cell_magic(self, name: str, line: str, cell: str) -> None:
            commands.append(f"%%{name} {line} {cell}")

        def system(self, cmd: str) -> None:
            commands.append(cmd)

        getoutput = system

    def record(args, *a, **k):
        commands.append(args if isinstance(args, str) else " ".join(map(str, args)))
        return subprocess.CompletedProcess(args, 0, b"", b"")

    for name in ("run", "call", "check_call", "check_output", "Popen"):
        monkeypatch.setattr(subprocess, name, record)
    monkeypatch.setattr(os, "system", record)
    if in_colab:
        google, colab = types.ModuleType("google"), types.ModuleType("google.colab")
        google.colab = colab  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", colab)
    else:  # neither imported nor importable, whichever way the cell checks
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
        monkeypatch.setattr(sys, "meta_path", [_NoColab(), *sys.meta_path])
    code = TransformerManager().transform_cell(source)
    shell = Shell()
    exec(compile(code, "<first code cell>", "exec"), {"__name__": "__main__", "get_ipython": lambda: shell})
    return commands


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_colab_setup_cell(notebook: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _first_code_cell(notebook)

    with monkeypatch.context() as m:
        assert _commands_run_by(source, in_colab=False, monkeypatch=m) == [], (
            f"{notebook.name}: the first code cell must do nothing outside Colab"
        )

    with monkeypatch.context() as m:
        commands = _commands_run_by(source, in_colab=True, monkeypatch=m)
    installs = [c for c in commands if re.search(r"\bpip\b.*\binstall\b", c)]
    assert len(installs) == 1, f"{notebook.name}: expected one pip install in Colab, got {commands}"
    targets = re.findall(r"git\+(\S+)", installs[0])
    assert len(targets) == 1, f"{notebook.name}: expected one git+ URL in {installs[0]!r}"
    url = re.sub(r"(@[\w./-]+)?(#.*)?$", "", targets[0].strip("'\"")).removesuffix(".git").rstrip("/")
    assert url == REPO_URL, f"{notebook.name}: installs from {url}, _config.yml says {REPO_URL}"


# --------------------------------------------------------------------------- (d) every reader
# Readers on a phone, on the keyboard, with a screen reader, in dark mode. One browser for the
# session (the `browser` fixture), one reused page per viewport, each page opened once per
# viewport: what several tests need from the desktop view is measured in one visit (`desktop`).

AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"  # pinned in package.json
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}
ALL_PAGES = PROSE_PAGES + CHAPTER_PAGES

# After `load`: MathJax's typesetting changes widths, so measure after it.
_SETTLE = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) await MathJax.startup.promise;
  await document.fonts.ready;
}
"""


def _context(browser, viewport: dict, mode: str = "light"):
    """A browser context whose pages start in `mode` (pydata-sphinx-theme reads localStorage)."""
    touch = viewport["width"] < 600
    ctx = browser.new_context(viewport=viewport, has_touch=touch, is_mobile=touch, color_scheme=mode)
    ctx.add_init_script(f"localStorage.setItem('mode', '{mode}');")
    ctx.set_default_timeout(30_000)
    return ctx


def _open(page, url: str) -> None:
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url}: HTTP {response and response.status}"
    page.evaluate(_SETTLE)


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_JS.is_file():
        _missing("node_modules/axe-core is missing: `make assets` installs it (npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


# axe-core on the page as it stands, all its default rules; critical and serious findings. The
# code listings' token colours are thousands of <span>s a chapter from one Pygments theme, and
# they doubled axe's time on a 2-core machine: past the first three listings of a page (which
# hold every kind of token), each listing is flattened to its plain text first, so its text
# colour and every other rule are still checked. Run last on a page: it changes the page.
_AXE = """
async () => {
  document.querySelectorAll('.highlight pre').forEach((pre, i) => { if (i >= 3) pre.textContent = pre.textContent; });
  const {violations} = await axe.run(document, {resultTypes: ['violations']});
  return violations
    .filter((v) => v.impact === 'critical' || v.impact === 'serious')
    .map((v) => `${v.impact} ${v.id} (${v.nodes.length}): ` + v.nodes.slice(0, 3)
      .map((n) => n.target.join(' ') + ' -- ' + (n.failureSummary || '').split('\\n')[1]).join('; '));
}
"""

# Images, and tables/figures against the content column, measured at the desktop width.
_MEASURE = r"""
() => {
  const article = document.querySelector('article.bd-article');
  const pad = getComputedStyle(article);
  const column = article.clientWidth - parseFloat(pad.paddingLeft) - parseFloat(pad.paddingRight);
  const images = Array.from(document.images).map((i) => ({
    src: i.getAttribute('src') || '', alt: i.getAttribute('alt')}));
  // The nearest ancestor inside the article that clips its content sideways.
  const scroller = (el) => {
    for (let a = el.parentElement; a && a !== article; a = a.parentElement) {
      if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(a).overflowX)) return a;
    }
    return null;
  };
  const wide = [];
  const items = [...article.querySelectorAll('table'),
                 ...article.querySelectorAll('.cell_output img, figure img')];
  for (const el of items) {
    // A cell tagged full-width (sphinx-book-theme) may use the margin too: its column is wider.
    const full = el.closest('.tag_full-width, .full-width');
    const limit = full ? full.getBoundingClientRect().width : column;
    const width = Math.max(el.getBoundingClientRect().width, el.scrollWidth);
    if (width <= limit + 1) continue;
    const what = `${el.tagName.toLowerCase()} ${Math.round(width)} px in a ${Math.round(limit)} px column`
      + (el.closest('section') ? ` (section "${el.closest('section').id}")` : '');
    const box = scroller(el);
    const problems = [];
    if (!box || !['auto', 'scroll'].includes(getComputedStyle(box).overflowX)) {
      problems.push('cut off or overflowing the column, not in a scrolling region');
    } else {
      if (box.getBoundingClientRect().width > limit + 1) problems.push('its scrolling region is wider than the column');
      if (box.tabIndex < 0) problems.push('its scrolling region cannot be reached by keyboard (no tabindex=0)');
      if (!box.getAttribute('aria-label') && !box.getAttribute('aria-labelledby')) problems.push('its scrolling region has no name');
      if (el.tagName === 'TABLE') {
        // Scroll to the far right: the first column (the row names) must still be in view.
        const before = box.scrollLeft;
        box.scrollLeft = box.scrollWidth;
        const edge = box.getBoundingClientRect().left;
        const hidden = Array.from(el.rows).map((r) => r.cells[0]).filter(Boolean)
          .filter((c) => c.getBoundingClientRect().left < edge - 1);
        box.scrollLeft = before;
        if (hidden.length) problems.push(`its first column scrolls out of view (${hidden.length} rows)`);
      }
    }
    if (problems.length) wide.push(`${what}: ${problems.join('; ')}`);
  }
  return {images, wide};
}
"""


# Code blocks whose lines do not fit: every dropdown and hidden cell opened for the measurement,
# then closed again (the axe audit that follows sees the page as a reader first does).
_CODE_CUT = r"""
() => {
  const article = document.querySelector('article.bd-article');
  const closed = [...article.querySelectorAll('details:not([open])')];
  closed.forEach((d) => { d.open = true; });
  const cut = [];
  for (const pre of article.querySelectorAll('pre')) {
    if (pre.scrollWidth <= pre.clientWidth + 1) continue;
    const longest = pre.textContent.split('\n').reduce((a, b) => (b.length > a.length ? b : a), '');
    const section = pre.closest('section');
    cut.push(`${pre.scrollWidth - pre.clientWidth} px cut off in section "${section ? section.id : ''}": `
             + longest.trim().slice(0, 70));
  }
  closed.forEach((d) => { d.open = false; });
  return cut;
}
"""


@pytest.fixture(scope="session")
def desktop(base_url: str, browser, axe_source: str):
    """`desktop(path)`: axe findings, images and too-wide items of a page at 1366x900, light
    mode. Each page is opened once per session, whichever tests ask."""
    ctx = _context(browser, DESKTOP)
    page = ctx.new_page()
    cache: dict[str, dict] = {}

    def audit(path: str) -> dict:
        if path not in cache:
            _open(page, base_url + path)
            found = page.evaluate(_MEASURE)
            found["cut_code"] = page.evaluate(_CODE_CUT)
            page.add_script_tag(content=axe_source)
            found["axe"] = page.evaluate(_AXE)
            cache[path] = found
        return cache[path]

    audit.page = page  # type: ignore[attr-defined]  # for tests that drive the desktop view
    yield audit
    ctx.close()


@pytest.fixture(scope="session")
def phone_page(browser):
    """One page at 390x844 with touch. The drawers need neither maths nor figures: not loading
    them keeps a busy 2-core machine free for the taps."""
    ctx = _context(browser, PHONE)
    ctx.route(re.compile(r"/(vendor/mathjax|_images)/"), lambda route: route.abort())
    yield ctx.new_page()
    ctx.close()


def _dialog_state(page, dialog_id: str) -> dict:
    return page.evaluate(
        """(id) => { const d = document.getElementById(id);
          return {open: !!(d && d.open),
                  links: d ? Array.from(d.querySelectorAll('a[href]')).filter((a) => a.checkVisibility()).length : 0}; }""",
        dialog_id,
    )


@pytest.mark.book
@pytest.mark.parametrize("path", ALL_PAGES)
def test_phone_navigation_opens_and_closes_by_tap(path: str, base_url: str, phone_page) -> None:
    """At 390x844 the chapter list (primary) and the page contents (secondary) open by a tap on
    their buttons and close by a tap beside the drawer. Held: pydata-sphinx-theme 0.17's own
    header put hidden copies of these buttons first in the page, and the scripts bound those."""
    page = phone_page
    # The theme binds its buttons on DOMContentLoaded.
    response = page.goto(base_url + path, wait_until="domcontentloaded")
    assert response is not None and response.ok, f"{path}: HTTP {response and response.status}"
    w, h = PHONE["width"], PHONE["height"]
    drawers = [(".bd-header-article .primary-toggle", "pst-primary-sidebar-modal", (w - 8, h // 2))]
    has_sections = page.locator("article.bd-article section section").count() > 0
    if page.locator(".bd-header-article .secondary-toggle").count():
        drawers.append((".bd-header-article .secondary-toggle", "pst-secondary-sidebar-modal", (8, h // 2)))
    else:
        assert not has_sections, f"{path}: has sections but no page-contents button on a phone"
    for button, dialog, beside in drawers:
        page.locator(button).tap()
        opened = _dialog_state(page, dialog)
        assert opened["open"], f"{path}: tapping {button} did not open #{dialog}"
        assert opened["links"] > 0, f"{path}: #{dialog} opened with no visible links"
        page.touchscreen.tap(*beside)
        page.wait_for_function("(id) => !document.getElementById(id).open", arg=dialog, timeout=5_000)


@pytest.mark.book
def test_desktop_sidebar_button_hides_and_shows_the_chapter_list(base_url: str, desktop) -> None:
    """At 1366x900 the article header's button folds the chapter list away and back."""
    page = desktop.page
    page.goto(base_url + PROSE_PAGES[0], wait_until="domcontentloaded")  # buttons bound by then
    shown = "() => getComputedStyle(document.getElementById('pst-primary-sidebar')).visibility === 'visible'"
    assert page.evaluate(shown)
    page.locator(".bd-header-article .primary-toggle").click()
    page.wait_for_function(f"!({shown})()", timeout=5_000)
    page.locator(".bd-header-article .primary-toggle").click()
    page.wait_for_function(shown, timeout=5_000)
    # No second, near-empty header strip with its own search box above the article.
    assert page.locator("#pst-header .search-button-field").count() == 0


@pytest.mark.book
@pytest.mark.parametrize("path", ALL_PAGES)
def test_axe_finds_no_critical_or_serious_violations(path: str, desktop) -> None:
    found = desktop(path)["axe"]
    assert not found, f"{path} (light mode), axe-core:\n" + "\n".join(found)


@pytest.mark.book
def test_axe_in_dark_mode(base_url: str, browser, axe_source: str) -> None:
    """Dark mode on the chapter with the most kinds of content (explorer, tables, maths, code)."""
    path = next((p for p in CHAPTER_PAGES if Path(p).stem.startswith("05_")), (CHAPTER_PAGES or PROSE_PAGES)[0])
    ctx = _context(browser, DESKTOP, "dark")
    page = ctx.new_page()
    try:
        _open(page, base_url + path)
        assert page.evaluate("document.documentElement.dataset.theme") == "dark"
        page.add_script_tag(content=axe_source)
        found = page.evaluate(_AXE)
    finally:
        ctx.close()
    assert not found, f"{path} (dark mode), axe-core:\n" + "\n".join(found)


_NOT_A_DESCRIPTION = re.compile(
    r"""(?ix) ^\s*$                                               # empty
    | \.(png|jpe?g|gif|svg|webp)\b                              # a file name
    | ^(\.{0,2}/|_images/)                                        # a path
    | ^(image|figure|plot|picture|graph|chart|output)\s*\d*$     # a placeholder
    """
)


@pytest.mark.book
@pytest.mark.parametrize("path", ALL_PAGES)
def test_images_have_meaningful_alt_text(path: str, desktop) -> None:
    """Every <img> says what it shows: not empty, not its file name or path, not "image"."""
    bad = [
        f"{img['src']}: alt={img['alt']!r}"
        for img in desktop(path)["images"]
        if img["alt"] is None or _NOT_A_DESCRIPTION.search(img["alt"])
    ]
    assert not bad, f"{path}: images without a meaningful alt text:\n" + "\n".join(bad)


@pytest.mark.book
@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_tables_and_figures_fit_the_column(path: str, desktop) -> None:
    """At 1366x900 no table or figure is wider than the content column, unless it scrolls on
    purpose: in a region of its own that the keyboard can reach, first column kept in view."""
    wide = desktop(path)["wide"]
    assert not wide, f"{path}: wider than the column:\n" + "\n".join(wide)


@pytest.mark.book
@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_no_line_of_code_is_cut_at_the_desktop_width(path: str, desktop) -> None:
    """At 1366x900 every line of code and of printed output fits its box: in the cells, in the
    hidden ones and in the exercise solutions. A reader never scrolls sideways to finish one."""
    cut = desktop(path)["cut_code"]
    assert not cut, f"{path}: lines of code wider than their box:\n" + "\n".join(cut)


# --------------------------------------------------------------------------- (e) no browser needed


@pytest.mark.book
def test_every_page_has_a_favicon(built_html: Path) -> None:
    missing = []
    for page in sorted(built_html.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        if page.parent.name == "_static" or 'http-equiv="Refresh"' in text:
            continue  # theme template snippets; the one-line redirect index.html
        m = re.search(r'<link rel="(?:shortcut )?icon"[^>]*href="([^"]+)"', text)
        if not m or not (page.parent / m.group(1)).is_file():
            missing.append(page.relative_to(built_html).as_posix())
    assert not missing, f"pages without a favicon (the browser asks for /favicon.ico: 404): {missing}"


@pytest.mark.book
def test_bibliography_labels_read_like_the_citations(built_html: Path) -> None:
    """A citation "Wang et al., 2020" links to the entry labelled "Wang et al., 2020"."""
    refs = built_html / "book" / "references.html"
    text = refs.read_text(encoding="utf-8")
    labels = dict(re.findall(
        r'<div class="citation" id="([^"]+)"[^>]*>\s*<span class="label"><span class="fn-bracket">\[</span>'
        r"(.*?)<span", text))
    assert labels, "no bibliography entries on book/references.html"
    strip = lambda s: html.unescape(re.sub(r"<[^>]+>", "", s)).strip()  # noqa: E731
    mismatches, cited = [], 0
    for page in sorted(built_html.rglob("*.html")):
        for anchor, shown in re.findall(
            r'<a class="reference internal" href="[^"]*references\.html#([^"]+)"[^>]*>(.*?)</a>',
            page.read_text(encoding="utf-8"), flags=re.S):
            if anchor in labels:
                cited += 1
                if strip(shown) != strip(labels[anchor]):
                    mismatches.append(f"{page.relative_to(built_html)}: cites {strip(shown)!r}, list says {labels[anchor]!r}")
    assert cited, "no citations found in the pages"
    assert not mismatches, "\n".join(dict.fromkeys(mismatches))
