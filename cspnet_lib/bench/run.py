"""``run_bench``: every model timed side by side, its memory measured, its ratios taken."""

from __future__ import annotations

import datetime
import os
import platform
from dataclasses import asdict
from typing import Any, Sequence

import torch

from ..plan import channel_plan, count_cio, count_flops, count_params
from ..settings import check_choice, check_int
from .memory import train_step_memory
from .models import DEFAULT_MODELS, BenchModel, resolve_models
from .result import BenchResult, BenchRow
from .timing import Samples, progress_bar, summarize, time_in_fresh_processes, time_models


def machine_info(threads: int) -> dict[str, Any]:
    """What the numbers were measured on: CPU, cores, thread count, torch, load average."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"cpu": cpu, "logical_cores": os.cpu_count(), "threads": threads,
            "torch": torch.__version__, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}",
            "load_average_1_5_15min": [round(x, 2) for x in load],
            "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M")}


def run_bench(models: Sequence[str | BenchModel] = DEFAULT_MODELS, *,
              batches: Sequence[int] = (1, 16), image_size: int = 224, rounds: int = 10,
              warmup: int = 2, processes: int = 3, threads: int | None = None,
              memory: bool = True, train_batch: int | None = None,
              progress: bool | None = None) -> BenchResult:
    """Measure ``models`` side by side (see ``timing.py`` and ``memory.py`` for the method).

    ``batches``: batch sizes timed (the largest also gives throughput and GFLOP/s);
    ``processes``: fresh processes that each run ``warmup`` and ``rounds`` rounds (0: time in
    this process instead, quicker but at the mercy of this process's luck);
    ``train_batch``: batch of the training step whose memory is measured (default: the largest
    of ``batches``); ``threads``: torch threads (default: the current ``torch.get_num_threads()``);
    ``progress``: progress bars on (True), off (False) or only on a terminal (None).
    """
    resolved = resolve_models(models)
    if isinstance(batches, int) or not batches:
        raise ValueError(f"batches must be a non-empty list of ints, got {batches!r}")
    batches = tuple(sorted({check_int("batches[i]", b, 1, 4096) for b in batches}))
    image_size = check_int("image_size", image_size, 1, 4096)
    rounds = check_int("rounds", rounds, 1, 100_000)
    warmup = check_int("warmup", warmup, 0, 100_000)
    processes = check_int("processes", processes, 0, 1000)
    threads = check_int("threads", torch.get_num_threads() if threads is None else threads, 1, 1024)
    train_batch = check_int("train_batch", batches[-1] if train_batch is None else train_batch, 1, 4096)
    for m in resolved:  # the plan says clearly if an image is too small for a model
        check_choice(f"kind of {m.name}", m.kind, ("densenet", "cspdensenet"))
        channel_plan(m.kind, image_size, **m.config)

    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        machine = machine_info(threads)
        if processes:
            samples = time_in_fresh_processes(resolved, batches, image_size, rounds, warmup,
                                              threads, processes, progress)
        else:
            torch.manual_seed(0)
            built = {m.name: m.build() for m in resolved}
            samples = time_models(built, batches, image_size, rounds, warmup, progress)
            del built
        mem: dict[str, dict[str, Any]] = {}
        if memory:
            with progress_bar(len(resolved), "memory", progress) as bar:
                for m in resolved:
                    mem[m.name] = train_step_memory(m, train_batch, image_size, threads)
                    bar.update()
        machine["load_average_after"] = machine_info(threads)["load_average_1_5_15min"]
    finally:
        torch.set_num_threads(previous_threads)

    rows = {m.name: measured_row(m, samples, mem.get(m.name), image_size) for m in resolved}
    compared = [row.compared_with(rows.get(row.baseline or ""), samples) for row in rows.values()]
    settings = {"models": [asdict(m) for m in resolved], "batches": list(batches),
                "image_size": image_size, "rounds": rounds, "warmup": warmup,
                "processes": processes, "threads": threads,
                "train_batch": train_batch if memory else None}
    return BenchResult(compared, samples, settings, machine)


def measured_row(m: BenchModel, samples: Samples, mem: dict[str, Any] | None,
                 image_size: int) -> BenchRow:
    """One model's row before the ratios: counts from the plan, timings, memory."""
    flops = count_flops(m.kind, image_size, **m.config)
    latency = {b: summarize(times) for b, times in samples[m.name].items()}
    big = max(latency)
    throughput = big / latency[big]["median"]  # images per second
    return BenchRow(name=m.name, baseline=m.baseline, params=count_params(m.kind, **m.config),
                    flops=flops, cio=count_cio(m.kind, image_size, **m.config), latency=latency,
                    throughput=throughput, gflops_per_s=flops * throughput / 1e9,
                    train_step_bytes=mem["step_bytes"] if mem else None,
                    train_step_exact=mem["peak_set_by_step"] if mem else None)
