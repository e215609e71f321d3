"""The kernel-free channel explorer in the built book, driven in headless Chromium.

On every rendered page with a ``<div class="cspnet-explorer">``, a reader's moves are replayed
with the keyboard and the mouse (growth rate, a stage's repeats, the fusion mode, the image size,
the table switch) and what the page then shows (totals, ratios, the plan table, the plotted
channels, the error sentence) is compared with Python's ``count_params``, ``count_flops`` and
``channel_plan`` for the settings the page's controls show. Needs ``_build/html`` (``make book``);
skips without it, unless ``make test`` runs it (then it fails).

The served book (``base_url``) comes from test_book_pages.py. Chromium does not: that module
keeps a session-wide Playwright in the main thread, and a second sync Playwright there fails
("Sync API inside the asyncio loop"), so this module drives its own from a worker thread.
"""

from __future__ import annotations

import itertools
import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest

from cspnet_lib.plan import channel_plan, count_flops, count_params
from cspnet_lib.widgets import SLIDERS
# The built book over HTTP, shared with the page checks (and their skip-or-fail rule).
from test_book_pages import HTML, _missing, base_url, built_html  # noqa: F401

pytestmark = pytest.mark.book

CSP_ONLY = ("channel_pooling", "split_ratio", "fusion")
NAMES = {"densenet": "DenseNet", "cspdensenet": "CSPDenseNet"}
EXPLORER_PAGES = sorted(
    p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
    if 'class="cspnet-explorer"' in p.read_text(encoding="utf-8", errors="replace")
) if HTML.is_dir() else []


# ------------------------------------------------------------------ what Python says


def configs(page_settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    dense = {k: v for k, v in page_settings.items() if k not in CSP_ONLY}
    return {"densenet": dense, "cspdensenet": page_settings}


def expected_table(kind: str, config: dict[str, Any]) -> list[list[str]]:
    """[stage, step, channels, size] as text per table row; runs of bottlenecks folded."""
    out = []
    rows = channel_plan(kind, **config)
    for (stage, step), group in itertools.groupby(rows, key=lambda r: (r.stage, r.step)):
        group = list(group)
        stage_text = "" if stage is None else str(stage)
        size = f"{group[0].size}×{group[0].size}"
        if step == "bottleneck":
            n = len(group)
            channels = f"{group[0].channels} … {group[-1].channels}" if n > 1 else str(group[0].channels)
            out.append([stage_text, f"{n} bottleneck{'s' if n > 1 else ''}", channels, size])
        else:
            out += [[stage_text, r.step, str(r.channels), f"{r.size}×{r.size}"] for r in group]
    return out


def library_error(kind: str, config: dict[str, Any]) -> str | None:
    try:
        channel_plan(kind, **config)
    except ValueError as error:
        return str(error)
    return None


# ------------------------------------------------------------------ what the page shows

_READ = r"""
(root) => {
  const value = (name) => root.querySelector(`[name="${name}"]`).value;
  const error = root.querySelector('.cspx-error');
  const text = (sel) => Array.from(root.querySelectorAll(sel)).map((e) => e.textContent.trim());
  return {
    settings: {
      growth_rate: Number(value('growth_rate')), image_size: Number(value('image_size')),
      compression: Number(value('compression')), channel_pooling: Number(value('channel_pooling')),
      split_ratio: Number(value('split_ratio')), fusion: value('fusion'),
      repeats: [0, 1, 2, 3].map((s) => Number(value(`repeats${s}`))),
    },
    outputs: Object.fromEntries(Array.from(root.querySelectorAll('label')).filter((l) => l.querySelector('output'))
      .map((l) => [l.querySelector('input').name, l.querySelector('output').textContent])),
    error: error.hidden ? null : error.querySelector('.cspx-message').textContent,
    errorTitle: error.hidden ? null : error.querySelector('strong').textContent,
    totals: Object.fromEntries(Array.from(root.querySelectorAll('[data-total]'))
      .map((td) => [td.dataset.total, td.textContent])),
    ratios: Object.fromEntries(Array.from(root.querySelectorAll('[data-ratio]'))
      .map((td) => [td.dataset.ratio, td.textContent])),
    caption: text('table.cspx-plan caption')[0] || null,
    table: Array.from(root.querySelectorAll('table.cspx-plan tbody tr'))
      .map((tr) => Array.from(tr.cells).slice(0, 4).map((td) => td.textContent)),
    pressed: text('.cspx-toggle[aria-pressed="true"]'),
    plotted: Object.fromEntries(['densenet', 'cspdensenet'].map((k) => [k,
      Array.from(root.querySelectorAll(`svg .cspx-series.cspx-${k} circle title`))
        .map((t) => Number(t.textContent.match(/: (\d+) channels/)[1]))])),
    visible: ['.cspx-totals', '.cspx-figure', '.cspx-table-wrap']
      .map((sel) => !root.querySelector(sel).hidden),
    ranges: Object.fromEntries(Array.from(root.querySelectorAll('input[type=range]'))
      .map((i) => [i.name, [Number(i.min), Number(i.max), Number(i.step)]])),
  };
}
"""


def read(root) -> dict[str, Any]:
    state = root.evaluate(_READ)
    s = state["settings"]
    for name in ("compression", "channel_pooling", "split_ratio"):
        s[name] = round(s[name], 2)
    s["repeats"] = tuple(s["repeats"])
    return state


def check_shows_python(state: dict[str, Any], extra: dict[str, Any], where: str) -> None:
    """Everything on screen equals what Python computes for the settings on screen."""
    settings = {**extra, **state["settings"]}
    cfg = configs(settings)
    for name in ("growth_rate", "image_size"):
        assert state["outputs"][name] == str(settings[name]), where
    # The explorer checks the network its table shows first, and reports the first that fails.
    table_kind = next(k for k, v in NAMES.items() if state["pressed"] == [v])
    errors = {k: library_error(k, cfg[k]) for k in (table_kind, *(n for n in NAMES if n != table_kind))}
    failing = next((k for k, e in errors.items() if e), None)
    if failing:
        assert state["error"] == errors[failing], where
        assert state["errorTitle"].startswith(NAMES[failing]), where
        assert state["visible"] == [False, False, False], where
        return
    assert state["error"] is None and state["visible"] == [True, True, True], where
    numbers = {}
    for name in NAMES:
        numbers[name] = (count_params(name, **cfg[name]), count_flops(name, **cfg[name]))
        assert int(state["totals"][f"{name}-params"].replace(",", "")) == numbers[name][0], where
        assert int(state["totals"][f"{name}-flops"].replace(",", "")) == numbers[name][1], where
        plotted = [r.channels for r in channel_plan(name, **cfg[name]) if r.step not in ("pool", "fc")]
        assert state["plotted"][name] == plotted, where
    for i, key in enumerate(("params", "flops")):
        ratio = numbers["cspdensenet"][i] / numbers["densenet"][i]
        assert abs(float(state["ratios"][key].rstrip(" ×")) - ratio) <= 5e-4, where
    assert state["caption"] == f"Every step of {NAMES[table_kind]}", where
    assert state["table"] == expected_table(table_kind, cfg[table_kind]), where


# ------------------------------------------------------------------ the tests


@pytest.fixture(scope="module")
def in_chromium(built_html: Path) -> Callable:  # noqa: F811
    """``in_chromium(fn, *args)`` runs ``fn(browser, *args)`` in the thread that owns Chromium."""
    sync_api = pytest.importorskip("playwright.sync_api")
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        _missing("Chromium not found: `make test` installs it (apt-get install -y chromium)")
    pool, held = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chromium"), {}

    def start() -> None:
        held["playwright"] = sync_api.sync_playwright().start()
        held["browser"] = held["playwright"].chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])

    def stop() -> None:
        held["browser"].close()
        held["playwright"].stop()

    pool.submit(start).result()
    try:
        yield lambda fn, *args: pool.submit(fn, held["browser"], *args).result()
    finally:
        pool.submit(stop).result()
        pool.shutdown()


def press(root, name: str, key: str, times: int = 1) -> None:
    control = root.locator(f'input[name="{name}"]')
    control.focus()
    for _ in range(times):
        control.press(key)


def replay_reader(browser, base: str, path: str) -> None:
    """Load ``path``, move the controls of every explorer on it, check each state against Python."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(30_000)
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught error: {e}"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))

    def only_the_book(route) -> None:
        if route.request.url.startswith((base, "data:", "blob:", "about:")):
            route.continue_()
        else:
            problems.append(f"request outside the book: {route.request.url}")
            route.abort()

    page.route("**/*", only_the_book)
    try:
        page.goto(base + path, wait_until="load")
        roots = page.locator("div.cspnet-explorer")
        n = roots.count()
        assert n >= 1, path
        page.wait_for_function("n => document.querySelectorAll('.cspnet-explorer.cspx-ready').length === n", arg=n)
        for i in range(n):
            replay_one(roots.nth(i), f"{path}, explorer {i}")
    finally:
        page.close()
    assert not problems, f"{path}:\n" + "\n".join(dict.fromkeys(problems))


def replay_one(root, where: str) -> None:
    kind = root.get_attribute("data-kind") or "cspdensenet"
    extra = json.loads(root.get_attribute("data-settings") or "{}")
    root.scroll_into_view_if_needed()
    where += f" ({kind})"

    state = read(root)
    expected_ranges = {name: list(SLIDERS["repeats" if name.startswith("repeats") else name])
                       for name in state["ranges"]}
    assert state["ranges"] == expected_ranges, where  # the same sliders as the notebooks'
    check_shows_python(state, extra, where + ", as loaded")

    growth = state["settings"]["growth_rate"]
    press(root, "growth_rate", "ArrowRight", 3)  # the growth-rate slider, by keyboard
    state = read(root)
    assert state["settings"]["growth_rate"] == growth + 3, where
    check_shows_python(state, extra, where + ", growth rate +3")

    press(root, "repeats1", "ArrowLeft", 2)  # a stage's repeats
    root.locator('select[name="fusion"]').select_option("last")  # the fusion mode
    state = read(root)
    assert state["settings"]["fusion"] == "last", where
    check_shows_python(state, extra, where + ", repeats[1] -2, fusion last")

    other = next(k for k in NAMES if k != kind)  # the table switch
    root.locator(f'.cspx-toggle[data-table="{other}"]').click()
    state = read(root)
    assert state["pressed"] == [NAMES[other]], where
    check_shows_python(state, extra, where + f", table of {other}")

    press(root, "image_size", "Home")  # 8 x 8: too small, the library's sentence
    state = read(root)
    assert state["error"] and "too small" in state["error"], where
    check_shows_python(state, extra, where + ", image 8x8")
    press(root, "image_size", "End")  # and the sliders still work
    check_shows_python(read(root), extra, where + ", image 512x512")

    root.locator(".cspx-reset").click()
    check_shows_python(read(root), extra, where + ", after reset")


NO_PAGES = ("no built page embeds <div class=\"cspnet-explorer\"> yet" if HTML.is_dir()
            else "_build/html does not exist: run `make book` first (`make test` does both)")


@pytest.mark.parametrize("path", EXPLORER_PAGES or [pytest.param("", marks=pytest.mark.skip(reason=NO_PAGES))])
def test_explorer_follows_the_reader(path: str, base_url: str, in_chromium) -> None:  # noqa: F811
    in_chromium(replay_reader, base_url, path)


def test_chapters_embed_the_explorer(built_html: Path) -> None:  # noqa: F811
    """Chapters 1 (DenseNet) and 5 (build CSPDenseNet) carry the live explorer, once built."""
    chapters = sorted(built_html.glob("notebooks/0[15]_*.html"))
    if not chapters:
        pytest.skip("chapters 1 and 5 are not in the build yet")
    missing = [p.name for p in chapters
               if 'class="cspnet-explorer"' not in p.read_text(encoding="utf-8", errors="replace")]
    assert not missing, f"no <div class=\"cspnet-explorer\" data-kind=...> on {missing}"
