"""The benchmark's tables (aligned text, Markdown, narrow tables by question) and its chart."""

from __future__ import annotations

from typing import Any, Callable

from .result import BenchResult, BenchRow, Spread

COLUMNS = ("model", "baseline", "params", "GFLOPs", "CIO (M)", "latency", "throughput", "GFLOP/s",
           "train step")
"""The table's column groups (the latency group repeats per batch size)."""


def _ratio(r: float | Spread | None) -> str:
    if r is None:
        return "-"
    return f"x{(r['median'] if isinstance(r, dict) else r):.2f}"


def _ratio_sign(r: float | Spread | None) -> str:
    return "-" if r is None else "\u00d7" + _ratio(r)[1:]


def _ms(spread: Spread) -> Spread:
    return {k: v * 1e3 for k, v in spread.items()}


def _memory(r: BenchRow) -> str:
    mark = "" if r.train_step_exact else "<="
    return f"{mark}{r.train_step_bytes / 2**20:,.0f}"


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
        line = [r.name, r.baseline or "-", f"{r.params:,}", _ratio(r.params_ratio),
                f"{r.flops / 1e9:.3f}", _ratio(r.flops_ratio), f"{r.cio / 1e6:.2f}",
                _ratio(r.cio_ratio)]
        for b in batches:
            t = _ms(r.latency[b])
            line += [f"{t['median']:.1f} [{t['min']:.1f}-{t['max']:.1f}]",
                     _ratio(r.latency_ratio[b])]
        line += [f"{r.throughput:.1f}", _ratio(r.throughput_ratio), f"{r.gflops_per_s:.1f}"]
        if r.train_step_bytes is None:
            line += ["-", "-"]
        else:
            line += [_memory(r), _ratio(r.train_step_bytes_ratio)]
        body.append(line)
    return header, body


def _times(r: BenchRow, b: int) -> tuple[str, str]:
    t = _ms(r.latency[b])
    return f"{t['median']:.1f}", f"({t['min']:.1f}\u2013{t['max']:.1f})"


def _model_cell(r: BenchRow) -> str | tuple[str, str]:
    return r.name if r.baseline else (r.name, "(baseline)")


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
        [[_model_cell(r), f"{r.params:,}", _ratio_sign(r.params_ratio), f"{r.flops / 1e9:.3f}",
          _ratio_sign(r.flops_ratio), f"{r.cio / 1e6:.2f}", _ratio_sign(r.cio_ratio)]
         for r in rows])
    header = ["model"]
    for b in batches:
        header += [f"batch {b}: ms, median (min\u2013max)", "\u00d7"]
    header += ["FLOPs \u00d7", f"GFLOP/s at batch {batches[-1]}"]
    body = []
    for r in rows:
        line: list[Any] = [_model_cell(r)]
        for b in batches:
            line += [_times(r, b), _ratio_sign(r.latency_ratio[b])]
        line += [_ratio_sign(r.flops_ratio), f"{r.gflops_per_s:.1f}"]
        body.append(line)
    tables["latency"] = (header, body)
    tb = result.settings.get("train_batch")
    if tb and any(r.train_step_bytes is not None for r in rows):
        body = [[_model_cell(r), _memory(r), _ratio_sign(r.train_step_bytes_ratio)] for r in rows]
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

    rows = [r for r in result.rows if r.baseline]
    if not rows:
        raise ValueError("no model with a baseline in this result: nothing to compare")
    metrics: list[tuple[str, Callable[[BenchRow], float | Spread | None]]] = [
        ("parameters", lambda r: r.params_ratio), ("FLOPs", lambda r: r.flops_ratio),
        ("CIO", lambda r: r.cio_ratio)]
    metrics += [(f"latency b{b}", lambda r, b=b: r.latency_ratio[b])
                for b in result.settings["batches"]]
    if rows[0].train_step_bytes_ratio is not None:
        metrics.append(("train-step memory", lambda r: r.train_step_bytes_ratio))
    fig, ax = plt.subplots(figsize=(7.4, 4.6))  # fits the book's column at 100 dpi
    width = 0.8 / len(metrics)
    for i, (label, ratio_of) in enumerate(metrics):
        values, low, high = [], [], []
        for r in rows:
            v = ratio_of(r)
            mid = v["median"] if isinstance(v, dict) else v
            values.append(mid)
            low.append(mid - v["min"] if isinstance(v, dict) else 0.0)
            high.append(v["max"] - mid if isinstance(v, dict) else 0.0)
        xs = [j + (i - (len(metrics) - 1) / 2) * width for j in range(len(rows))]
        ax.bar(xs, values, width, yerr=[low, high] if any(low + high) else None, label=label,
               capsize=2)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(rows)), [f"{r.name}\nvs {r.baseline}" for r in rows],
                  fontsize=9, rotation=0 if len(rows) <= 4 else 20)
    ax.set_ylabel("ratio to the baseline DenseNet")
    ax.set_title(f"Cost relative to DenseNet ({result.settings['image_size']}px, "
                 f"threads={result.machine['threads']})", fontsize=11)
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3,
              frameon=False)
    fig.tight_layout()
    return fig
