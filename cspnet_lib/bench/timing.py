"""CPU latency, taken so that it can be trusted and repeated.

- one fixed thread count (``torch.set_num_threads``), recorded with the machine;
- every model is built once, in eval mode, and run under ``torch.inference_mode``;
- one batch size after the other: ``warmup`` untimed rounds first (oneDNN picks its kernels
  then), then ``rounds`` rounds, *interleaved*: round 1 times A, B, C, round 2 times A, B, C,
  ...; a background job that slows the machine for a while slows every model alike instead of
  one. (Interleaving batch sizes too would time a batch-1 pass right after another model's
  batch-16 pass, in a different cache and thread state; on a 2-core machine that moved
  batch-1 ratios by tens of percent depending on the order of the models.)
- all of that in ``processes`` fresh Python processes one after another (3 by default), the
  order of the models rotated from one to the next, and the rounds pooled: a process can be
  slow or fast for its whole life (memory layout, kernel choice, the machine's mood), and one
  process per measurement would hand that luck to whichever model it happened to favour;
- each latency is reported as the median over all rounds with its min-max, and each ratio to the
  baseline as the median of the per-round ratios (model and baseline timed in the same round of
  the same process).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict
from typing import Any, Callable, Sequence

import torch
from torch import nn

from .child import run_child
from .models import BenchModel

Samples = dict[str, dict[int, list[float]]]
"""Seconds per forward pass: ``{model name: {batch size: [one time per round]}}``."""


def progress_bar(total: int, desc: str, enabled: bool | None):
    """A tqdm bar of ``total`` steps; ``enabled=None``: shown only when stderr is a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, disable=None if enabled is None else not enabled,
                leave=False, dynamic_ncols=True)


def time_models(models: dict[str, nn.Module], batches: Sequence[int], image_size: int, rounds: int,
                warmup: int, progress: bool | None = None,
                on_step: Callable[[], None] | None = None) -> Samples:
    """Seconds per forward pass in this process: ``{name: {batch: [one time per round]}}``.

    Batch sizes are timed one after the other, each after its own ``warmup`` rounds; rounds
    are interleaved in the order of ``models``. Inputs are (batch, in_channels, image_size,
    image_size) from a seeded generator. ``on_step`` is called after every pass.
    """
    gen = torch.Generator().manual_seed(0)
    inputs = {b: {n: torch.randn(b, getattr(m, "in_channels", 3), image_size, image_size,
                                 generator=gen) for n, m in models.items()} for b in batches}
    times: Samples = {n: {b: [] for b in batches} for n in models}
    for m in models.values():
        m.eval()
    bar = progress_bar((warmup + rounds) * len(batches) * len(models), "timing", progress)
    with torch.inference_mode(), bar:
        for b in batches:  # one batch size after the other, each with its own warm-up
            for r in range(warmup + rounds):
                for n, m in models.items():  # A B C, A B C, ...
                    start = time.perf_counter()
                    m(inputs[b][n])
                    if r >= warmup:
                        times[n][b].append(time.perf_counter() - start)
                    bar.update()
                    if on_step:
                        on_step()
    return times


def timing_job(task: dict[str, Any], on_step: Callable[[], None]) -> Samples:
    """The child's side of ``time_in_fresh_processes``: build the models, time them."""
    built = {m["name"]: BenchModel(**m).build() for m in task["models"]}
    return time_models(built, task["batches"], task["image_size"], task["rounds"], task["warmup"],
                       progress=False, on_step=on_step)


def time_in_fresh_processes(models: Sequence[BenchModel], batches: Sequence[int], image_size: int,
                            rounds: int, warmup: int, threads: int, processes: int,
                            progress: bool | None = None) -> Samples:
    """``time_models`` in ``processes`` fresh Python processes, one after the other, pooled.

    A process can be unlucky for its whole life (where its buffers landed in memory, which
    kernels were picked, what the machine was doing), which interleaving within it cannot undo.
    Several processes, with the order of the models rotated from one to the next, spread that
    luck over all models. Per-round ratios stay paired: round r of process p of every model.
    """
    steps = (warmup + rounds) * len(batches) * len(models)
    pooled: Samples = {m.name: {b: [] for b in batches} for m in models}
    with progress_bar(steps * processes, "timing", progress) as bar:
        for p in range(processes):
            order = list(models[p % len(models):]) + list(models[:p % len(models)])
            task = {"models": [asdict(m) for m in order], "batches": list(batches),
                    "image_size": image_size, "rounds": rounds, "warmup": warmup}
            samples = run_child("timing", task, threads, f"timing process {p + 1}", bar.update)
            for name, per_batch in samples.items():
                for b, times in per_batch.items():
                    pooled[name][int(b)] += times
    return pooled


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """Median, min and max of a list of numbers."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def paired_ratio(samples: Sequence[float], baseline: Sequence[float]) -> dict[str, float]:
    """Median (and min-max) of the per-round ratios ``samples[r] / baseline[r]``."""
    return summarize([a / b for a, b in zip(samples, baseline)])
