/*
 * plan.js: the channel arithmetic of cspnet_lib/plan.py (and the checks of settings.py), ported
 * line by line so the book's kernel-free explorer shows exactly the numbers Python computes.
 * tests/test_explorer_parity.py runs this file under Node and compares it with Python.
 *
 * Usable on its own: `require("./plan.js")` under Node, or `<script src="plan.js">` in a page,
 * which defines the global `cspnetPlan`. No dependencies.
 *
 *   cspnetPlan.channelPlan("cspdensenet", {growth_rate: 12, image_size: 224})
 *     -> [{stage: null, step: "stem", channels: 64, size: 56, params: 9536n, flops: ..., cio: ...}, ...]
 *
 * Settings keep their Python names (growth_rate, repeats, ...); `image_size` sits in the same
 * object. Python's ints are unbounded, so parameters, FLOPs and CIO are BigInts here (exact
 * however large); channels and sizes are ordinary numbers. What Python's semantics need:
 *   int(x)  truncates toward zero   -> Math.trunc
 *   a // b  floors                  -> floorDiv
 *   repr()  in error messages       -> pyRepr (so the sentences match word for word)
 * JavaScript has one number type: an integral number counts as a Python int, any other as a float.
 */
(function (root, factory) {
  if (typeof module === "object" && module.exports) {
    module.exports = factory();
  } else {
    root.cspnetPlan = factory();
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  // ------------------------------------------------------------------ Python's semantics

  class ValueError extends Error {
    constructor(message) {
      super(message);
      this.name = "ValueError";
    }
  }

  /** Python's `a // b` for integers (floors, also for negative numbers). */
  function floorDiv(a, b) {
    return Math.floor(a / b);
  }

  function isPyInt(value) {
    return typeof value === "number" && Number.isInteger(value);
  }

  /** Python's `type(value).__name__` for the values JSON can carry. */
  function pyTypeName(value) {
    if (value === null || value === undefined) return "NoneType";
    if (typeof value === "boolean") return "bool";
    if (typeof value === "number") return isPyInt(value) ? "int" : "float";
    if (typeof value === "string") return "str";
    if (Array.isArray(value)) return "list";
    return "dict";
  }

  /** Python's `repr(float)`: shortest round-trip digits, exponent below 1e-4 or from 1e16 on. */
  function pyFloatRepr(x) {
    if (Number.isNaN(x)) return "nan";
    if (x === Infinity) return "inf";
    if (x === -Infinity) return "-inf";
    if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
    const sign = x < 0 ? "-" : "";
    // String(x) has the same shortest round-trip digits as Python; only the layout differs.
    const [mantissa, exponent = "0"] = String(Math.abs(x)).split("e");
    const [whole, fraction = ""] = mantissa.split(".");
    let digits = whole + fraction;
    let point = whole.length + Number(exponent); // value = 0.digits x 10^point
    while (digits.length > 1 && digits[0] === "0") {
      digits = digits.slice(1);
      point -= 1;
    }
    digits = digits.replace(/0+$/, "") || "0";
    const exp = point - 1; // value = d.ddd x 10^exp
    if (exp < -4 || exp >= 16) {
      const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
      const e = String(Math.abs(exp)).padStart(2, "0");
      return `${sign}${m}e${exp < 0 ? "-" : "+"}${e}`;
    }
    if (point <= 0) return `${sign}0.${"0".repeat(-point)}${digits}`;
    if (point >= digits.length) return `${sign}${digits}${"0".repeat(point - digits.length)}.0`;
    return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  }

  function pyStrRepr(s) {
    const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
    let out = "";
    for (const ch of s) {
      const code = ch.codePointAt(0);
      if (ch === "\\" || ch === quote) out += "\\" + ch;
      else if (ch === "\n") out += "\\n";
      else if (ch === "\r") out += "\\r";
      else if (ch === "\t") out += "\\t";
      else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
      else out += ch;
    }
    return quote + out + quote;
  }

  /** Python's `repr(value)`; arrays are lists, `asTuple` writes one as a tuple. */
  function pyRepr(value, asTuple = false) {
    if (value === null || value === undefined) return "None";
    if (typeof value === "boolean") return value ? "True" : "False";
    if (typeof value === "number") {
      return isPyInt(value) && Math.abs(value) < 1e21 ? String(value) : pyFloatRepr(value);
    }
    if (typeof value === "bigint") return value.toString();
    if (typeof value === "string") return pyStrRepr(value);
    if (Array.isArray(value)) {
      const items = value.map((v) => pyRepr(v));
      if (!asTuple) return `[${items.join(", ")}]`;
      return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
    }
    const entries = Object.entries(value).map(([k, v]) => `${pyStrRepr(k)}: ${pyRepr(v)}`);
    return `{${entries.join(", ")}}`;
  }

  // ------------------------------------------------------------------ settings.py

  const FUSIONS = ["csp", "first", "last"];
  const STEMS = ["imagenet", "small"];

  function checkInt(name, value, minimum = 1, maximum = null) {
    if (typeof value === "boolean" || !isPyInt(value)) {
      throw new TypeError(`${name} must be an int, got ${pyRepr(value)} (${pyTypeName(value)})`);
    }
    if (value < minimum || (maximum !== null && value > maximum)) {
      const allowed = maximum === null ? `>= ${minimum}` : `between ${minimum} and ${maximum}`;
      throw new ValueError(`${name} must be an int ${allowed}, got ${pyRepr(value)}`);
    }
    return value;
  }

  function checkFraction(name, value, { includeOne = true } = {}) {
    if (typeof value === "boolean" || typeof value !== "number") {
      throw new TypeError(`${name} must be a number, got ${pyRepr(value)} (${pyTypeName(value)})`);
    }
    const upperOk = includeOne ? value <= 1.0 : value < 1.0;
    if (Number.isNaN(value) || !(0.0 < value && upperOk)) {
      const interval = includeOne ? "0 < value <= 1" : "0 < value < 1";
      throw new ValueError(`${name} must satisfy ${interval}, got ${pyFloatRepr(value)}`);
    }
    return value;
  }

  function checkChoice(name, value, choices) {
    if (!choices.includes(value)) {
      throw new ValueError(
        `${name} must be one of ${choices.map((c) => pyRepr(c)).join(", ")}; got ${pyRepr(value)}`);
    }
    return value;
  }

  function checkRepeats(value, maximum = 128) {
    const iterable = Array.isArray(value) || (value !== null && typeof value === "object");
    if (typeof value === "string" || !iterable) {
      throw new TypeError(
        `repeats must be a sequence of ints such as (6, 12, 24, 16), got ${pyRepr(value)}`);
    }
    const repeats = Array.isArray(value) ? value.slice() : Object.keys(value); // tuple(dict) = keys
    if (!(1 <= repeats.length && repeats.length <= 8)) {
      throw new ValueError(
        `repeats must list between 1 and 8 stages, got ${repeats.length}: ${pyRepr(repeats, true)}`);
    }
    repeats.forEach((n, i) => checkInt(`repeats[${i}]`, n, 1, maximum));
    return repeats;
  }

  function closestName(name, allowed) {
    const names = allowed.slice().sort();
    for (const candidate of names) {
      if (candidate.startsWith(name) || name.startsWith(candidate)) return candidate;
    }
    let best = null, bestDistance = Math.max(1, floorDiv(name.length, 3)) + 1;
    for (const candidate of names) {
      const distance = editDistance(name, candidate);
      if (distance < bestDistance) { best = candidate; bestDistance = distance; }
    }
    return best;
  }

  function editDistance(a, b) {
    let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const current = [i];
      for (let j = 1; j <= b.length; j++) {
        current.push(Math.min(previous[j] + 1, current[j - 1] + 1,
                              previous[j - 1] + (a[i - 1] !== b[j - 1] ? 1 : 0)));
      }
      previous = current;
    }
    return previous[b.length];
  }

  function checkUnknown(kind, config, allowed) {
    const unknown = Object.keys(config).filter((k) => !allowed.includes(k)).sort();
    if (unknown.length) {
      const named = unknown.map((name) => {
        const guess = closestName(name, allowed);
        return guess === null ? name : `${name} (did you mean ${guess}?)`;
      });
      throw new TypeError(
        `${kind} got unknown setting(s) ${named.join(", ")}; allowed: ${allowed.slice().sort().join(", ")}`);
    }
  }

  // ------------------------------------------------------------------ plan.py

  const KINDS = ["densenet", "cspdensenet"];

  const DENSENET_DEFAULTS = Object.freeze({
    growth_rate: 32, repeats: Object.freeze([6, 12, 24, 16]), compression: 0.5, stem_channels: 64,
    bottleneck_width: 4, num_classes: 1000, in_channels: 3, stem: "imagenet",
  });

  const CSPDENSENET_DEFAULTS = Object.freeze({
    growth_rate: 12, repeats: Object.freeze([6, 12, 24, 16]), compression: 0.5, stem_channels: 64,
    bottleneck_width: 4, num_classes: 1000, in_channels: 3, stem: "imagenet",
    channel_pooling: 0.8, split_ratio: 0.5, fusion: "csp",
  });

  /** One step of a network: what comes out of it and what it costs (for one image). */
  function PlanRow(stage, step, channels, size, params = 0n, flops = 0n, cio = 0n) {
    return { stage, step, channels, size, params, flops, cio };
  }

  // --- the arithmetic of single pieces

  /** Channels of [part 1, part 2]: part 2 gets int(C * ratio), part 1 keeps the rest. */
  function splitSizes(channels, splitRatio = 0.5) {
    const part2 = Math.trunc(channels * splitRatio);
    return [channels - part2, part2];
  }

  /** Channels a 1x1 transition keeps: int(C * ratio). */
  function transitionChannels(channels, ratio) {
    return Math.trunc(channels * ratio);
  }

  function denseBlockChannels(inChannels, repeats, growthRate) {
    return inChannels + repeats * growthRate;
  }

  /** Spatial size after a convolution or pooling window (PyTorch's floor rule). */
  function convOutputSize(size, kernel, stride = 1, padding = 0) {
    return floorDiv(size + 2 * padding - kernel, stride) + 1;
  }

  /** [params, FLOPs, CIO] of a bias-free kernel x kernel convolution, as BigInts. */
  function convCost(cIn, cOut, kernel, sizeIn, sizeOut) {
    const weights = BigInt(cIn) * BigInt(cOut) * BigInt(kernel) * BigInt(kernel);
    return [
      weights,
      2n * weights * BigInt(sizeOut) * BigInt(sizeOut),
      BigInt(cIn) * BigInt(sizeIn) ** 2n + BigInt(cOut) * BigInt(sizeOut) ** 2n,
    ];
  }

  function bottleneckRow(stage, cIn, growthRate, width, size) {
    const inner = width * growthRate;
    const [p1, f1, io1] = convCost(cIn, inner, 1, size, size);
    const [p3, f3, io3] = convCost(inner, growthRate, 3, size, size);
    const params = 2n * BigInt(cIn) + p1 + 2n * BigInt(inner) + p3; // two batch norms, two convs
    return PlanRow(stage, "bottleneck", cIn + growthRate, size, params, f1 + f3, io1 + io3);
  }

  function transitionRow(stage, step, cIn, ratio, size, downsample) {
    const cOut = transitionChannels(cIn, ratio);
    const [params, flops, cio] = convCost(cIn, cOut, 1, size, size); // the conv runs before the pool
    return PlanRow(stage, step, cOut, downsample ? floorDiv(size, 2) : size,
      2n * BigInt(cIn) + params, flops, cio);
  }

  // --- settings

  /** Fill in defaults and validate every setting of `kind`; return the full settings. */
  function checkConfig(kind, config) {
    checkChoice("kind", kind, KINDS);
    const defaults = kind === "densenet" ? DENSENET_DEFAULTS : CSPDENSENET_DEFAULTS;
    checkUnknown(kind, config, Object.keys(defaults));
    const c = { ...defaults, ...config };
    c.growth_rate = checkInt("growth_rate", c.growth_rate, 1, 1024);
    c.repeats = checkRepeats(c.repeats);
    c.compression = checkFraction("compression", c.compression);
    c.stem_channels = checkInt("stem_channels", c.stem_channels, 1, 4096);
    c.bottleneck_width = checkInt("bottleneck_width", c.bottleneck_width, 1, 64);
    c.num_classes = checkInt("num_classes", c.num_classes, 1, 100000);
    c.in_channels = checkInt("in_channels", c.in_channels, 1, 64);
    c.stem = checkChoice("stem", c.stem, STEMS);
    if (kind === "cspdensenet") {
      c.channel_pooling = checkFraction("channel_pooling", c.channel_pooling);
      c.split_ratio = checkFraction("split_ratio", c.split_ratio, { includeOne: false });
      c.fusion = checkChoice("fusion", c.fusion, FUSIONS);
    }
    return c;
  }

  function where(row) {
    return row.stage === null ? "the stem" : `stage ${row.stage}`;
  }

  function checkChannels(row, hint) {
    if (row.channels < 1) {
      throw new ValueError(
        `these settings leave ${where(row)} with 0 channels at step ${pyRepr(row.step)}; ${hint}`);
    }
  }

  function checkSize(row, imageSize) {
    if (row.size < 1) {
      throw new ValueError(
        `image_size=${imageSize} is too small: ${where(row)} would be 0x0 pixels at step ` +
        `${pyRepr(row.step)}; use a larger image_size or fewer stages (len(repeats))`);
    }
  }

  // --- the plan

  function stemRow(c, imageSize) {
    let params, flops, cio, size;
    if (c.stem === "imagenet") {
      const convSize = convOutputSize(imageSize, 7, 2, 3);
      [params, flops, cio] = convCost(c.in_channels, c.stem_channels, 7, imageSize, convSize);
      size = convOutputSize(convSize, 3, 2, 1);
    } else {
      [params, flops, cio] = convCost(c.in_channels, c.stem_channels, 3, imageSize, imageSize);
      size = imageSize;
    }
    return PlanRow(null, "stem", c.stem_channels, size, params + 2n * BigInt(c.stem_channels), flops, cio);
  }

  function headRows(channels, numClasses) {
    const ch = BigInt(channels), n = BigInt(numClasses);
    return [
      PlanRow(null, "pool", channels, 1, 2n * ch),
      PlanRow(null, "fc", numClasses, 1, ch * n + n, 2n * ch * n),
    ];
  }

  function denseBlockRows(stage, cIn, size, c) {
    const rows = [];
    let channels = cIn;
    for (let i = 0; i < c.repeats[stage]; i++) {
      rows.push(bottleneckRow(stage, channels, c.growth_rate, c.bottleneck_width, size));
      channels = rows[rows.length - 1].channels;
    }
    const out = denseBlockChannels(cIn, c.repeats[stage], c.growth_rate);
    return rows.concat([PlanRow(stage, "dense", out, size)]);
  }

  function densenetPlan(c, imageSize) {
    let rows = [stemRow(c, imageSize)];
    const last = c.repeats.length - 1;
    for (let stage = 0; stage <= last; stage++) {
      let prev = rows[rows.length - 1];
      rows = rows.concat(denseBlockRows(stage, prev.channels, prev.size, c));
      if (stage < last) {
        prev = rows[rows.length - 1];
        rows.push(transitionRow(stage, "transition", prev.channels, c.compression, prev.size, true));
      }
    }
    return rows.concat(headRows(rows[rows.length - 1].channels, c.num_classes));
  }

  /** One cross-stage-partial stage: split, dense block on part 2, fuse by c.fusion (see plan.py). */
  function cspStageRows(stage, cIn, size, c, last) {
    const [part1, part2] = splitSizes(cIn, c.split_ratio);
    let rows = [PlanRow(stage, "part1", part1, size), PlanRow(stage, "part2", part2, size)];
    rows = rows.concat(denseBlockRows(stage, part2, size, c));
    const dense = rows[rows.length - 1];
    if (c.fusion === "csp") {
      rows.push(transitionRow(stage, "first_transition", dense.channels, c.channel_pooling, size, false));
    } else if (c.fusion === "last") {
      rows.push(transitionRow(stage, "first_transition", dense.channels, c.compression, size, !last));
    }
    const fused = rows[rows.length - 1]; // what is concatenated with part 1
    rows.push(PlanRow(stage, "concat", part1 + fused.channels, fused.size));
    if ((c.fusion === "csp" || c.fusion === "first") && !last) {
      rows.push(transitionRow(stage, "second_transition", rows[rows.length - 1].channels,
        c.compression, size, true));
    }
    return rows;
  }

  function cspdensenetPlan(c, imageSize) {
    let rows = [stemRow(c, imageSize)];
    const last = c.repeats.length - 1;
    for (let stage = 0; stage <= last; stage++) {
      const prev = rows[rows.length - 1];
      rows = rows.concat(cspStageRows(stage, prev.channels, prev.size, c, stage === last));
    }
    return rows.concat(headRows(rows[rows.length - 1].channels, c.num_classes));
  }

  /** Python's `channel_plan(kind, image_size=224, **config)`; here image_size sits in config. */
  function channelPlan(kind, config = {}) {
    const { image_size: imageSizeSetting, ...rest } = config;
    const c = checkConfig(kind, rest);
    const imageSize = checkInt("image_size", "image_size" in config ? imageSizeSetting : 224, 1, 4096);
    const rows = kind === "densenet" ? densenetPlan(c, imageSize) : cspdensenetPlan(c, imageSize);
    const hint = "raise stem_channels, growth_rate, compression or channel_pooling, or move split_ratio toward 0.5";
    for (const row of rows) {
      checkChannels(row, hint);
      checkSize(row, imageSize);
    }
    return rows;
  }

  /** Group a plan's stage rows: [{part1: row, bottleneck: [rows], dense: row, ...}, ...]. */
  function planByStage(rows) {
    const stages = [];
    for (const row of rows) {
      if (row.stage === null) continue;
      if (row.stage === stages.length) stages.push({ bottleneck: [] });
      if (row.step === "bottleneck") stages[row.stage].bottleneck.push(row);
      else stages[row.stage][row.step] = row;
    }
    return stages;
  }

  function sum(rows, key) {
    return rows.reduce((total, row) => total + row[key], 0n);
  }

  /** Parameters of the model `kind` would build with `config`; no model is built. */
  function countParams(kind, config = {}) {
    return sum(channelPlan(kind, config), "params");
  }

  /** FLOPs (2 x MACs) of one forward pass on one image_size image. */
  function countFlops(kind, config = {}) {
    return sum(channelPlan(kind, config), "flops");
  }

  /** CIO: input plus output feature-map elements summed over every convolution, one image. */
  function countCio(kind, config = {}) {
    return sum(channelPlan(kind, config), "cio");
  }

  /** The smallest image_size that survives every downsampling of these settings. */
  function minImageSize(kind, config = {}) {
    checkConfig(kind, config);
    let low = 1, high = 4096;
    while (low < high) { // the sizes only grow with image_size, so bisect
      const mid = floorDiv(low + high, 2);
      try {
        channelPlan(kind, { ...config, image_size: mid });
        high = mid;
      } catch (error) {
        if (!String(error.message).includes("image_size")) throw error;
        low = mid + 1;
      }
    }
    return low;
  }

  return {
    ValueError, KINDS, FUSIONS, STEMS, DENSENET_DEFAULTS, CSPDENSENET_DEFAULTS,
    checkInt, checkFraction, checkChoice, checkRepeats, checkUnknown, checkConfig,
    splitSizes, transitionChannels, denseBlockChannels, convOutputSize, convCost,
    bottleneckRow, transitionRow, stemRow, headRows, denseBlockRows, densenetPlan, cspStageRows,
    cspdensenetPlan, channelPlan, planByStage, countParams, countFlops, countCio, minImageSize,
    pyRepr, pyFloatRepr,
  };
});
