/*
 * explorer.js: the channel explorer of the rendered book, without a kernel.
 *
 * Every `<div class="cspnet-explorer" data-kind="densenet|cspdensenet"></div>` on a page becomes
 * sliders for the settings, the totals (parameters, FLOPs, CSP / DenseNet ratios), a plot of the
 * channels through DenseNet and CSPDenseNet, and a table of every step. All numbers come from
 * plan.js, the line-by-line port of cspnet_lib/plan.py; this file only draws. It mirrors
 * cspnet_lib/widgets.py (same ranges, same table, same curves) so the book and the notebooks
 * show the same explorer. Optional: data-settings='{"stem_channels": 32}' sets other defaults.
 * When the settings cannot be built, it shows the library's diagnosis (the same sentence as Python)
 * and, instead of the library's advice (which names Python settings such as len(repeats)), the
 * single slider moves that fix it; Reset stays beside the settings. No framework, no network.
 */
(function () {
  "use strict";

  const P = window.cspnetPlan;
  const KINDS = ["densenet", "cspdensenet"];
  const CSP_ONLY = ["channel_pooling", "split_ratio", "fusion"];
  const NAMES = { densenet: "DenseNet", cspdensenet: "CSPDenseNet" };
  // [min, max, step]: the same as SLIDERS in cspnet_lib/widgets.py.
  const SLIDERS = {
    growth_rate: [1, 64, 1],
    compression: [0.05, 1.0, 0.05],
    image_size: [8, 512, 8],
    channel_pooling: [0.05, 1.0, 0.05],
    split_ratio: [0.05, 0.95, 0.05],
    repeats: [1, 64, 1],
  };
  const GROUPS = [
    ["Both networks", [["growth_rate", "growth rate k"], ["compression", "compression"],
      ["image_size", "image size"]]],
    ["CSP variant", [["channel_pooling", "channel pooling"], ["split_ratio", "split ratio"],
      ["fusion", "fusion"]]],
    ["Bottlenecks per stage", [0, 1, 2, 3].map((s) => [`repeats${s}`, `stage ${s}`])],
  ];
  const SVG = "http://www.w3.org/2000/svg";

  // ------------------------------------------------------------------ the view (as widgets.py)

  /** All settings of both networks: `settings` over the defaults of `kind`. */
  function explorerSettings(kind, settings) {
    P.checkChoice("kind", kind, KINDS);
    const defaults = Object.assign({}, P.CSPDENSENET_DEFAULTS,
      kind === "densenet" ? P.DENSENET_DEFAULTS : {}, { image_size: 224 });
    const unknown = Object.keys(settings).filter((k) => !(k in defaults)).sort();
    if (unknown.length) {
      throw new TypeError(`explorer got unknown setting(s) ${unknown.join(", ")}; ` +
        `allowed: ${Object.keys(defaults).sort().join(", ")}`);
    }
    return Object.assign(defaults, settings);
  }

  /** The plan as table rows, each run of bottlenecks folded into one row. */
  function collapseBottlenecks(rows) {
    const table = [];
    for (const row of rows) {
      const previous = table[table.length - 1];
      if (row.step === "bottleneck" && previous && previous.step === "bottleneck") {
        previous.last = row.channels;
        previous.count += 1;
        previous.params += row.params;
        previous.flops += row.flops;
      } else {
        table.push({ stage: row.stage, step: row.step, channels: row.channels, last: row.channels,
          size: row.size, params: row.params, flops: row.flops, count: row.step === "bottleneck" ? 1 : 0 });
      }
    }
    return table;
  }

  /** [step, channels] as the table prints them: ["6 bottlenecks", "44 … 104"]. */
  function stepLabel(e) {
    if (!e.count) return [e.step, String(e.channels)];
    if (e.count === 1) return ["1 bottleneck", String(e.channels)];
    return [`${e.count} bottlenecks`, `${e.channels} … ${e.last}`];
  }

  /** [x, channels, row] for the plot: stem at 0, stage s's rows spread evenly over (s, s + 1]. */
  function channelCurve(rows) {
    const points = [[0, rows[0].channels, rows[0]]];
    const stages = new Map();
    for (const row of rows) {
      if (row.stage === null) continue;
      if (!stages.has(row.stage)) stages.set(row.stage, []);
      stages.get(row.stage).push(row);
    }
    for (const [stage, members] of stages) {
      members.forEach((r, i) => points.push([stage + (i + 1) / members.length, r.channels, r]));
    }
    return points;
  }

  /** Thousands separators for a BigInt or an integer: 1275642 -> "1,275,642". */
  function grouped(n) {
    return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }

  /** Three significant figures: 9536 -> "9.54 k", 0 -> "–". */
  function compact(n) {
    if (n === 0n || n === 0) return "–";
    let value = Number(n), unit = "";
    for (const next of ["k", "M", "G", "T", "P"]) {
      if (Math.abs(value) < 999.5) break;
      value /= 1000;
      unit = next;
    }
    if (!unit) return String(n);
    const digits = Math.abs(value) < 9.995 ? 2 : Math.abs(value) < 99.95 ? 1 : 0;
    return `${value.toFixed(digits)} ${unit}`;
  }

  /** Everything the explorer shows for these settings (as `explorer_view` in widgets.py). */
  function explorerView(kind, settings) {
    const full = explorerSettings(kind, settings);
    const configs = { cspdensenet: full, densenet: {} };
    for (const [k, v] of Object.entries(full)) if (!CSP_ONLY.includes(k)) configs.densenet[k] = v;
    const view = { kind, settings: full, error: null, errorKind: null, table: [], curves: {},
      totals: {}, ratios: {} };
    const plans = {};
    for (const name of [kind, ...KINDS.filter((k) => k !== kind)]) { // the table's network first
      try {
        plans[name] = P.channelPlan(name, configs[name]);
      } catch (error) {
        if (error.name !== "ValueError") throw error;
        view.error = error.message;
        view.errorKind = name;
        break;
      }
      view.totals[name] = {
        params: plans[name].reduce((s, r) => s + r.params, 0n),
        flops: plans[name].reduce((s, r) => s + r.flops, 0n),
      };
    }
    if (view.error === null) {
      view.table = collapseBottlenecks(plans[kind]);
      for (const name of KINDS) view.curves[name] = channelCurve(plans[name]);
      for (const key of ["params", "flops"]) {
        view.ratios[key] = Number(view.totals.cspdensenet[key]) / Number(view.totals.densenet[key]);
      }
    }
    return view;
  }

  // ------------------------------------------------------------------ what the reader can do

  // The sliders a hint may suggest, with the words the panel shows. (The number of stages and
  // the stem are fixed in the explorer, so the library's "fewer stages (len(repeats))" or
  // "raise stem_channels" cannot be offered here.)
  const FIXES = [["image_size", "image size"], ["growth_rate", "growth rate k"],
    ["compression", "compression"], ["channel_pooling", "channel pooling"], ["split_ratio", "split ratio"],
    ...[0, 1, 2, 3].map((s) => [`repeats${s}`, `stage ${s}`])];

  function sliderStep(name) {
    return SLIDERS[name.startsWith("repeats") ? "repeats" : name][2];
  }

  /** The values a slider can take, as the settings hold them (fractions rounded as in Python). */
  function sliderValues(name) {
    const [low, high, step] = SLIDERS[name.startsWith("repeats") ? "repeats" : name];
    const n = Math.round((high - low) / step);
    return Array.from({ length: n + 1 }, (_, i) => Math.round((low + i * step) * 100) / 100);
  }

  /** Whether both networks build with these settings (the explorer shows both). */
  function buildsBoth(settings) {
    try {
      return explorerView("cspdensenet", settings).error === null;
    } catch (error) {
      return false;
    }
  }

  /**
   * The single slider moves that make both networks buildable: for each slider, the reachable
   * value nearest to the current one. [{name, label, value, direction: "raise" | "lower"}].
   */
  function fixes(settings) {
    const out = [];
    for (const [name, label] of FIXES) {
      const stage = name.startsWith("repeats") ? Number(name.slice(7)) : null;
      const now = stage === null ? settings[name] : settings.repeats[stage];
      const moved = (v) => (stage === null ? { ...settings, [name]: v }
        : { ...settings, repeats: settings.repeats.map((r, s) => (s === stage ? v : r)) });
      const candidates = sliderValues(name).filter((v) => v !== now)
        .sort((a, b) => Math.abs(a - now) - Math.abs(b - now) || b - a);
      const value = candidates.find((v) => buildsBoth(moved(v)));
      if (value !== undefined) out.push({ name, label, value, direction: value > now ? "raise" : "lower" });
    }
    return out;
  }

  /** The library's sentence without its own advice (which names Python settings): "x; hint" -> "x". */
  function diagnosis(message) {
    const cut = message.lastIndexOf("; ");
    return cut < 0 ? message : message.slice(0, cut);
  }

  // ------------------------------------------------------------------ drawing

  function el(tag, attrs = {}, children = []) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child);
    return node;
  }

  function svgEl(tag, attrs = {}, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Round axis ticks: steps of 1, 2 or 5 x 10^n, about five of them. */
  function niceTicks(max) {
    const raw = Math.max(max, 1) / 5;
    const power = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
    const ticks = [];
    for (let t = 0; t <= max + step * 0.999; t += step) ticks.push(t);
    return ticks;
  }

  /**
   * The channel curves of both networks on one set of axes, as an SVG `width` CSS pixels wide.
   * The SVG is drawn at the width it is shown at (not scaled down), so its text keeps its size
   * on a phone; the left margin grows with the longest tick label, so "channels" never
   * touches the ticks.
   */
  function plot(view, width = 760) {
    const W = Math.round(Math.min(Math.max(width, 280), 760));
    // Narrow, the legend gets its own two lines above the axes (inside them it would sit on the curves).
    const legendAbove = W < 560;
    const right = 12, top = legendAbove ? 48 : 14, bottom = 52;
    const H = (W < 480 ? 260 : 300) + (legendAbove ? 34 : 0);
    const nStages = view.settings.repeats.length;
    const yMax = Math.max(...KINDS.flatMap((k) => view.curves[k].map((p) => p[1])));
    const ticks = niceTicks(yMax);
    const yTop = ticks[ticks.length - 1];
    const digits = Math.max(...ticks.map((t) => String(t).length));
    // axis label (12px, centred on x=14: it ends by x=21) + gap + ticks (~7.3px a digit) + 6px
    const left = Math.ceil(21 + 8 + 7.3 * digits + 6);
    const x = (v) => left + ((v + 0.1) / (nStages + 0.15)) * (W - left - right);
    const y = (v) => top + (1 - v / yTop) * (H - top - bottom);
    const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "cspx-plot", role: "img",
      "aria-label": "Channels after every step of DenseNet and CSPDenseNet" });
    for (const t of ticks) {
      svg.append(svgEl("line", { x1: left, x2: W - right, y1: y(t), y2: y(t), class: "cspx-grid" }));
      svg.append(svgEl("text", { x: left - 6, y: y(t) + 4, class: "cspx-tick", "text-anchor": "end" }, t));
    }
    for (let s = 1; s < nStages; s++) {
      svg.append(svgEl("line", { x1: x(s), x2: x(s), y1: top, y2: H - bottom, class: "cspx-boundary" }));
    }
    // "stem" sits left of "stage 0"'s label: drop it when the two would touch (a phone).
    const labels = [...(x(0.5) - x(0) >= 48 ? [[0, "stem"]] : []),
      ...Array.from({ length: nStages }, (_, s) => [s + 0.5, `stage ${s}`])];
    for (const [v, label] of labels) {
      svg.append(svgEl("text", { x: x(v), y: H - bottom + 18, class: "cspx-tick", "text-anchor": "middle" }, label));
    }
    svg.append(svgEl("line", { x1: left, x2: W - right, y1: H - bottom, y2: H - bottom, class: "cspx-axis" }));
    svg.append(svgEl("text", { x: (left + W - right) / 2, y: H - 8, class: "cspx-axis-label",
      "text-anchor": "middle" }, W < 560 ? "steps (each stage stretched to one width)"
      : "steps of the network (each stage stretched to the same width)"));
    svg.append(svgEl("text", { x: 14, y: (top + H - bottom) / 2, class: "cspx-axis-label",
      "text-anchor": "middle", transform: `rotate(-90 14 ${(top + H - bottom) / 2})` }, "channels"));
    const k = view.settings.growth_rate;
    const legend = { densenet: `DenseNet (k=${k})`, cspdensenet: `CSPDenseNet (k=${k}, fusion ${view.settings.fusion})` };
    KINDS.forEach((name, i) => {
      const points = view.curves[name];
      const series = svgEl("g", { class: `cspx-series cspx-${name}` });
      series.append(svgEl("polyline", { points: points.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(" ") }));
      for (const [px, py, row] of points) {
        const dot = svgEl("circle", { cx: x(px).toFixed(1), cy: y(py).toFixed(1), r: 2.4 });
        const where = row.stage === null ? "" : `stage ${row.stage}, `;
        dot.append(svgEl("title", {}, `${NAMES[name]}: ${where}${row.step}: ${row.channels} channels, ${row.size}×${row.size}`));
        series.append(dot);
      }
      svg.append(series);
      const ly = legendAbove ? 10 + 18 * i : top + 12 + 18 * i;
      const key = svgEl("g", { class: `cspx-series cspx-${name}` });
      key.append(svgEl("line", { x1: left + 12, x2: left + 36, y1: ly, y2: ly }));
      key.append(svgEl("circle", { cx: left + 24, cy: ly, r: 2.4 }));
      svg.append(key);
      svg.append(svgEl("text", { x: left + 42, y: ly + 4, class: "cspx-legend" }, legend[name]));
    });
    return svg;
  }

  function totalsTable(view) {
    const head = el("tr", {}, [el("td"), el("th", { scope: "col", text: "parameters" }),
      el("th", { scope: "col" }, ["FLOPs ", el("span", { class: "cspx-unit", text: "(2 × MACs)" })])]);
    const rows = KINDS.map((name) => el("tr", {}, [
      el("th", { scope: "row", class: `cspx-name-${name}`, text: NAMES[name] }),
      el("td", { "data-total": `${name}-params`, text: grouped(view.totals[name].params) }),
      el("td", { "data-total": `${name}-flops`, text: grouped(view.totals[name].flops) }),
    ]));
    rows.push(el("tr", { class: "cspx-ratio" }, [
      el("th", { scope: "row", text: "CSP / DenseNet" }),
      el("td", { "data-ratio": "params", text: `${view.ratios.params.toFixed(3)} ×` }),
      el("td", { "data-ratio": "flops", text: `${view.ratios.flops.toFixed(3)} ×` }),
    ]));
    return el("table", { class: "cspx-totals-table" }, [el("thead", {}, [head]), el("tbody", {}, rows)]);
  }

  function planTable(view) {
    const columns = ["stage", "step", "channels", "size", "params", "FLOPs"];
    const head = el("tr", {}, columns.map((c) => el("th", { text: c, scope: "col" })));
    const body = view.table.map((e) => {
      const [step, channels] = stepLabel(e);
      const cells = [e.stage === null ? "" : String(e.stage), step, channels, `${e.size}×${e.size}`,
        compact(e.params), compact(e.flops)];
      const row = el("tr", { class: e.count ? "cspx-bottlenecks" : "" }, cells.map((c) => el("td", { text: c })));
      // In a narrow column "second_transition" may break after its underscore, "44 … 104" after "…".
      row.cells[1].replaceChildren(...step.split("_").flatMap((part, i) => (i ? ["_", el("wbr"), part] : [part])));
      if (e.count > 1) {
        row.cells[2].replaceChildren(el("span", { class: "cspx-nobreak", text: `${e.channels} …` }), " ",
          el("span", { class: "cspx-nobreak", text: String(e.last) }));
      }
      return row;
    });
    return el("table", { class: "cspx-plan" }, [
      el("caption", { text: `Every step of ${NAMES[view.kind]}` }),
      el("thead", {}, [head]), el("tbody", {}, body)]);
  }

  // ------------------------------------------------------------------ one explorer on the page

  function readDefaults(root) {
    const kind = root.dataset.kind || "cspdensenet";
    const extra = root.dataset.settings ? JSON.parse(root.dataset.settings) : {};
    const start = explorerSettings(kind, extra);
    const repeats = P.checkRepeats(start.repeats);
    if (repeats.length !== 4) {
      throw new P.ValueError(`the explorer has one slider per stage for 4 stages; got repeats=${P.pyRepr(repeats, true)}`);
    }
    P.checkChoice("fusion", start.fusion, P.FUSIONS);
    for (const [name, [low, high, step]] of Object.entries(SLIDERS)) {
      for (const value of name === "repeats" ? repeats : [start[name]]) {
        if (Number.isInteger(step)) P.checkInt(name, value, low, high);
        else if (P.checkFraction(name, value) < low || value > high) {
          throw new P.ValueError(`${name} must lie between ${low} and ${high} in the explorer, got ${value}`);
        }
      }
    }
    return { kind, start };
  }

  function control(name, label, start) {
    const value = name.startsWith("repeats") ? start.repeats[Number(name.slice(7))] : start[name];
    if (name === "fusion") {
      const select = el("select", { name }, P.FUSIONS.map((f) => el("option", { value: f, text: f })));
      select.value = value;
      return el("label", { class: "cspx-control" }, [el("span", { class: "cspx-label", text: label }), select]);
    }
    const [min, max, step] = SLIDERS[name.startsWith("repeats") ? "repeats" : name];
    const input = el("input", { type: "range", name, min, max, step, value });
    input.value = String(value);
    const output = el("output", { class: "cspx-value" });
    return el("label", { class: "cspx-control" }, [el("span", { class: "cspx-label", text: label }), input, output]);
  }

  /** What the reader can do about an error, in the panel's own words: one slider move each. */
  function hint(settings) {
    const moves = fixes(settings);
    const show = (f) => (Number.isInteger(sliderStep(f.name)) ? String(f.value) : f.value.toFixed(2));
    if (!moves.length) {
      return el("p", { class: "cspx-hint", text: "No single slider fixes this: press Reset to go back to the chapter's settings." });
    }
    const items = moves.map((f) => el("li", { "data-name": f.name, "data-value": String(f.value) },
      f.name.startsWith("repeats")
        ? [`${f.direction} `, el("strong", { text: f.label }), ` to ${show(f)} bottlenecks`]
        : [`${f.direction} the `, el("strong", { text: f.label }), ` to ${show(f)}`]));
    return el("div", { class: "cspx-hint" }, [
      el("p", { text: moves.length === 1 ? "This move fixes it (or press Reset):" : "Any one of these moves fixes it (or press Reset):" }),
      el("ul", {}, items)]);
  }

  function setup(root) {
    let kind, start;
    try {
      ({ kind, start } = readDefaults(root));
    } catch (error) {
      root.replaceChildren(el("div", { class: "cspx-error", role: "alert", text: `Explorer settings: ${error.message}` }));
      return;
    }
    const fixed = {};
    for (const [k, v] of Object.entries(start)) if (!(k in SLIDERS) && k !== "fusion") fixed[k] = v;
    const panel = el("form", { class: "cspx-panel", "aria-label": "Settings" },
      GROUPS.map(([title, members], i) => el("fieldset", { class: `cspx-group cspx-group-${i}` }, [
        el("legend", { text: title }),
        el("div", { class: "cspx-members" }, members.map(([name, label]) => control(name, label, start)))])));
    panel.addEventListener("submit", (e) => e.preventDefault());
    // Reset belongs to the settings, and stays reachable whatever they are (also in the error state).
    const reset = el("button", { type: "button", class: "cspx-reset", text: "Reset" });
    panel.append(el("div", { class: "cspx-actions" }, [reset]));
    const toggles = KINDS.map((name) => el("button", { type: "button", class: "cspx-toggle", "data-table": name,
      "aria-pressed": String(name === kind), text: NAMES[name] }));
    const bar = el("div", { class: "cspx-bar" }, [el("span", { class: "cspx-bar-label", text: "Table:" }), ...toggles]);
    const error = el("div", { class: "cspx-error", role: "alert", hidden: "" });
    const totals = el("div", { class: "cspx-totals", "aria-live": "polite" });
    const figure = el("div", { class: "cspx-figure" });
    const table = el("div", { class: "cspx-table-wrap", tabindex: "0", role: "region",
      "aria-label": "Every step of the network, table" });
    root.replaceChildren(panel, error, totals, figure, bar, table);
    root.classList.add("cspx-ready");
    let shown = null; // the view on screen, redrawn when the figure's width changes
    const drawPlot = () => figure.replaceChildren(plot(shown, figure.clientWidth || 760));

    const inputs = () => Array.from(panel.querySelectorAll("input, select"));
    function settings() {
      const values = {};
      for (const input of inputs()) values[input.name] = input.value;
      const chosen = { ...fixed, fusion: values.fusion, repeats: [0, 1, 2, 3].map((s) => Number(values[`repeats${s}`])) };
      for (const name of ["growth_rate", "image_size"]) chosen[name] = Number(values[name]);
      for (const name of ["compression", "channel_pooling", "split_ratio"]) {
        chosen[name] = Math.round(Number(values[name]) * 100) / 100; // as round(v, 2) in Python
      }
      return chosen;
    }
    function update() {
      for (const input of inputs()) {
        const output = input.parentElement.querySelector("output");
        if (output) output.textContent = input.step.includes(".") ? Number(input.value).toFixed(2) : input.value;
      }
      const chosen = settings();
      const view = explorerView(kind, chosen);
      error.hidden = view.error === null;
      for (const part of [totals, figure, bar, table]) part.hidden = view.error !== null;
      if (view.error !== null) {
        shown = null;
        error.replaceChildren(el("strong", { text: `${NAMES[view.errorKind]} cannot be built with these settings.` }),
          el("br"), el("span", { class: "cspx-message", text: diagnosis(view.error) }), hint(chosen));
        return;
      }
      shown = view;
      totals.replaceChildren(totalsTable(view));
      drawPlot();
      table.replaceChildren(planTable(view));
      for (const t of toggles) t.setAttribute("aria-pressed", String(t.dataset.table === kind));
    }
    if (window.ResizeObserver) {
      let lastWidth = figure.clientWidth;
      new ResizeObserver(() => {
        if (shown && figure.clientWidth && figure.clientWidth !== lastWidth) drawPlot();
        lastWidth = figure.clientWidth;
      }).observe(figure);
    }
    panel.addEventListener("input", update);
    panel.addEventListener("change", update);
    for (const t of toggles) t.addEventListener("click", () => { kind = t.dataset.table; update(); });
    reset.addEventListener("click", () => {
      for (const input of inputs()) {
        const name = input.name;
        input.value = String(name.startsWith("repeats") ? start.repeats[Number(name.slice(7))] : start[name]);
      }
      kind = root.dataset.kind || "cspdensenet";
      update();
    });
    update();
  }

  function init() {
    document.querySelectorAll("div.cspnet-explorer:not(.cspx-ready)").forEach(setup);
  }

  window.cspnetExplorer = { explorerView, explorerSettings, collapseBottlenecks, channelCurve, init, SLIDERS };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
