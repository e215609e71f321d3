"""Chapter 6's figures: where the FLOPs go, the split ratio, FLOPs against time, accuracy.

Each function takes the numbers already computed (nothing is measured here) and returns a
matplotlib ``Figure``. Every figure is at most ``WIDTH_IN`` inches wide and uses no font smaller
than ``FONT_PT`` points, so that at the notebook's 100 dpi it is shown at its own size in the
book's column and its smallest text is about 12 px (``cspnet_lib.readable`` checks it).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

WIDTH_IN = 7.4   # at 100 dpi: 740 px, inside the book's 757 px column
FONT_PT = 9      # the smallest font of every figure here


def _check_mapping(name: str, value: object) -> None:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(f"{name} must be a non-empty mapping, got {value!r}")


def flops_breakdown_bars(breakdown: Mapping[str, Mapping[str, float]],
                         parts: Sequence[str], image_size: int = 224) -> Figure:
    """One stacked horizontal bar per model: its FLOPs by component, in GFLOPs.

    ``breakdown``: ``{model: {part: FLOPs}}`` as ``plan.flops_breakdown`` returns it; ``parts``:
    the components in the order to stack them (``plan.BREAKDOWN_PARTS``).
    """
    _check_mapping("breakdown", breakdown)
    models = list(breakdown)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 1.1 + 0.45 * len(models) + 0.25 * len(parts) / 2))
    for j, model in enumerate(models):
        left = 0.0
        for i, part in enumerate(parts):
            width = breakdown[model][part] / 1e9
            ax.barh(j, width, left=left, color=plt.cm.tab10.colors[i % 10],
                    label=part if j == 0 else None)
            left += width
    ax.set_yticks(range(len(models)), models, fontsize=FONT_PT + 1)
    ax.invert_yaxis()
    ax.set_xlabel(f"GFLOPs for one {image_size}x{image_size} image")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=4, fontsize=FONT_PT,
              frameon=False)
    fig.tight_layout()
    return fig


def split_ratio_curves(ratios: Sequence[float],
                       curves: Mapping[str, Mapping[str, Sequence[float]]],
                       xlabel: str = "split ratio") -> Figure:
    """One panel per entry of ``curves`` (``{title: {label: [ratio to the DenseNet per value
    of the x axis]}}``), ``ratios`` on the x axis (the split ratio, or another width such as
    the channel pooling, named by ``xlabel``) and a line at 1 (as costly as the DenseNet)."""
    _check_mapping("curves", curves)
    fig, axes = plt.subplots(1, len(curves), figsize=(WIDTH_IN, 3.3), sharey=True, squeeze=False)
    for ax, (title, lines) in zip(axes[0], curves.items()):
        for label, values in lines.items():
            if len(values) != len(ratios):
                raise ValueError(f"{title}/{label}: {len(values)} values for {len(ratios)} ratios")
            ax.plot(ratios, values, label=label)
        ax.axhline(1.0, color="black", linewidth=0.8)
        ax.set_xlabel(xlabel)
        ax.set_title(title, fontsize=FONT_PT + 1)
    axes[0][0].set_ylabel("ratio to the DenseNet")
    axes[0][0].legend(fontsize=FONT_PT)
    fig.tight_layout()
    return fig


def flops_vs_latency(points: Sequence[tuple[str, float, Mapping[str, float]]]) -> Figure:
    """Each model's latency ratio to its DenseNet (median with min-max) against its FLOPs ratio.

    ``points``: ``(label, flops_ratio, {"median", "min", "max"} of the latency ratio)``. The
    dashed diagonal is where latency would follow FLOPs.
    """
    if not points:
        raise ValueError("points must list at least one (label, flops_ratio, latency_ratio)")
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 4.4))
    for i, (label, x, q) in enumerate(points):
        ax.errorbar(x, q["median"], fmt="os^vD<>p"[i % 8], capsize=3, label=label,
                    yerr=[[q["median"] - q["min"]], [q["max"] - q["median"]]])
    low = min(min(x, q["min"]) for _, x, q in points) - 0.02
    high = max(max(x, q["max"]) for _, x, q in points) + 0.02
    ax.plot([low, high], [low, high], color="gray", linestyle="--", label="latency = FLOPs")
    ax.set_xlabel("FLOPs ratio to the DenseNet (closed form)")
    ax.set_ylabel("latency ratio, batch 1\n(median, min-max)")
    ax.legend(fontsize=FONT_PT, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def gflops_per_second(rates: Mapping[str, float]) -> Figure:
    """Achieved GFLOP/s (FLOPs / median latency) per model, as horizontal bars."""
    _check_mapping("rates", rates)
    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.9 + 0.35 * len(rates)))
    ax.barh(list(rates), list(rates.values()), color="tab:gray")
    ax.invert_yaxis()
    ax.set_xlabel("achieved GFLOP/s (FLOPs / median latency)")
    fig.tight_layout()
    return fig


def accuracy_by_seed(accuracy: Mapping[str, Sequence[float]]) -> Figure:
    """Test accuracy per model: one dot per seed, and the mean with a bar of one standard
    deviation (``accuracy``: ``{model: [percent per seed]}``, at least two seeds each)."""
    _check_mapping("accuracy", accuracy)
    import statistics

    fig, ax = plt.subplots(figsize=(WIDTH_IN, 0.9 + 0.5 * len(accuracy)))
    for j, (name, accs) in enumerate(accuracy.items()):
        if len(accs) < 2:
            raise ValueError(f"{name}: need two seeds or more for a spread, got {list(accs)}")
        jitter = [0.08 * (i - (len(accs) - 1) / 2) for i in range(len(accs))]
        ax.plot(accs, [j + d for d in jitter], "o", alpha=0.6, color="tab:blue")
        ax.errorbar(statistics.mean(accs), j, xerr=statistics.stdev(accs), fmt="k|",
                    markersize=16, capsize=4)
    ax.set_yticks(range(len(accuracy)), list(accuracy))
    ax.invert_yaxis()
    ax.set_xlabel("test accuracy on the digits, % (dots: seeds; bar: mean ± std)")
    fig.tight_layout()
    return fig


__all__ = ["FONT_PT", "WIDTH_IN", "accuracy_by_seed", "flops_breakdown_bars", "flops_vs_latency",
           "gflops_per_second", "split_ratio_curves"]
