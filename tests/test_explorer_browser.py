"""The kernel-free channel explorer in the built book, driven in headless Chromium.

On every rendered page with a ``<div class="cspnet-explorer">``, a reader's moves are replayed
with the keyboard and the mouse (growth rate, a stage's repeats, the fusion mode, the image size,
the table switch) and what the page then shows (totals, ratios, the plan table, the plotted
channels, the error sentence) is compared with Python's ``count_params``, ``count_flops`` and
``channel_plan`` for the settings the page's controls show. In the error state the explorer's
hints must name its own sliders, each suggested move must really fix the settings, and Reset must
stay on screen and bring the chapter's settings back. The layout is checked at a desktop and a
phone width (usable sliders, a tidy stage grid, nothing wider than the explorer's box, plot text
at a readable size, the "channels" label clear of the ticks), and every text colour against its
background (WCAG AA) in light and dark mode. Needs ``_build/html`` (``make book``); skips
without it, unless ``make test`` runs it (then it fails).

The served book (``base_url``) comes from test_book_pages.py. Chromium does not: that module
keeps a session-wide Playwright in the main thread, and a second sync Playwright there fails
("Sync API inside the asyncio loop"), so this module drives its own from a worker thread.
"""

from __future__ import annotations

import itertools
import json
import re
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


def diagnosis(message: str) -> str:
    """The library's sentence without its advice (which names Python settings): "x; advice" -> "x"."""
    return message.rpartition("; ")[0] or message


# Names the explorer has no control for: a hint that says them sends the reader nowhere.
NOT_CONTROLS = ("len(repeats)", "fewer stages", "stem_channels", "image_size", "growth_rate",
                "channel_pooling", "split_ratio")


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
    errorText: error.hidden ? null : error.textContent,
    hints: Array.from(error.querySelectorAll('.cspx-hint li')).map((li) => ({
      name: li.dataset.name, value: Number(li.dataset.value), label: li.querySelector('strong').textContent,
      text: li.textContent})),
    labels: Array.from(root.querySelectorAll('.cspx-label')).map((l) => [l.parentElement
      .querySelector('input, select').name, l.textContent]),
    resetShown: (() => { const r = root.querySelector('.cspx-reset').getBoundingClientRect();
      return r.width > 0 && r.height > 0; })(),
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
    assert state["resetShown"], f"{where}: Reset is not on screen"
    if failing:
        # Python's diagnosis, word for word; the advice is the explorer's own (check_hints).
        assert state["error"] == diagnosis(errors[failing]), where
        assert state["errorTitle"].startswith(NAMES[failing]), where
        assert state["visible"] == [False, False, False], where
        advice = state["errorText"].replace(state["error"], "")
        assert not [w for w in NOT_CONTROLS if w in advice], f"{where}: the hint names {advice!r}"
        assert state["hints"] or "press Reset" in advice, where
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
    loaded = state["settings"]
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
    # The hint names the image-size slider, and the size it names is the smallest that works.
    sizes = [h for h in state["hints"] if h["name"] == "image_size"]
    assert sizes and sizes[0]["label"] == "image size", f"{where}: {state['hints']}"
    check_hints(root, state, extra, where + ", image 8x8")
    press(root, "image_size", "End")  # and the sliders still work
    check_shows_python(read(root), extra, where + ", image 512x512")

    root.locator(".cspx-reset").click()
    check_shows_python(read(root), extra, where + ", after reset")

    # Reset from the error state itself: the reader clicks it, the chapter's settings come back.
    press(root, "image_size", "Home")
    assert read(root)["error"], where
    root.locator(".cspx-reset").click()  # a real click: fails if the button is hidden or covered
    state = read(root)
    assert state["settings"] == loaded and state["error"] is None, f"{where}: Reset in the error state"
    assert state["pressed"] == [NAMES[kind]] and state["table"], where
    check_shows_python(state, extra, where + ", reset from the error state")

    # Settings that leave a stage with 0 channels: the hints name sliders, and each move fixes it.
    for name in ("growth_rate", "compression", "repeats0", "repeats1", "repeats2", "repeats3"):
        press(root, name, "Home")
    state = read(root)
    assert state["error"] and "0 channels" in state["error"], where
    check_shows_python(state, extra, where + ", 0 channels")
    assert state["hints"], f"{where}: no move suggested for {state['error']!r}"
    check_hints(root, state, extra, where + ", 0 channels")
    root.locator(".cspx-reset").click()
    assert read(root)["settings"] == loaded, where


def set_control(root, name: str, value: Any) -> None:
    """Move a slider (or the select) to ``value`` as the reader's input does."""
    root.evaluate("""(root, [name, value]) => {
      const input = root.querySelector(`[name="${name}"]`);
      input.value = String(value);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }""", [name, value])


def check_hints(root, state: dict[str, Any], extra: dict[str, Any], where: str) -> None:
    """Each move the error box suggests names a slider on the panel, by its label, and fixes it."""
    labels = dict(state["labels"])
    before = {name: root.locator(f'[name="{name}"]').input_value() for name in labels}
    for hint in state["hints"]:
        assert labels.get(hint["name"]) == hint["label"], f"{where}: {hint} is not a control"
        low, high, step = SLIDERS["repeats" if hint["name"].startswith("repeats") else hint["name"]]
        assert low <= hint["value"] <= high, f"{where}: {hint} is out of the slider's range"
        set_control(root, hint["name"], hint["value"])
        moved = read(root)
        assert moved["error"] is None, f"{where}: the suggested move {hint['text']!r} leaves {moved['error']!r}"
        check_shows_python(moved, extra, f"{where}, after {hint['text']!r}")
        if hint["name"] == "image_size" and hint["value"] - step >= low:  # the smallest that works
            set_control(root, "image_size", hint["value"] - step)
            assert read(root)["error"], f"{where}: a smaller image size than the hint's works too"
        set_control(root, hint["name"], before[hint["name"]])
    assert read(root)["error"] == state["error"], where


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


# ------------------------------------------------------------------ how it looks: layout, size, colour

_LAYOUT = r"""
(root) => {
  const box = root.getBoundingClientRect();
  const rect = (e) => e.getBoundingClientRect();
  const inside = (e) => { const r = rect(e); return r.left >= box.left - 0.5 && r.right <= box.right + 0.5; };
  const sliders = Array.from(root.querySelectorAll('input[type=range]'));
  const stages = [0, 1, 2, 3].map((s) => rect(root.querySelector(`[name="repeats${s}"]`)));
  const totals = root.querySelector('.cspx-totals'), wrap = root.querySelector('.cspx-table-wrap');
  const svg = root.querySelector('svg.cspx-plot');
  const texts = Array.from(svg.querySelectorAll('text'));
  const scale = svg.getScreenCTM().a;  // CSS px per SVG unit
  const label = texts.find((t) => t.textContent === 'channels');
  const ticks = texts.filter((t) => /^\d+$/.test(t.textContent));
  const overlap = (a, b) => !(a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top);
  return {
    viewport: innerWidth, boxRight: box.right, overflow: root.scrollWidth - root.clientWidth,
    outside: Array.from(root.querySelectorAll('input, select, button, table, svg, .cspx-table-wrap'))
      .filter((e) => !inside(e)).map((e) => e.outerHTML.slice(0, 60)),
    sliderWidths: sliders.map((i) => Math.round(rect(i).width)),
    stageLefts: stages.map((r) => Math.round(r.left)), stageTops: stages.map((r) => Math.round(r.top)),
    stageWidths: stages.map((r) => Math.round(r.width)),
    totalsOverflow: totals.scrollWidth - totals.clientWidth,
    totalsTable: rect(totals.querySelector('table')).right - rect(totals).right,
    planOverflow: wrap.scrollWidth - wrap.clientWidth,
    smallestText: Math.min(...texts.map((t) => parseFloat(getComputedStyle(t).fontSize) * scale)),
    longestTick: Math.max(...ticks.map((t) => t.textContent.length)),
    labelHitsTicks: ticks.filter((t) => overlap(rect(label), rect(t))).map((t) => t.textContent),
  };
}
"""


def check_layout(browser, base: str, path: str, width: int, height: int) -> None:
    """At ``width`` x ``height``: usable sliders, a tidy stage grid, everything inside the box."""
    page = browser.new_page(viewport={"width": width, "height": height})
    page.set_default_timeout(30_000)
    try:
        page.goto(base + path, wait_until="load")
        page.wait_for_selector(".cspnet-explorer.cspx-ready")
        root = page.locator("div.cspnet-explorer").first
        root.scroll_into_view_if_needed()
        settings = {"as loaded": [], "largest": [("growth_rate", "End"), ("compression", "End")]
                    + [(f"repeats{s}", "End") for s in range(4)]}
        for what, moves in settings.items():
            for name, key in moves:
                press(root, name, key)
            where = f"{path} at {width}x{height}, {what} settings"
            got = root.evaluate(_LAYOUT)
            assert got["boxRight"] <= got["viewport"], f"{where}: the explorer runs off the screen"
            assert got["overflow"] <= 0 and not got["outside"], f"{where}: wider than its box: {got}"
            assert got["totalsOverflow"] <= 0 and got["totalsTable"] <= 0.5, f"{where}: the totals overflow"
            assert got["planOverflow"] <= 0, f"{where}: the plan table is {got['planOverflow']} px too wide"
            assert min(got["sliderWidths"]) >= 150, f"{where}: sliders only {got['sliderWidths']} px wide"
            # The four stages on a grid: equal sliders, two columns (one on a phone), full rows.
            assert max(got["stageWidths"]) - min(got["stageWidths"]) <= 1, f"{where}: {got['stageWidths']}"
            columns = sorted(set(got["stageLefts"]))
            rows = sorted(set(got["stageTops"]))
            assert len(columns) * len(rows) == 4, f"{where}: stage sliders at {got['stageLefts']}, {got['stageTops']}"
            assert len(columns) == (2 if width >= 1000 else 1), f"{where}: {len(columns)} stage columns"
            assert got["smallestText"] >= 11, f"{where}: plot text {got['smallestText']:.1f} px"
            assert not got["labelHitsTicks"], f"{where}: 'channels' overlaps the ticks {got['labelHitsTicks']}"
        assert got["longestTick"] >= 5, f"{path}: the largest settings should reach 5-digit ticks"
    finally:
        page.close()


@pytest.mark.parametrize("size", [(1366, 900), (390, 844)], ids=["desktop", "phone"])
@pytest.mark.parametrize("path", EXPLORER_PAGES or [pytest.param("", marks=pytest.mark.skip(reason=NO_PAGES))])
def test_explorer_fits_the_screen(path: str, size: tuple[int, int], base_url: str, in_chromium) -> None:  # noqa: F811
    in_chromium(check_layout, base_url, path, *size)


_CONTRAST = r"""
(root) => {
  // Every visible piece of text in the explorer against the colour behind it (WCAG 2 contrast).
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/) || c.match(/color\(srgb ([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    const scale = c.startsWith('color(') ? 255 : 1;
    return [parts[0] * scale, parts[1] * scale, parts[2] * scale, parts.length > 3 ? parts[3] : 1];
  };
  const over = (top, bottom) => top.slice(0, 3).map((v, i) => v * top[3] + bottom[i] * (1 - top[3])).concat(1);
  const background = (e) => {
    const layers = [];
    for (let n = e; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const luminance = (c) => 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
  const lin = (v) => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const e = node.parentElement;
    if (!node.textContent.trim() || !e.getClientRects().length || e.closest('title, option')) continue;
    const style = getComputedStyle(e);
    if (style.visibility === 'hidden') continue;
    const svg = e instanceof SVGElement;
    const fg = parse(svg ? style.fill : style.color);
    const bg = background(svg ? e.ownerSVGElement.parentElement : e);
    const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    out.push({ text: node.textContent.trim().slice(0, 40), ratio: ratio(over(fg, bg), bg), need: large ? 3 : 4.5 });
  }
  return out;
}
"""


def check_contrast(browser, base: str, path: str, theme: str) -> None:
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    page.set_default_timeout(30_000)
    # The theme reads the reader's choice from localStorage; set the attribute as well.
    page.add_init_script(f"localStorage.setItem('theme', '{theme}'); localStorage.setItem('mode', '{theme}');")
    try:
        page.goto(base + path, wait_until="load")
        page.wait_for_selector(".cspnet-explorer.cspx-ready")
        page.evaluate(f"document.documentElement.dataset.theme = '{theme}'; document.documentElement.dataset.mode = '{theme}'")
        root = page.locator("div.cspnet-explorer").first
        behind = root.evaluate("r => getComputedStyle(document.body).backgroundColor")
        dark = sum(float(v) for v in re.findall(r"[\d.]+", behind)[:3]) < 3 * 96
        assert dark == (theme == "dark"), f"{path}: the page is not in {theme} mode ({behind})"
        low: list[str] = []
        checked = 0
        for state in ("as loaded", "other table", "error"):
            if state == "other table":  # the other toggle pressed: its highlighted text
                kind = root.get_attribute("data-kind") or "cspdensenet"
                root.locator(f'.cspx-toggle[data-table="{next(k for k in NAMES if k != kind)}"]').click()
            if state == "error":
                press(root, "image_size", "Home")
            items = root.evaluate(_CONTRAST)
            checked += len(items)
            low += [f"{state}: {i['text']!r} {i['ratio']:.2f}:1 (needs {i['need']})"
                    for i in items if i["ratio"] < i["need"]]
        assert checked > 50, f"{path}: only {checked} texts checked"
        assert not low, f"{path}, {theme} mode: text below WCAG AA contrast:\n" + "\n".join(dict.fromkeys(low))
    finally:
        page.close()


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("path", EXPLORER_PAGES or [pytest.param("", marks=pytest.mark.skip(reason=NO_PAGES))])
def test_explorer_text_contrast(path: str, theme: str, base_url: str, in_chromium) -> None:  # noqa: F811
    in_chromium(check_contrast, base_url, path, theme)
