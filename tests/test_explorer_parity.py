"""The book's JavaScript explorer computes what Python computes.

``book/explorer/plan.js`` is a line-by-line port of ``cspnet_lib/plan.py``. Here both run over
the same few thousand random settings (seeded; valid ones, and invalid ones of every kind): where
Python raises, JavaScript must raise the same error with the same sentence; where Python returns a
plan, JavaScript must return the same rows, and the same totals, to the last digit. All settings
go through one Node process (reads JSON on stdin, writes JSON on stdout).
"""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cspnet_lib.plan import channel_plan, count_cio, count_flops, count_params, min_image_size

ROOT = Path(__file__).resolve().parents[1]
PLAN_JS = ROOT / "book" / "explorer" / "plan.js"
N_SETTINGS = 3000
SEED = 20191119  # CSPNet's arXiv date

# Reads [{kind, config, min}, ...] on stdin; writes one result per entry. BigInts leave as strings.
RUNNER = r"""
const plan = require(process.env.PLAN_JS);
const attempt = (f) => {
  try { return { value: f() }; } catch (e) { return { error: [e.name, e.message] }; }
};
let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const results = JSON.parse(input).map(({ kind, config, min }) => {
    const rows = attempt(() => plan.channelPlan(kind, config).map(
      (r) => [r.stage, r.step, r.channels, r.size, r.params, r.flops, r.cio]));
    if (rows.error) return { error: rows.error };
    const { image_size, ...rest } = config;
    return {
      rows: rows.value,
      params: plan.countParams(kind, config),
      flops: plan.countFlops(kind, config),
      cio: plan.countCio(kind, config),
      min_image_size: min ? plan.minImageSize(kind, rest) : null,
    };
  });
  process.stdout.write(JSON.stringify(results, (k, v) => (typeof v === "bigint" ? v.toString() : v)));
});
"""

CSP_ONLY = ("channel_pooling", "split_ratio", "fusion")


def _int_setting(rng: random.Random, low: int, high: int, edges: tuple[int, int]) -> Any:
    """Mostly an int in [low, high]; sometimes a bound, just past one, or a wrong type."""
    r = rng.random()
    if r < 0.97:
        return rng.randint(low, high)
    if r < 0.985:
        return rng.choice([edges[0], edges[1], edges[0] - 1, edges[1] + 1, -rng.randint(1, 50)])
    # Wrong types JSON can carry faithfully (an integral float would arrive in JS as an int).
    return rng.choice([rng.randint(1, 50) + 0.5, True, False, None, "12", [12]])


def _fraction(rng: random.Random) -> Any:
    r = rng.random()
    if r < 0.80:  # slider-like values and arbitrary doubles
        return rng.choice([round(rng.uniform(0, 1), rng.choice([1, 2, 3])), rng.uniform(0, 1)])
    if r < 0.95:
        return rng.choice([0, 0.0, 1, 1.0, 1e-5, 0.999999, -0.25, 1.5, 1e-300, 2])
    return rng.choice(["0.5", True, None, [0.5]])


def _repeats(rng: random.Random) -> Any:
    r = rng.random()
    if r < 0.90:
        return [rng.randint(1, rng.choice([4, 24, 64])) for _ in range(rng.randint(1, 5))]
    if r < 0.97:
        return rng.choice([[], list(range(1, 10)), [6, 0, 24], [6, 129], [128] * 2, [6, 12.5]])
    return rng.choice([6, "6,12", None, {"6": 1}])


def random_settings(rng: random.Random) -> tuple[str, dict[str, Any]]:
    """One random (kind, config) for channel_plan; about half of them valid."""
    kind = "densenet" if rng.random() < 0.4 else "cspdensenet"
    if rng.random() < 0.01:
        kind = rng.choice(["DenseNet", "resnet"])
    makers = {
        "growth_rate": lambda: _int_setting(rng, 1, 64, (1, 1024)),
        "repeats": lambda: _repeats(rng),
        "compression": lambda: _fraction(rng),
        "stem_channels": lambda: _int_setting(rng, 1, 128, (1, 4096)),
        "bottleneck_width": lambda: _int_setting(rng, 1, 8, (1, 64)),
        "num_classes": lambda: _int_setting(rng, 1, 2000, (1, 100_000)),
        "in_channels": lambda: _int_setting(rng, 1, 4, (1, 64)),
        "stem": lambda: rng.choice(["imagenet"] * 8 + ["small"] * 4 + ["ImageNet"]),
        "image_size": lambda: (
            rng.randint(1, 4096) if rng.random() < 0.03 else _int_setting(rng, 1, 320, (1, 4096))
        ),
        "channel_pooling": lambda: _fraction(rng),
        "split_ratio": lambda: _fraction(rng),
        "fusion": lambda: rng.choice(["csp", "first", "last"] * 5 + ["fuse", None]),
    }
    if rng.random() < 0.02:  # huge networks: costs beyond 2**53, exact only with BigInt in JS
        return kind, {
            "growth_rate": rng.randint(256, 1024), "bottleneck_width": rng.randint(16, 64),
            "repeats": [rng.randint(16, 128) for _ in range(rng.randint(1, 3))],
            "image_size": rng.randint(512, 4096), "stem_channels": rng.randint(64, 4096),
        }
    config = {}
    for name, make in makers.items():
        if name in CSP_ONLY and kind == "densenet" and rng.random() < 0.97:
            continue  # DenseNet takes no CSP settings (passing one must raise, sometimes we do)
        if rng.random() < 0.75:
            config[name] = make()
    if rng.random() < 0.02:  # a typo: an unknown setting, with or without a likely meaning
        config[rng.choice(["growth", "fusoin", "compresion", "stem_channel", "xyz"])] = 12
    return kind, config


def python_result(kind: str, config: dict[str, Any], with_min: bool) -> dict[str, Any]:
    try:
        rows = channel_plan(kind, **config)
    except (ValueError, TypeError) as error:
        # the builtin kind (ImageTooSmall is a ValueError): what plan.js throws
        kind = next(c for c in type(error).__mro__ if c.__module__ == "builtins")
        return {"error": [kind.__name__, str(error)]}
    rest = {k: v for k, v in config.items() if k != "image_size"}
    return {
        "rows": [[r.stage, r.step, r.channels, r.size, r.params, r.flops, r.cio] for r in rows],
        "params": count_params(kind, **config),
        "flops": count_flops(kind, **config),
        "cio": count_cio(kind, **config),
        "min_image_size": min_image_size(kind, **rest) if with_min else None,
    }


def js_results(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed")
    done = subprocess.run(
        [node, "-e", RUNNER], input=json.dumps(cases), capture_output=True, text=True,
        env={**os.environ, "PLAN_JS": str(PLAN_JS)}, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    for result in results:  # BigInts came as decimal strings
        for row in result.get("rows", []):
            row[4:] = [int(v) for v in row[4:]]
        for key in ("params", "flops", "cio"):
            if key in result:
                result[key] = int(result[key])
    return results


@pytest.fixture(scope="module")
def compared() -> list[tuple[dict, dict, dict]]:
    rng = random.Random(SEED)
    cases = []
    for i in range(N_SETTINGS):
        kind, config = random_settings(rng)
        # The JSON round trip must not change what Python sees (ints stay ints, floats floats).
        assert json.loads(json.dumps(config)) == config
        cases.append({"kind": kind, "config": config, "min": i % 5 == 0})
    expected = [python_result(c["kind"], c["config"], c["min"]) for c in cases]
    return list(zip(cases, expected, js_results(cases)))


def test_plan_js_agrees_with_python_on_random_settings(compared) -> None:
    mismatches = [(case, py, js) for case, py, js in compared if py != js]
    assert not mismatches, (
        f"{len(mismatches)} of {len(compared)} settings differ; first: {mismatches[0][0]}\n"
        f"Python: {str(mismatches[0][1])[:600]}\nJS:     {str(mismatches[0][2])[:600]}"
    )


def test_random_settings_cover_every_outcome(compared) -> None:
    """The comparison means something only if it saw plans and each kind of rejection."""
    outcomes = collections.Counter()
    for _case, py, _js in compared:
        if "error" not in py:
            outcomes["valid"] += 1
            outcomes["fusion " + str(_case["config"].get("fusion", "default"))] += 1
            outcomes["beyond 2**53 FLOPs"] += py["flops"] > 2**53
            continue
        kind, message = py["error"]
        if "0 channels" in message:
            outcomes["zero channels"] += 1
        elif "too small" in message:
            outcomes["image too small"] += 1
        else:
            outcomes[kind] += 1
    assert len(compared) >= 1000
    assert outcomes["valid"] >= 0.3 * len(compared), outcomes
    for outcome in ("zero channels", "image too small", "ValueError", "TypeError",
                    "fusion csp", "fusion first", "fusion last", "beyond 2**53 FLOPs"):
        assert outcomes[outcome] >= 10, (outcome, outcomes)


def test_plan_js_reference_numbers() -> None:
    """The published numbers (facts.md), straight from JavaScript."""
    script = (
        "const p = require(process.env.PLAN_JS);"
        "console.log(JSON.stringify([p.countParams('densenet', {}), p.countFlops('densenet', {}),"
        " p.countParams('cspdensenet', {}), p.countFlops('cspdensenet', {})].map(String)));"
    )
    node = shutil.which("node") or pytest.skip("Node.js is not installed")
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "PLAN_JS": str(PLAN_JS)}).stdout
    assert json.loads(out) == ["7978856", "5668323328", "1275642", "1087869224"]


def test_plan_js_defaults_are_the_config_dataclasses() -> None:
    """plan.js writes each family's defaults once more; they must be config.py's, key for key,
    in the same order."""
    from dataclasses import asdict

    from cspnet_lib.config import CSPDenseNetConfig, DenseNetConfig

    script = ("const p = require(process.env.PLAN_JS);"
              "console.log(JSON.stringify([p.DENSENET_DEFAULTS, p.CSPDENSENET_DEFAULTS]));")
    node = shutil.which("node") or pytest.skip("Node.js is not installed")
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True,
                         env={**os.environ, "PLAN_JS": str(PLAN_JS)}).stdout
    python = [asdict(DenseNetConfig()), asdict(CSPDenseNetConfig())]
    assert json.loads(out) == json.loads(json.dumps(python))   # tuples read back as lists
    assert [list(d) for d in json.loads(out)] == [list(d) for d in python]
