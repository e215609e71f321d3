"""``python -m cspnet_lib.bench``: DenseNet and CSPDenseNet side by side, measured honestly.

One table, one row per model: parameters, FLOPs and CIO (from the closed form in ``plan.py``),
CPU latency at each batch size, throughput, achieved GFLOP/s, and the peak memory of one training
step. Each CSP model is compared with the DenseNet of the same growth rate (its *baseline*).

How the timings are taken, so that they can be trusted and repeated:

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

Peak training memory is measured in a *fresh* Python process per model (``subprocess`` running
``sys.executable``), so no model inherits another's allocations: the child builds the model and a
batch, resets the kernel's record of its peak resident set size (RSS; Linux's ``VmHWM``, reset
through ``/proc/self/clear_refs``), runs one forward and backward pass in train mode, and reads
the peak again. The step's memory is that peak minus the RSS before the step: activations saved
for the backward pass, gradients and temporary buffers, as the operating system sees them.
Where the peak cannot be reset (not Linux), ``getrusage``'s lifetime peak is used instead; if
the step did not raise it, the number is only an upper bound and the table marks it ``<=``.

Run ``python -m cspnet_lib.bench --help`` for the options.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from .cspdensenet import CSPDenseNet
from .densenet import DenseNet
from .plan import channel_plan, count_cio, count_flops, count_params
from .settings import check_choice, check_int


@dataclass(frozen=True)
class BenchModel:
    """A model to benchmark: ``kind`` and ``config`` as ``channel_plan`` takes them, and the name
    of the model it is compared with (``None`` for a baseline)."""

    name: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None

    def build(self) -> nn.Module:
        """The model, built from the plan (random weights; timings do not depend on them)."""
        return DenseNet(**self.config) if self.kind == "densenet" else CSPDenseNet(**self.config)


def _csp(name: str, growth: int, fusion: str, baseline: str) -> BenchModel:
    return BenchModel(name, "cspdensenet", {"growth_rate": growth, "fusion": fusion}, baseline)


MODELS: dict[str, BenchModel] = {m.name: m for m in [
    BenchModel("densenet121", "densenet", {"growth_rate": 32}),
    _csp("cspdensenet-k32", 32, "csp", "densenet121"),
    _csp("cspdensenet-k32-first", 32, "first", "densenet121"),
    _csp("cspdensenet-k32-last", 32, "last", "densenet121"),
    BenchModel("densenet-k12", "densenet", {"growth_rate": 12}),
    _csp("cspdensenet-k12", 12, "csp", "densenet-k12"),
    _csp("cspdensenet-k12-first", 12, "first", "densenet-k12"),
    _csp("cspdensenet-k12-last", 12, "last", "densenet-k12"),
]}
"""Every model the command knows. ``-k32`` models have DenseNet-121's growth rate 32 and blocks
(6, 12, 24, 16); ``-k12`` is the reference configuration (growth 12) of the book."""

DEFAULT_MODELS = ("densenet121", "cspdensenet-k32", "cspdensenet-k32-first", "cspdensenet-k32-last",
                  "densenet-k12", "cspdensenet-k12")

COLUMNS = ("model", "baseline", "params", "GFLOPs", "CIO (M)", "latency", "throughput", "GFLOP/s",
           "train step")
"""The table's column groups (the latency group repeats per batch size)."""


# --- the machine ------------------------------------------------------------------------------

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


# --- timing -----------------------------------------------------------------------------------

def _progress(total: int, desc: str, enabled: bool | None):
    from tqdm import tqdm  # enabled=None: shown only when stderr is a terminal

    return tqdm(total=total, desc=desc, disable=None if enabled is None else not enabled,
                leave=False, dynamic_ncols=True)


def time_models(models: dict[str, nn.Module], batches: Sequence[int], image_size: int, rounds: int,
                warmup: int, progress: bool | None = None,
                on_step: Callable[[], None] | None = None) -> dict[str, dict[int, list[float]]]:
    """Seconds per forward pass in this process: ``{name: {batch: [one time per round]}}``.

    Batch sizes are timed one after the other, each after its own ``warmup`` rounds; rounds
    are interleaved in the order of ``models``. Inputs are (batch, in_channels, image_size,
    image_size) from a seeded generator. ``on_step`` is called after every pass.
    """
    gen = torch.Generator().manual_seed(0)
    inputs = {b: {n: torch.randn(b, getattr(m, "in_channels", 3), image_size, image_size,
                                 generator=gen) for n, m in models.items()} for b in batches}
    times: dict[str, dict[int, list[float]]] = {n: {b: [] for b in batches} for n in models}
    for m in models.values():
        m.eval()
    bar = _progress((warmup + rounds) * len(batches) * len(models), "timing", progress)
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


def _timing_child() -> None:
    """Entry point of a fresh timing process (see ``time_in_fresh_processes``)."""
    a = json.loads(sys.argv[1])
    torch.set_num_threads(a["threads"])
    torch.manual_seed(0)
    built = {m["name"]: BenchModel(**m).build() for m in a["models"]}
    samples = time_models(built, a["batches"], a["image_size"], a["rounds"], a["warmup"],
                          progress=False, on_step=lambda: print("step", flush=True))
    print(json.dumps(samples), flush=True)


def time_in_fresh_processes(models: Sequence[BenchModel], batches: Sequence[int], image_size: int,
                            rounds: int, warmup: int, threads: int, processes: int,
                            progress: bool | None = None) -> dict[str, dict[int, list[float]]]:
    """``time_models`` in ``processes`` fresh Python processes, one after the other, pooled.

    A process can be unlucky for its whole life (where its buffers landed in memory, which
    kernels were picked, what the machine was doing), which interleaving within it cannot undo.
    Several processes, with the order of the models rotated from one to the next, spread that
    luck over all models. Per-round ratios stay paired: round r of process p of every model.
    """
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    steps = (warmup + rounds) * len(batches) * len(models)
    pooled: dict[str, dict[int, list[float]]] = {m.name: {b: [] for b in batches} for m in models}
    with _progress(steps * processes, "timing", progress) as bar:
        for p in range(processes):
            order = list(models[p % len(models):]) + list(models[:p % len(models)])
            arg = json.dumps({"models": [asdict(m) for m in order], "batches": list(batches),
                              "image_size": image_size, "rounds": rounds, "warmup": warmup,
                              "threads": threads})
            code = "from cspnet_lib.bench import _timing_child\n_timing_child()\n"
            with tempfile.TemporaryFile("w+") as err:
                child = subprocess.Popen([sys.executable, "-c", code, arg], stdout=subprocess.PIPE,
                                         stderr=err, text=True, env=env)
                last = ""
                for line in child.stdout:  # one "step" line per timed or warm-up pass
                    if line.strip() == "step":
                        bar.update()
                    else:
                        last = line
                if child.wait() != 0:
                    err.seek(0)
                    raise RuntimeError(f"timing process {p + 1} failed:\n{err.read()[-2000:]}")
            for name, per_batch in json.loads(last).items():
                for b, times in per_batch.items():
                    pooled[name][int(b)] += times
    return pooled


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """Median, min and max of a list of numbers."""
    return {"median": statistics.median(samples), "min": min(samples), "max": max(samples)}


def paired_ratio(samples: Sequence[float], baseline: Sequence[float]) -> dict[str, float]:
    """Median (and min-max) of the per-round ratios ``samples[r] / baseline[r]``."""
    return summarize([a / b for a, b in zip(samples, baseline)])


# --- peak training memory in a fresh process --------------------------------------------------

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
    RSS is reset just before the step, so the peak read after it is the step's own."""
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
    peak = _peak_rss_bytes()
    return {"step_bytes": peak - before, "peak_bytes": peak, "before_bytes": before,
            "peak_set_by_step": reset or peak > peak_before}


def train_step_memory(model: BenchModel, batch: int, image_size: int,
                      threads: int) -> dict[str, Any]:
    """``train_step_memory_here`` run in a fresh Python process; returns its result."""
    code = ("import json, sys\n"
            "from cspnet_lib.bench import BenchModel, train_step_memory_here\n"
            "a = json.loads(sys.argv[1])\n"
            "print(json.dumps(train_step_memory_here(BenchModel(**a['model']), a['batch'], "
            "a['image_size'], a['threads'])))\n")
    arg = json.dumps({"model": asdict(model), "batch": batch, "image_size": image_size,
                      "threads": threads})
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    done = subprocess.run([sys.executable, "-c", code, arg], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"the memory measurement of {model.name} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def saved_activation_bytes(model: nn.Module, x: Tensor) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of ``model(x)`` in train mode.

    Every tensor a layer saves for its gradient (inputs of convolutions, batch norms, the
    concatenations a dense block feeds them, ...) is seen through
    ``torch.autograd.graph.saved_tensors_hooks``; each storage counts once and the parameters not
    at all. Unlike the RSS measured by ``train_step_memory``, this does not depend on the memory
    allocator or the machine: it is the activation memory that training must hold.
    """
    if not isinstance(model, nn.Module) or not isinstance(x, Tensor):
        raise TypeError("saved_activation_bytes takes a torch.nn.Module and a Tensor")
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    was_training = model.training
    model.train()
    try:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            model(x)
    finally:
        model.train(was_training)
    return sum(storages.values())


# --- the whole benchmark ----------------------------------------------------------------------

@dataclass
class BenchResult:
    """Everything one run measured: ``rows`` (one dict per model), raw ``samples`` in seconds,
    the ``settings`` and the ``machine``."""

    rows: list[dict[str, Any]]
    samples: dict[str, dict[int, list[float]]]
    settings: dict[str, Any]
    machine: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> "BenchResult":
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


def _resolve(models: Sequence[str | BenchModel]) -> list[BenchModel]:
    """Look names up in ``MODELS`` and add any missing baseline in front of its first user."""
    if isinstance(models, (str, BenchModel)) or not models:
        raise ValueError(f"models must be a non-empty list of names or BenchModels, got {models!r}")
    picked = [m if isinstance(m, BenchModel) else MODELS[check_choice("model", m, tuple(MODELS))]
              for m in models]
    names = {m.name for m in picked}
    if len(names) != len(picked):
        raise ValueError(f"models must not repeat a name, got {[m.name for m in picked]}")
    out: list[BenchModel] = []
    for m in picked:
        if m.baseline is not None and m.baseline not in names:
            if m.baseline not in MODELS:
                raise ValueError(f"model {m.name!r} has baseline {m.baseline!r}, which is neither "
                                 f"among the models nor one of {', '.join(MODELS)}")
            out.append(MODELS[m.baseline])
            names.add(m.baseline)
        out.append(m)
    return out


def run_bench(models: Sequence[str | BenchModel] = DEFAULT_MODELS, *,
              batches: Sequence[int] = (1, 16), image_size: int = 224, rounds: int = 10,
              warmup: int = 2, processes: int = 3, threads: int | None = None,
              memory: bool = True, train_batch: int | None = None,
              progress: bool | None = None) -> BenchResult:
    """Measure ``models`` side by side (see the module docstring for the method).

    ``batches``: batch sizes timed (the largest also gives throughput and GFLOP/s);
    ``processes``: fresh processes that each run ``warmup`` and ``rounds`` rounds (0: time in
    this process instead, quicker but at the mercy of this process's luck);
    ``train_batch``: batch of the training step whose memory is measured (default: the largest
    of ``batches``); ``threads``: torch threads (default: the current ``torch.get_num_threads()``);
    ``progress``: progress bars on (True), off (False) or only on a terminal (None).
    """
    resolved = _resolve(models)
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
            with _progress(len(resolved), "memory", progress) as bar:
                for m in resolved:
                    mem[m.name] = train_step_memory(m, train_batch, image_size, threads)
                    bar.update()
        machine["load_average_after"] = machine_info(threads)["load_average_1_5_15min"]
    finally:
        torch.set_num_threads(previous_threads)

    rows = [_row(m, samples, mem.get(m.name), image_size, batches) for m in resolved]
    for row in rows:  # ratios to the baseline
        base = next((r for r in rows if r["name"] == row["baseline"]), None)
        for key in ("params", "flops", "cio", "throughput", "train_step_bytes"):
            ok = base is not None and row.get(key) is not None and base.get(key)
            row[f"{key}_ratio"] = row[key] / base[key] if ok else None
        for b in batches:
            row[f"latency_b{b}_ratio"] = None if base is None else paired_ratio(
                samples[row["name"]][b], samples[base["name"]][b])
    settings = {"models": [asdict(m) for m in resolved], "batches": list(batches),
                "image_size": image_size, "rounds": rounds, "warmup": warmup,
                "processes": processes, "threads": threads,
                "train_batch": train_batch if memory else None}
    return BenchResult(rows, samples, settings, machine)


def _row(m: BenchModel, samples: dict, mem: dict | None, image_size: int,
         batches: tuple[int, ...]) -> dict[str, Any]:
    flops = count_flops(m.kind, image_size, **m.config)
    row: dict[str, Any] = {"name": m.name, "baseline": m.baseline,
                           "params": count_params(m.kind, **m.config), "flops": flops,
                           "cio": count_cio(m.kind, image_size, **m.config)}
    for b in batches:
        row[f"latency_b{b}"] = summarize(samples[m.name][b])
    big = batches[-1]
    row["throughput"] = big / row[f"latency_b{big}"]["median"]  # images per second
    row["gflops_per_s"] = flops * row["throughput"] / 1e9
    row["train_step_bytes"] = mem["step_bytes"] if mem else None
    row["train_step_exact"] = mem["peak_set_by_step"] if mem else None
    return row


# --- the table and the chart ------------------------------------------------------------------

def _ratio(r: float | dict | None) -> str:
    if r is None:
        return "-"
    return f"x{(r['median'] if isinstance(r, dict) else r):.2f}"


def _ratio_sign(r: float | dict | None) -> str:
    return "-" if r is None else "\u00d7" + _ratio(r)[1:]


def table_rows(result: BenchResult) -> tuple[list[str], list[list[str]]]:
    """The table as header and rows of strings (timings in ms, median [min-max])."""
    batches = result.settings["batches"]
    big = batches[-1]
    header = ["model", "baseline", "params", "x", "GFLOPs", "x", "CIO (M)", "x"]
    for b in batches:
        header += [f"latency b{b} ms [min-max]", "x"]
    header += [f"throughput b{big} img/s", "x", "GFLOP/s"]
    tb = result.settings.get("train_batch")
    header += [f"train step b{tb} MB" if tb else "train step MB", "x"]
    body = []
    for r in result.rows:
        line = [r["name"], r["baseline"] or "-", f"{r['params']:,}", _ratio(r["params_ratio"]),
                f"{r['flops'] / 1e9:.3f}", _ratio(r["flops_ratio"]), f"{r['cio'] / 1e6:.2f}",
                _ratio(r["cio_ratio"])]
        for b in batches:
            t = {k: v * 1e3 for k, v in r[f"latency_b{b}"].items()}
            line += [f"{t['median']:.1f} [{t['min']:.1f}-{t['max']:.1f}]",
                     _ratio(r[f"latency_b{b}_ratio"])]
        line += [f"{r['throughput']:.1f}", _ratio(r["throughput_ratio"]), f"{r['gflops_per_s']:.1f}"]
        if r["train_step_bytes"] is None:
            line += ["-", "-"]
        else:
            mark = "" if r["train_step_exact"] else "<="
            line += [f"{mark}{r['train_step_bytes'] / 2**20:,.0f}", _ratio(r["train_step_bytes_ratio"])]
        body.append(line)
    return header, body


def _times(r: dict[str, Any], b: int) -> tuple[str, str]:
    t = {k: v * 1e3 for k, v in r[f"latency_b{b}"].items()}
    return f"{t['median']:.1f}", f"({t['min']:.1f}\u2013{t['max']:.1f})"


def _model_cell(r: dict[str, Any]) -> str | tuple[str, str]:
    return r["name"] if r["baseline"] else (r["name"], "(baseline)")


def tables_by_question(result: BenchResult) -> dict[str, tuple[list[str], list[list[Any]]]]:
    """The side-by-side table cut into narrow tables, one per question, for a page's column.

    ``"counts"``: parameters, GFLOPs, CIO; ``"latency"``: median ms per batch size (min-max on a
    second line), ratios to the baseline, the FLOPs ratio beside them, achieved GFLOP/s;
    ``"memory"``: the training step's memory (only if it was measured). Each value is
    ``(header, rows)``; a cell is a string or a tuple of lines. ``×`` is the ratio to the
    model's baseline (the DenseNet of the same growth rate).
    """
    rows, batches = result.rows, result.settings["batches"]
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    tables["counts"] = (
        ["model", "parameters", "\u00d7", "GFLOPs", "\u00d7", "CIO (M)", "\u00d7"],
        [[_model_cell(r), f"{r['params']:,}", _ratio_sign(r["params_ratio"]), f"{r['flops'] / 1e9:.3f}",
          _ratio_sign(r["flops_ratio"]), f"{r['cio'] / 1e6:.2f}", _ratio_sign(r["cio_ratio"])]
         for r in rows])
    header = ["model"]
    for b in batches:
        header += [f"batch {b}: ms, median (min\u2013max)", "\u00d7"]
    header += ["FLOPs \u00d7", f"GFLOP/s at batch {batches[-1]}"]
    body = []
    for r in rows:
        line: list[Any] = [_model_cell(r)]
        for b in batches:
            line += [_times(r, b), _ratio_sign(r[f"latency_b{b}_ratio"])]
        line += [_ratio_sign(r["flops_ratio"]), f"{r['gflops_per_s']:.1f}"]
        body.append(line)
    tables["latency"] = (header, body)
    tb = result.settings.get("train_batch")
    if tb and any(r["train_step_bytes"] is not None for r in rows):
        body = []
        for r in rows:
            mark = "" if r["train_step_exact"] else "<="
            body.append([_model_cell(r), f"{mark}{r['train_step_bytes'] / 2**20:,.0f}",
                         _ratio_sign(r["train_step_bytes_ratio"])])
        tables["memory"] = (["model", f"training step at batch {tb}, MB", "\u00d7"], body)
    return tables


def table_note(result: BenchResult) -> str:
    """The line under the table: the machine, the thread count, the method."""
    m, s = result.machine, result.settings
    load = f"load average {m['load_average_1_5_15min'][0]} at the start"
    if "load_average_after" in m:
        load += f", {m['load_average_after'][0]} at the end"
    n = s.get("processes", 0)
    where = f"{n} fresh process{'es' if n > 1 else ''} x" if n else "in one process,"
    threads = f"{m['threads']} torch thread{'s' if m['threads'] > 1 else ''}"
    return (f"{m['cpu']}, {m['logical_cores']} logical cores, {threads}, "
            f"torch {m['torch']}, Python {m['python']}, {load}; "
            f"image {s['image_size']}x{s['image_size']}, {where} {s['rounds']} interleaved rounds "
            f"after {s['warmup']} warm-up; x = ratio to the baseline (timings: median of per-round "
            f"ratios)")


def format_table(result: BenchResult, markdown: bool = False) -> str:
    """The side-by-side table as aligned text (or a Markdown table), with the machine below."""
    header, body = table_rows(result)
    note = table_note(result)
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(row) + " |" for row in body]
        return "\n".join(lines) + "\n\n" + note
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    fmt = lambda row: "  ".join(x.ljust(w) if i < 2 else x.rjust(w)  # noqa: E731
                                for i, (x, w) in enumerate(zip(row, widths)))
    return "\n".join([fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in body] + [note])


def plot_bench(result: BenchResult):
    """Bar chart: every compared model's cost as a ratio to its baseline (1 = no change).

    Latency bars carry the min-max of the per-round ratios as error bars."""
    import matplotlib.pyplot as plt

    rows = [r for r in result.rows if r["baseline"]]
    if not rows:
        raise ValueError("no model with a baseline in this result: nothing to compare")
    batches = result.settings["batches"]
    metrics = [("params", "parameters"), ("flops", "FLOPs"), ("cio", "CIO")]
    metrics += [(f"latency_b{b}", f"latency b{b}") for b in batches]
    if rows[0]["train_step_bytes_ratio"] is not None:
        metrics.append(("train_step_bytes", "train-step memory"))
    fig, ax = plt.subplots(figsize=(7.4, 4.6))  # fits the book's column at 100 dpi
    width = 0.8 / len(metrics)
    for i, (key, label) in enumerate(metrics):
        values, low, high = [], [], []
        for r in rows:
            v = r[f"{key}_ratio"]
            mid = v["median"] if isinstance(v, dict) else v
            values.append(mid)
            low.append(mid - v["min"] if isinstance(v, dict) else 0.0)
            high.append(v["max"] - mid if isinstance(v, dict) else 0.0)
        xs = [j + (i - (len(metrics) - 1) / 2) * width for j in range(len(rows))]
        ax.bar(xs, values, width, yerr=[low, high] if any(low + high) else None, label=label,
               capsize=2)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(rows)), [f"{r['name']}\nvs {r['baseline']}" for r in rows],
                  fontsize=9, rotation=0 if len(rows) <= 4 else 20)
    ax.set_ylabel("ratio to the baseline DenseNet")
    ax.set_title(f"Cost relative to DenseNet ({result.settings['image_size']}px, "
                 f"threads={result.machine['threads']})", fontsize=11)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3,
              frameon=False)
    fig.tight_layout()
    return fig


# --- where the time goes ----------------------------------------------------------------------

def time_by_layer(model: nn.Module, x: Tensor, rounds: int = 5) -> dict[str, float]:
    """Median seconds of one forward pass, split by layer type with forward hooks.

    Keys: ``"conv 1x1"``, ``"conv 3x3"``, ``"conv other"`` (the stem), ``"batch norm + ReLU"``,
    ``"pooling"``, ``"linear"``, and ``"concatenation + rest"``: the whole pass minus the timed
    layers, i.e. ``torch.cat`` in the dense blocks, the split, and Python's own overhead.
    """
    if not isinstance(model, nn.Module) or not isinstance(x, Tensor):
        raise TypeError("time_by_layer takes a torch.nn.Module and a Tensor")
    rounds = check_int("rounds", rounds, 1, 10_000)

    def kind(m: nn.Module) -> str | None:
        if isinstance(m, nn.Conv2d):
            return {1: "conv 1x1", 3: "conv 3x3"}.get(m.kernel_size[0], "conv other")
        if isinstance(m, (nn.BatchNorm2d, nn.ReLU)):
            return "batch norm + ReLU"
        if isinstance(m, (nn.AvgPool2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)):
            return "pooling"
        return "linear" if isinstance(m, nn.Linear) else None

    current: dict[str, float] = {}  # seconds per layer type in the pass being timed
    starts: dict[int, float] = {}

    def start(module: nn.Module, inputs: tuple) -> None:
        starts[id(module)] = time.perf_counter()

    def stop(module: nn.Module, inputs: tuple, output: Tensor) -> None:
        k = kind(module)
        current[k] = current.get(k, 0.0) + time.perf_counter() - starts[id(module)]

    handles = []
    for m in model.modules():
        if kind(m) is not None:
            handles += [m.register_forward_pre_hook(start), m.register_forward_hook(stop)]
    runs: list[dict[str, float]] = []
    model.eval()
    try:
        with torch.inference_mode():
            model(x)  # warm-up
            for _ in range(rounds):
                current.clear()
                start = time.perf_counter()
                model(x)
                total = time.perf_counter() - start
                run = dict(current)
                # torch.relu after the last norm (not a module) falls into the rest
                run["concatenation + rest"] = max(0.0, total - sum(current.values()))
                run["total"] = total
                runs.append(run)
    finally:
        for h in handles:
            h.remove()
    keys = ["conv 1x1", "conv 3x3", "conv other", "batch norm + ReLU", "pooling", "linear",
            "concatenation + rest", "total"]
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}


# --- the command ------------------------------------------------------------------------------

def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cspnet_lib.bench",
        description="DenseNet and CSPDenseNet side by side: parameters, FLOPs, CIO, CPU latency, "
                    "throughput, achieved GFLOP/s and the peak memory of one training step.",
        epilog="Models: " + ", ".join(f"{n} (vs {m.baseline})" if m.baseline else n
                                      for n, m in MODELS.items()))
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=list(MODELS),
                        metavar="NAME", help="models to compare (their baselines are added); "
                        "default: %(default)s")
    parser.add_argument("--batch", nargs="+", type=int, default=[1, 16], metavar="N",
                        help="batch sizes to time; default: %(default)s")
    parser.add_argument("--image-size", type=int, default=224, help="default: %(default)s")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds; default: %(default)s")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds; default: %(default)s")
    parser.add_argument("--processes", type=int, default=3,
                        help="fresh processes that each time all rounds, pooled (0: time in this "
                             "process); default: %(default)s")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads; default: torch's current setting")
    parser.add_argument("--train-batch", type=int, default=None,
                        help="batch of the training step whose memory is measured; default: the largest --batch")
    parser.add_argument("--no-memory", action="store_true", help="skip the training-memory processes")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", metavar="PATH", help="also write every number and raw timing as JSON")
    parser.add_argument("--png", metavar="PATH", help="also draw the ratios to the baseline as a PNG")
    args = parser.parse_args(argv)
    try:
        result = run_bench(args.models, batches=args.batch, image_size=args.image_size,
                           rounds=args.rounds, warmup=args.warmup, processes=args.processes,
                           threads=args.threads,
                           memory=not args.no_memory, train_batch=args.train_batch)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    print(format_table(result, markdown=args.markdown))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(result.to_json() + "\n")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        plot_bench(result).savefig(args.png, dpi=120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
