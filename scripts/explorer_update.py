"""How long one move of a channel-explorer slider takes, in Python and in JavaScript.

    .venv/bin/python scripts/explorer_update.py

Times, per update, at the reference settings and at the largest value of every slider:
  * Python ``explorer_view`` (the closed form for both networks, the table, the totals),
  * Python widget update (the same plus the HTML and the matplotlib PNG: what a reader waits for),
  * JavaScript ``channelPlan`` for both networks under Node (plan.js alone),
  * JavaScript full update in headless Chromium (controls -> table, SVG plot, totals), if the book
    has been built (``make book``) and Chromium and Playwright are installed.
Machine-dependent by nature: a benchmark, not a test.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cspnet_lib.teach.widgets import SLIDERS, channel_explorer, explorer_view  # noqa: E402

REFERENCE = dict(growth_rate=12, compression=0.5, image_size=224, channel_pooling=0.8,
                 split_ratio=0.5, fusion="csp", repeats=(6, 12, 24, 16))
LARGEST = dict(growth_rate=SLIDERS["growth_rate"][1], compression=SLIDERS["compression"][1],
               image_size=SLIDERS["image_size"][1], channel_pooling=SLIDERS["channel_pooling"][1],
               split_ratio=SLIDERS["split_ratio"][1], fusion="csp", repeats=(SLIDERS["repeats"][1],) * 4)
CASES = {"reference": REFERENCE, "largest sliders": LARGEST}


def per_call_ms(fn, repeat: int = 7, number: int = 20) -> float:
    """Median over ``repeat`` runs of the mean time of ``number`` calls, in milliseconds."""
    fn()  # warm up
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        runs.append((time.perf_counter() - start) / number * 1000)
    return statistics.median(runs)


def python_widget_update_ms(settings: dict) -> float:
    """Time a real slider move: set ``.value``, the observer redraws table, totals and PNG."""
    explorer = channel_explorer(**settings)
    growth = explorer.controls["growth_rate"]
    values = [settings["growth_rate"], settings["growth_rate"] - 1]
    state = {"i": 0}

    def move() -> None:
        state["i"] += 1
        growth.value = values[state["i"] % 2]

    return per_call_ms(move, repeat=5, number=10)


NODE_BENCH = r"""
const P = require(process.env.PLAN_JS);
const cases = JSON.parse(process.env.CASES);
const out = {};
for (const [name, s] of Object.entries(cases)) {
  const dense = Object.fromEntries(Object.entries(s).filter(([k]) => !["channel_pooling", "split_ratio", "fusion"].includes(k)));
  const once = () => { P.channelPlan("cspdensenet", s); P.channelPlan("densenet", dense); };
  for (let i = 0; i < 50; i++) once();
  const runs = [];
  for (let r = 0; r < 7; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) once();
    runs.push(Number(process.hrtime.bigint() - t) / 200 / 1e6);
  }
  runs.sort((a, b) => a - b);
  out[name] = runs[3];
}
console.log(JSON.stringify(out));
"""

BROWSER_BENCH = r"""
async (settings) => {
  const root = document.querySelector(".cspnet-explorer");
  const set = (name, value) => {
    const input = root.querySelector(`[name="${name}"]`);
    input.value = String(value);
    input.dispatchEvent(new Event("input", { bubbles: true }));
  };
  for (const [name, value] of Object.entries(settings)) {
    if (name === "repeats") value.forEach((v, i) => set(`repeats${i}`, v));
    else set(name, value);
  }
  const g = settings.growth_rate, times = [];
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    set("growth_rate", i % 2 ? g : g - 1);
    root.getBoundingClientRect(); void root.offsetHeight;  // include style and layout
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
"""


def browser_update_ms() -> dict[str, float] | str:
    html = ROOT / "_build" / "html"
    pages = [p for p in sorted(html.rglob("*.html")) if 'class="cspnet-explorer"' in p.read_text(errors="ignore")]
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not pages or not Path(executable).exists():
        return "skipped (no built page with an explorer, or no Chromium)"
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "skipped (playwright not installed)"
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/{pages[0].relative_to(html).as_posix()}")
            page.wait_for_selector(".cspnet-explorer .cspx-totals table")
            result = {name: page.evaluate(BROWSER_BENCH, {**s, "repeats": list(s["repeats"])})
                      for name, s in CASES.items()}
            browser.close()
    finally:
        server.shutdown()
    return result


def main() -> None:
    print("time per explorer update (median), ms")
    for name, settings in CASES.items():
        view = explorer_view(**settings)
        rows = len(view["curves"]["densenet"]) + len(view["curves"]["cspdensenet"])
        print(f"  {name} ({rows} plotted steps):")
        print(f"    Python explorer_view           {per_call_ms(lambda: explorer_view(**settings)):8.2f}")
        print(f"    Python widget update (+PNG)    {python_widget_update_ms(settings):8.2f}")
    node = shutil.which("node")
    if node:
        cases = {k: {**v, "repeats": list(v["repeats"])} for k, v in CASES.items()}
        out = subprocess.run([node, "-e", NODE_BENCH], capture_output=True, text=True, check=True,
                             env={"PLAN_JS": str(ROOT / "book/explorer/plan.js"), "CASES": json.dumps(cases)})
        for name, ms in json.loads(out.stdout).items():
            print(f"  JS channelPlan, both networks, {name:<16} {ms:8.3f}")
    sys.stdout.flush()
    browser = browser_update_ms()
    if isinstance(browser, str):
        print(f"  JS full update in Chromium: {browser}")
    else:
        for name, ms in browser.items():
            print(f"  JS full update in Chromium, {name:<18} {ms:8.2f}")


if __name__ == "__main__":
    main()
