"""Checks of the rendered book as a reader gets it, plus the Colab setup cell of every chapter.

The tests marked ``book`` inspect ``_build/html``: build it first (``make book``; ``make test``
builds it and runs them last). Run on their own without a build, they skip and say why. The
chapter pages are found by globbing ``_build/html/notebooks/*.html``, so new chapters are covered
without touching this file.

``test_colab_setup_cell`` needs no build and runs with the unit tests.
"""

from __future__ import annotations

import functools
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
        expected = f"{COLAB_URL}/github/{repo}/blob/{BRANCH}/{Path(path).with_suffix('.ipynb')}"
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
