"""Small matplotlib figures for the chapters: channel growth, cost per layer, gradient similarity.

Every function checks its input first, then draws a new pyplot figure and returns it (a
``matplotlib.figure.Figure``); in a notebook, ``plt.show()`` after the call shows it once. Channel
counts and costs are never worked out here: they are read from the rows of ``channel_plan``
(``plan.py``) or passed in by the caller.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from ..plan import PlanRow, split_sizes
from ..settings import check_fraction, check_int
from .palette import EDGE, FILL, MODEL

STAGE_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f")
INPUT_COLOR = "#bbbbbb"
PART_COLORS = {"part 1 (bypass)": FILL["bypass"], "part 2 (through the block)": FILL["block"]}


def _check_rows(rows: object) -> list[PlanRow]:
    if isinstance(rows, (str, bytes)) or not isinstance(rows, Sequence) or not rows \
            or not all(isinstance(r, PlanRow) for r in rows):
        raise TypeError("rows must be a non-empty list of PlanRow, as channel_plan returns")
    return list(rows)


def _stage_bottlenecks(rows: list[PlanRow], stage: int) -> tuple[int, list[PlanRow]]:
    """(channels entering the stage's dense block, its bottleneck rows), read from the plan."""
    stages = sorted({r.stage for r in rows if r.stage is not None})
    check_int("stage", stage, 0, len(stages) - 1)
    for i, row in enumerate(rows):
        if row.stage == stage and row.step == "bottleneck":
            block = [r for r in rows if r.stage == stage and r.step == "bottleneck"]
            return rows[i - 1].channels, block
    raise ValueError(f"stage {stage} of these rows has no bottleneck")


def channel_growth(rows: Sequence[PlanRow], stage: int = 0) -> Figure:
    """Stacked bars: what each bottleneck of ``stage``'s dense block reads, and what it adds.

    Bar ``l`` is the input of bottleneck ``l``: the block input x0 (grey) and the ``k`` channels
    of every earlier bottleneck; the last bar is the block's output. Read from ``rows``
    (``channel_plan``).
    """
    rows = _check_rows(rows)
    block_in, block = _stage_bottlenecks(rows, stage)
    totals = [block_in] + [r.channels for r in block]  # channels after 0, 1, ..., L layers
    fig = plt.figure(figsize=(8.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    labels = [f"H{l + 1}\nreads" for l in range(len(block))] + ["block\noutput"]
    for bar in range(len(totals)):
        ax.bar(bar, block_in, color=INPUT_COLOR, edgecolor="white")
        for layer in range(bar):
            color = _layer_color(layer, len(block))
            ax.bar(bar, totals[layer + 1] - totals[layer], bottom=totals[layer], color=color,
                   edgecolor="white")
        ax.text(bar, totals[bar], f"{totals[bar]}", ha="center", va="bottom", fontsize=9)
    ax.set_xticks(range(len(totals)), labels, fontsize=8.5)
    ax.set_ylabel("channels")
    ax.set_ylim(0, totals[-1] * 1.12)
    ax.set_title(f"Inside dense block {stage}: each bottleneck adds k = "
                 f"{totals[1] - totals[0]} channels", fontsize=11)
    ax.legend(handles=[Patch(color=INPUT_COLOR, label="block input x0"),
                       Patch(color=_layer_color(0, len(block)), label="x1, x2, ... (one colour per layer)")],
              loc="upper left", fontsize=8.5, frameon=False)
    return fig


def _layer_color(layer: int, layers: int) -> tuple:
    return colormaps["viridis"](0.15 + 0.75 * layer / max(layers - 1, 1))


def layer_costs(rows: Sequence[PlanRow]) -> Figure:
    """Parameters and FLOPs of every bottleneck, in network order, one colour per stage.

    Two panels side by side; the x axis counts bottlenecks from the first of the network. Read
    from the ``"bottleneck"`` rows of ``rows`` (``channel_plan``).
    """
    rows = _check_rows(rows)
    layers = [r for r in rows if r.step == "bottleneck"]
    if not layers:
        raise ValueError("rows contain no bottleneck")
    fig = plt.figure(figsize=(10.0, 3.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, field, label in ((axes[0], "params", "parameters"), (axes[1], "flops", "FLOPs (one image)")):
        start = 1
        for stage in sorted({r.stage for r in layers}):
            values = [getattr(r, field) for r in layers if r.stage == stage]
            ax.plot(range(start, start + len(values)), values, "o-", markersize=3,
                    color=STAGE_COLORS[stage % len(STAGE_COLORS)], label=f"dense block {stage}")
            start += len(values)
        ax.set_xlabel("bottleneck (counted through the network)")
        ax.set_ylabel(label)
        ax.set_ylim(bottom=0)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 3))
        ax.grid(alpha=0.3)
    axes[0].set_title("Parameters per bottleneck", fontsize=11)
    axes[1].set_title("FLOPs per bottleneck", fontsize=11)
    axes[0].legend(fontsize=9, frameon=False)
    return fig


def _check_matrix(matrix: object, names: Sequence[str]) -> np.ndarray:
    if not hasattr(matrix, "shape"):
        raise TypeError(f"each matrix must be a (P, P) tensor or array, got {type(matrix).__name__}")
    array = np.asarray(matrix.detach().cpu() if hasattr(matrix, "detach") else matrix, dtype=float)
    if array.ndim != 2 or array.shape[0] != array.shape[1]:
        raise ValueError(f"matrix must be a square (P, P) tensor or array, got "
                         f"{type(matrix).__name__} with shape {tuple(getattr(matrix, 'shape', ()))}")
    if isinstance(names, (str, bytes)) or len(names) != array.shape[0]:
        raise ValueError(f"names must list one label per row of the {array.shape[0]}x{array.shape[0]} "
                         f"matrix, got {names!r}")
    return array


def similarity_heatmaps(matrices: Sequence[object], names: Sequence[str],
                        titles: Sequence[str], ncols: int | None = None) -> Figure:
    """Cosine-similarity matrices in a grid, each cell labelled, colours from -1 (blue) to 1 (red).

    ``matrices``: (P, P) tensors or arrays, all with the same paths ``names``; ``titles``: one
    per matrix; ``ncols``: panels per row (default: all in one row). Up to 10 paths, every cell
    shows its value to two decimals without the leading zero (``.42``, ``-.07``), so that it is
    still readable when the figure is shrunk to the book's column.
    """
    if isinstance(matrices, (str, bytes)) or not isinstance(matrices, Sequence) or not matrices:
        raise TypeError("matrices must be a non-empty list of (P, P) tensors or arrays")
    arrays = [_check_matrix(m, names) for m in matrices]
    if isinstance(titles, (str, bytes)) or len(titles) != len(arrays):
        raise ValueError(f"titles must give one title per matrix ({len(arrays)}), got {titles!r}")
    ncols = len(arrays) if ncols is None else check_int("ncols", ncols, 1, len(arrays))
    nrows = -(-len(arrays) // ncols)
    p = len(names)
    side = max(2.6, p * (0.4 if p <= 10 else 0.28) + 1.1)  # inches per panel, labels included
    fig = plt.figure(figsize=(side * ncols + 1.0, (side + 0.3) * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax in axes[len(arrays):]:
        ax.set_axis_off()
    for ax, array, title in zip(axes, arrays, titles):
        image = ax.imshow(array, cmap="RdBu_r", vmin=-1, vmax=1)
        if p <= 10:
            for i in range(p):
                for j in range(p):
                    ax.text(j, i, _two_decimals(array[i, j]), ha="center", va="center",
                            fontsize=9, color="white" if abs(array[i, j]) > 0.6 else "black")
        ax.set_xticks(range(p), [_short(n) for n in names], rotation=90, fontsize=9)
        ax.set_yticks(range(p), [_short(n) for n in names], fontsize=9)
        ax.set_title(title, fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.8 if nrows == 1 else 0.6, label="cosine similarity")
    return fig


def _two_decimals(value: float) -> str:
    """``0.4213 -> ".42"``, ``-0.071 -> "-.07"``; a value that rounds to zero is ``".00"``, never
    ``"-.00"`` (adding 0.0 turns the -0.0 that round() can give into 0.0)."""
    return f"{round(float(value), 2) + 0.0:.2f}".replace("0.", ".", 1)


def _short(name: str) -> str:
    return name.replace("bottleneck ", "H").replace("bypass (part 1)", "bypass")


def similarity_by_budget(budgets: Sequence[int], series: Mapping[str, object],
                         xlabel: str = "training epochs") -> Figure:
    """Mean cosine similarity against a training budget, one line per series.

    ``series`` maps a label to a (seeds, budgets) array: one thin line per seed and a thick
    line through the mean. Labels that start with ``"control"`` are drawn dashed.
    """
    if isinstance(budgets, (str, bytes)) or len(budgets) < 1:
        raise ValueError(f"budgets must be a non-empty list of numbers, got {budgets!r}")
    if not isinstance(series, Mapping) or not series:
        raise TypeError("series must be a non-empty dict mapping a label to a (seeds, budgets) array")
    arrays = {}
    for label, values in series.items():
        array = np.asarray(values, dtype=float)
        array = array[None] if array.ndim == 1 else array
        if array.ndim != 2 or array.shape[1] != len(budgets):
            raise ValueError(f"series {label!r} must be shaped (seeds, {len(budgets)}), got {array.shape}")
        arrays[label] = array
    fig = plt.figure(figsize=(7.5, 3.8), layout="constrained")
    ax = fig.add_subplot()
    for i, (label, array) in enumerate(arrays.items()):
        color = STAGE_COLORS[i % len(STAGE_COLORS)]
        style = "--" if label.startswith("control") else "-"
        for row in array:
            ax.plot(budgets, row, style, color=color, alpha=0.35, linewidth=0.8)
        ax.plot(budgets, array.mean(axis=0), style, marker="o", color=color, linewidth=2, label=label)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("mean cosine between paths")
    ax.set_xticks(list(budgets))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8.5, frameon=False, loc="upper left")
    return fig


def split_cost(ratios: Sequence[float], csp: Mapping[str, Sequence[float]],
               plain: Mapping[str, float], title: str = "",
               labels: tuple[str, str] = ("CSP stage", "plain dense stage")) -> Figure:
    """Cost of a CSP stage against its split ratio, beside the plain dense stage's cost.

    ``csp`` and ``plain`` map the same metric names (e.g. ``"parameters"``, ``"FLOPs"``) to the
    CSP values, one per ratio, and to the plain stage's single value; one panel per metric.
    ``labels`` name the curve and the horizontal line in the legend.
    """
    if isinstance(ratios, (str, bytes)) or len(ratios) < 2:
        raise ValueError(f"ratios must list at least two split ratios, got {ratios!r}")
    for r in ratios:
        check_fraction("split_ratio", r, include_one=False)
    if not isinstance(csp, Mapping) or not isinstance(plain, Mapping) or not csp \
            or set(csp) != set(plain):
        raise ValueError("csp and plain must be dicts with the same metric names")
    curves = {metric: np.asarray(values, dtype=float) for metric, values in csp.items()}
    for metric, values in curves.items():
        if values.shape != (len(ratios),):
            raise ValueError(f"csp[{metric!r}] must hold one value per ratio ({len(ratios)}), "
                             f"got shape {values.shape}")
    fig = plt.figure(figsize=(5.0 * len(csp), 3.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(csp)))
    for ax, (metric, values) in zip(axes, curves.items()):
        ax.plot(ratios, values, "o-", markersize=3, color=MODEL["cspdensenet"], label=labels[0])
        ax.axhline(plain[metric], color=MODEL["densenet"], linestyle="--", label=labels[1])
        ax.set_xlabel("split ratio (share of channels through the block)")
        ax.set_ylabel(metric)
        ax.set_ylim(bottom=0)
        ax.ticklabel_format(axis="y", style="sci", scilimits=(0, 3))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, frameon=False, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def split_picture(channel_counts: Sequence[int], split_ratio: float = 0.5) -> Figure:
    """One row of channel cells per count, coloured by the part ``split_channels`` puts them in.

    The sizes come from ``split_sizes`` (part 1 first, as ``split_channels`` slices them).
    """
    split_ratio = check_fraction("split_ratio", split_ratio, include_one=False)
    if isinstance(channel_counts, (str, bytes)) or not channel_counts:
        raise ValueError(f"channel_counts must be a non-empty list of ints, got {channel_counts!r}")
    counts = [check_int(f"channel_counts[{i}]", c, 2, 64) for i, c in enumerate(channel_counts)]
    fig = plt.figure(figsize=(0.42 * max(counts) + 2.2, 0.62 * len(counts) + 0.9), layout="constrained")
    ax = fig.add_subplot()
    for row, channels in enumerate(counts):
        part1, part2 = split_sizes(channels, split_ratio)
        y = len(counts) - 1 - row
        for c in range(channels):
            label = "part 1 (bypass)" if c < part1 else "part 2 (through the block)"
            ax.add_patch(Rectangle((c, y + 0.1), 0.92, 0.8, facecolor=PART_COLORS[label],
                                   edgecolor=EDGE, linewidth=0.8))
            ax.text(c + 0.46, y + 0.5, str(c), ha="center", va="center", fontsize=8)
        ax.text(-0.3, y + 0.5, f"C = {channels}: {part1} + {part2}", ha="right", va="center",
                fontsize=9)
    ax.set_xlim(-3.4, max(counts) + 0.1)
    ax.set_ylim(0, len(counts))
    ax.set_axis_off()
    ax.legend(handles=[Patch(facecolor=c, edgecolor=EDGE, label=l) for l, c in PART_COLORS.items()],
              loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8.5, frameon=False)
    ax.set_title(f"split_channels with split_ratio = {split_ratio}: channel index, coloured by part",
                 fontsize=10)
    return fig


def channel_trace(rows: Sequence[PlanRow]) -> Figure:
    """The channel count along a CSPDenseNet's forward pass, one colour per stage.

    Solid: the dense path (part 2, every bottleneck, the first transition), then the
    concatenation and the second transition; dashed: part 1 waiting beside the block. Read from
    the ``"cspdensenet"`` rows of ``channel_plan``.
    """
    rows = _check_rows(rows)
    if not any(r.step == "part2" for r in rows):
        raise ValueError("rows must come from channel_plan('cspdensenet', ...): they have no part2 step")
    fig = plt.figure(figsize=(8.0, 3.8), layout="constrained")
    ax = fig.add_subplot()
    start = 0
    for stage in sorted({r.stage for r in rows if r.step == "part2"}):
        steps = [r for r in rows if r.stage == stage]
        dense = [r.channels for r in steps if r.step in ("part2", "bottleneck", "first_transition")]
        after = [r.channels for r in steps if r.step in ("concat", "second_transition")]
        end = start + len(dense)
        color = STAGE_COLORS[stage % len(STAGE_COLORS)]
        ax.plot(range(start, end), dense, marker=".", color=color,
                label=f"stage {stage}, {steps[0].size}x{steps[0].size}")
        ax.plot([start, end], [steps[0].channels] * 2, "--", color=color)   # part 1
        ax.plot(range(end - 1, end + len(after)), dense[-1:] + after, marker="o", color=color)
        start = end + len(after)
    ax.set_xlabel("step along the forward pass (bottlenecks, transitions, concatenations)")
    ax.set_ylabel("channels")
    ax.set_title("Channels through CSPDenseNet: solid = dense path, dashed = part 1", fontsize=11)
    ax.legend(loc="upper left", fontsize=9.5)
    ax.grid(alpha=0.3)
    return fig


def fusion_comparison(cost_changes: Mapping[str, Mapping[str, float]],
                      similarity: Mapping[str, Mapping[str, Sequence[float]]],
                      paper: Mapping[str, float] | tuple[str, float] | None = None,
                      paper_cost: str = "FLOPs") -> Figure:
    """Chapter 3's chart: what each fusion variant costs (left) and how alike its paths are (right).

    ``cost_changes`` maps a variant's name to its percent change of each cost against the plain
    dense stage, e.g. ``{"(b) CSP": {"FLOPs": -12.0, ...}}``; ``similarity`` maps every variant's
    name to one list of per-seed mean cosines per measure, e.g. ``{"all paths": [...]}`` (the dot
    is the mean, the bar spans the seeds; the axis spans the values and 0). ``paper`` optionally
    marks published changes as stars beside the ``paper_cost`` bars: ``{variant name: percent}``
    (or one ``(variant name, percent)`` pair); the paper's base is PeleeNet, not (a).
    """
    if not isinstance(cost_changes, Mapping) or not cost_changes:
        raise TypeError("cost_changes must be a non-empty dict: variant -> {cost: percent change}")
    if not isinstance(similarity, Mapping) or not similarity:
        raise TypeError("similarity must be a non-empty dict: variant -> {measure: per-seed values}")
    costs = list(next(iter(cost_changes.values())))
    measures = list(next(iter(similarity.values())))
    if any(list(c) != costs for c in cost_changes.values()) \
            or any(list(m) != measures for m in similarity.values()):
        raise ValueError("every variant must give the same costs and the same similarity measures")
    stars = dict([paper]) if isinstance(paper, tuple) else dict(paper or {})
    for name in stars:
        if name not in cost_changes:
            raise ValueError(f"paper names variant {name!r}, which is not in cost_changes: "
                             f"{list(cost_changes)}")
    if stars and paper_cost not in costs:
        raise ValueError(f"paper_cost must be one of the costs {costs}, got {paper_cost!r}")
    fig = plt.figure(figsize=(7.6, 4.4), layout="constrained")
    left, right = fig.subplots(1, 2, width_ratios=[3, 2])
    names, width = list(cost_changes), 0.8 / len(costs)
    for i, cost in enumerate(costs):
        xs = [j + (i - (len(costs) - 1) / 2) * width for j in range(len(names))]
        bars = left.bar(xs, [cost_changes[n][cost] for n in names], width, label=cost)
        left.bar_label(bars, fmt="%.1f", fontsize=9, padding=2)
    if stars:
        shift = (costs.index(paper_cost) - (len(costs) - 1) / 2) * width
        left.plot([names.index(n) + shift for n in stars], list(stars.values()), marker="*",
                  markersize=12, color="black", linestyle="none",
                  label=f"paper, against PeleeNet:\ncomputation (beside {paper_cost})")
    left.axhline(0, color="grey", linewidth=0.8)
    left.set_xticks(range(len(names)), [n.replace(" ", "\n", 1) for n in names])
    left.set_ylabel("change against (a), %")
    left.set_title("Whole network, 224×224", fontsize=10)
    left.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2)
    variants = list(similarity)
    for k, measure in enumerate(measures):
        dx = (k - (len(measures) - 1) / 2) * 0.24
        values = [np.asarray(similarity[v][measure], dtype=float) for v in variants]
        means = np.array([v.mean() for v in values])
        spread = [means - [v.min() for v in values], [v.max() for v in values] - means]
        right.errorbar([x + dx for x in range(len(variants))], means, yerr=spread, fmt="o",
                       capsize=3, markersize=4, label=measure)
    right.axhline(0, color="grey", linewidth=0.8)
    every = np.concatenate([np.asarray(v, dtype=float) for m in similarity.values()
                            for v in m.values()])
    low, high = min(0.0, every.min()), max(0.0, every.max())
    right.set_ylim(low - 0.1 * (high - low) - 0.01, high + 0.15 * (high - low) + 0.01)
    right.set_xlim(-0.5, len(variants) - 0.5)
    right.set_xticks(range(len(variants)), [v.split(" ")[0] for v in variants])
    right.set_ylabel("mean cosine between paths")
    right.set_title("Gradient similarity, stage 0,\ntrained on digits", fontsize=10)
    right.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.2))
    return fig
