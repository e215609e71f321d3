"""What one benchmark run measured: a ``BenchRow`` per model, in a ``BenchResult``.

A row is a frozen dataclass; it also reads as the flat mapping the JSON file stores
(``row["latency_b16_ratio"]``, ``row["flops_ratio"]``), so a run saved by
``python -m cspnet_lib.bench --json PATH`` (and chapter 6's ``saved/06_bench_full.json``) loads
with the same numbers under the same names.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path
from typing import Any, Iterator

from .timing import Samples, paired_ratio

Spread = dict[str, float]
"""``{"median": ..., "min": ..., "max": ...}`` of a list of numbers (``timing.summarize``)."""

_PER_BATCH = re.compile(r"^latency_b(\d+)(_ratio)?$")


def _ratio(value: float | None, base: float | None) -> float | None:
    return value / base if value is not None and base else None


@dataclass(frozen=True)
class BenchRow(Mapping):
    """One model's numbers; every ``*_ratio`` is to its baseline (``None`` for a baseline).

    ``latency`` and ``latency_ratio`` hold one ``Spread`` per batch size, in seconds per forward
    pass and as the per-round ratio to the baseline; ``throughput`` is images per second and
    ``gflops_per_s`` the FLOPs achieved at the largest batch; ``train_step_bytes`` is the memory of
    one training step (``None`` if not measured), ``train_step_exact`` False if it is only an
    upper bound.
    """

    name: str
    baseline: str | None
    params: int
    flops: int
    cio: int
    latency: dict[int, Spread]
    throughput: float
    gflops_per_s: float
    train_step_bytes: int | None = None
    train_step_exact: bool | None = None
    params_ratio: float | None = None
    flops_ratio: float | None = None
    cio_ratio: float | None = None
    throughput_ratio: float | None = None
    train_step_bytes_ratio: float | None = None
    latency_ratio: dict[int, Spread | None] | None = None

    def __post_init__(self) -> None:
        if self.latency_ratio is None:  # not compared (yet): no ratio at any batch size
            object.__setattr__(self, "latency_ratio", {b: None for b in self.latency})

    def compared_with(self, base: BenchRow | None, samples: Samples) -> BenchRow:
        """This row with its ratios to ``base`` (``None``: a baseline, every ratio ``None``)."""
        if base is None:
            return self
        return replace(
            self, params_ratio=_ratio(self.params, base.params),
            flops_ratio=_ratio(self.flops, base.flops), cio_ratio=_ratio(self.cio, base.cio),
            throughput_ratio=_ratio(self.throughput, base.throughput),
            train_step_bytes_ratio=_ratio(self.train_step_bytes, base.train_step_bytes),
            latency_ratio={b: paired_ratio(samples[self.name][b], samples[base.name][b])
                           for b in self.latency})

    # --- the flat form of the JSON file ---------------------------------------------------------

    def flat(self) -> dict[str, Any]:
        """The row as the JSON file stores it: one key per number, per batch ``latency_b{b}``."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("latency", "latency_ratio"):
                suffix = "_ratio" if f.name == "latency_ratio" else ""
                out.update({f"latency_b{b}{suffix}": v for b, v in (value or {}).items()})
            else:
                out[f.name] = value
        return out

    @classmethod
    def from_flat(cls, flat: Mapping[str, Any]) -> BenchRow:
        """Read a row back from ``flat()``'s form (a saved run's JSON)."""
        latency: dict[int, Spread] = {}
        latency_ratio: dict[int, Spread | None] = {}
        rest = {}
        for key, value in flat.items():
            match = _PER_BATCH.match(key)
            if match:
                (latency_ratio if match[2] else latency)[int(match[1])] = value
            else:
                rest[key] = value
        return cls(**rest, latency=latency, latency_ratio=latency_ratio)

    def __getitem__(self, key: str) -> Any:
        return self.flat()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.flat())

    def __len__(self) -> int:
        return len(self.flat())


@dataclass
class BenchResult:
    """Everything one run measured: ``rows`` (one ``BenchRow`` per model; flat dicts are read
    as rows), raw ``samples`` in seconds, the ``settings`` and the ``machine``."""

    rows: list[BenchRow]
    samples: Samples
    settings: dict[str, Any]
    machine: dict[str, Any]

    def __post_init__(self) -> None:
        self.rows = [r if isinstance(r, BenchRow) else BenchRow.from_flat(r) for r in self.rows]

    def to_json(self) -> str:
        return json.dumps({"rows": [r.flat() for r in self.rows], "samples": self.samples,
                           "settings": self.settings, "machine": self.machine}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> BenchResult:
        d = json.loads(text)
        d["samples"] = {n: {int(b): t for b, t in s.items()} for n, s in d["samples"].items()}
        return cls(**d)


SAVED_RUN = "06_bench_full.json"   # chapter 6's full run, shipped in cspnet_lib/saved/


def saved_run(path: str | os.PathLike | None = None) -> BenchResult:
    """A saved benchmark run: the one chapter 6 shows (shipped with the package, so a Colab
    install has it too), or your own ``python -m cspnet_lib.bench --json PATH`` output."""
    if path is None:
        text = (resources.files("cspnet_lib") / "saved" / SAVED_RUN).read_text(encoding="utf-8")
    else:
        if not isinstance(path, (str, os.PathLike)) or not Path(path).is_file():
            raise ValueError(f"path must name a JSON file written by `python -m cspnet_lib.bench "
                             f"--json PATH`, got {path!r}")
        text = Path(path).read_text(encoding="utf-8")
    return BenchResult.from_json(text)
