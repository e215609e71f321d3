"""Peak memory of one training step, measured in a fresh Python process per model.

No model inherits another's allocations: the child builds the model and a batch, resets the
kernel's record of its peak resident set size (RSS; Linux's ``VmHWM``, reset through
``/proc/self/clear_refs``), runs one forward and backward pass in train mode, and reads the peak
again. The step's memory is that peak minus the RSS before the step: activations saved for the
backward pass, gradients and temporary buffers, as the operating system sees them. Where the
peak cannot be reset (not Linux), ``getrusage``'s lifetime peak is used instead; if the step did
not raise it, the number is only an upper bound (``peak_set_by_step`` is False).
"""

from __future__ import annotations

import gc
import sys
from dataclasses import asdict
from typing import Any, Callable

import torch
from torch import nn

from .child import run_child
from .models import BenchModel


def _status_bytes(field: str) -> int | None:
    """A memory line of /proc/self/status (Linux), e.g. ``VmRSS`` or ``VmHWM``, in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            line = next(x for x in f if x.startswith(field + ":"))
        return int(line.split()[1]) * 1024  # the kernel reports kB
    except (OSError, StopIteration, ValueError):
        return None


def _reset_peak() -> bool:
    """Reset this process's peak RSS (``VmHWM``) to its current RSS; False where unsupported."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # Linux >= 4.0: "5" resets the peak resident set size
        return True
    except OSError:
        return False


def _peak_rss_bytes() -> int:
    """``VmHWM`` on Linux; elsewhere ``getrusage``'s ``ru_maxrss``, which counts the whole
    life of the process (and on Linux even the parent's memory at fork time)."""
    peak = _status_bytes("VmHWM")
    if peak is not None:
        return peak
    import resource  # Unix only

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # macOS reports bytes, Linux KiB


def train_step_memory_here(model: BenchModel, batch: int, image_size: int,
                           threads: int) -> dict[str, Any]:
    """In *this* process: memory of one forward and backward pass (train mode), in bytes.

    Meant to run in a fresh process (see ``train_step_memory``). On Linux the kernel's peak
    RSS is reset just before the step, so the peak read after it is the step's own. The kernel
    syncs its per-thread page counters lazily, so the peak can read a few pages below the memory
    before the step; it is taken as at least that, and a step that needs no new memory reads 0."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = model.build().train()
    x = torch.randn(batch, net.in_channels, image_size, image_size)
    y = torch.randint(0, model.config.get("num_classes", 1000), (batch,))
    gc.collect()
    reset = _reset_peak()
    peak_before = _peak_rss_bytes()
    before = _status_bytes("VmRSS") or peak_before
    nn.functional.cross_entropy(net(x), y).backward()
    peak = max(_peak_rss_bytes(), before)  # the peak can read a few pages behind VmRSS
    return {"step_bytes": peak - before, "peak_bytes": peak, "before_bytes": before,
            "peak_set_by_step": reset or peak > peak_before}


def memory_job(task: dict[str, Any], on_step: Callable[[], None]) -> dict[str, Any]:
    """The child's side of ``train_step_memory``."""
    return train_step_memory_here(BenchModel(**task["model"]), task["batch"], task["image_size"],
                                  task["threads"])


def train_step_memory(model: BenchModel, batch: int, image_size: int,
                      threads: int) -> dict[str, Any]:
    """``train_step_memory_here`` run in a fresh Python process; returns its result."""
    task = {"model": asdict(model), "batch": batch, "image_size": image_size}
    return run_child("memory", task, threads, f"the memory measurement of {model.name}")
