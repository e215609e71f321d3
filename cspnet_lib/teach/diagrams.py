"""Architecture diagrams of one stage, drawn from the channel plan.

Nothing here works out a channel count: every number on a diagram is read from the rows of
``channel_plan`` (``plan.py``), so a diagram cannot disagree with the model it depicts.
``stage_boxes`` turns one stage's plan rows into boxes and arrows (plain data, easy to test);
``draw_stage`` draws them with matplotlib; ``draw_fusion_variants`` draws the CSPNet paper's
Figure 3 side by side: (a) a plain dense stage, (b) fusion "csp", (c) fusion "first",
(d) fusion "last". A box that halves the height and width (2x2 average pooling) is orange.
"""

from __future__ import annotations

import re

from dataclasses import dataclass
from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Patch

from ..plan import DENSENET_DEFAULTS, PlanRow, channel_plan, check_config, plan_by_stage
from ..settings import check_int
from .palette import EDGE, FILL, HALVES_EDGE

# Where boxes go: y of each row (top to bottom) and x of each column, in data units.
ROW_Y = {"input": 9.3, "split": 8.1, "upper": 6.8, "lower": 5.4, "concat": 4.0,
         "fusion": 2.6, "output": 1.3}
LEFT, CENTRE, RIGHT = 2.5, 5.0, 7.5
WIDTH = {"column": 4.85, "wide": 9.85, "centre": 6.6}
HEIGHT = 0.9
DOWNSAMPLE_EDGE = HALVES_EDGE
LEGEND = {  # fill -> legend entry, in the order the legend lists them
    "block": Patch(facecolor=FILL["block"], edgecolor=EDGE, label="dense block"),
    "bypass": Patch(facecolor=FILL["bypass"], edgecolor=EDGE, label="part 1 (bypass)"),
    "split": Patch(facecolor=FILL["split"], edgecolor=EDGE, label="split / concatenate"),
    "transition": Patch(facecolor=FILL["transition"], edgecolor=EDGE,
                        label="transition (BN-ReLU-1\u00d71 conv)"),
    "pool": Patch(facecolor=FILL["pool"], edgecolor=DOWNSAMPLE_EDGE, linewidth=2,
                  label="halves height and width (2\u00d72 avg pool)"),
}
TITLES = {"densenet": "(a) plain dense stage (DenseNet)",
          "csp": "(b) CSPDenseNet: two transitions", "first": "(c) fusion first",
          "last": "(d) fusion last"}


@dataclass(frozen=True)
class Box:
    """One box: ``key`` names it (and becomes the matplotlib gid), ``lines`` is its text."""

    key: str
    lines: tuple[str, str]
    x: float
    y: float
    width: float
    fill: str  # a key of FILL
    downsamples: bool = False


def _hw(size: int) -> str:
    return f"{size}\u00d7{size}"


def _sizes(before: int, after: int) -> str:
    return _hw(before) if before == after else f"{_hw(before)} \u2192 {_hw(after)}"


def _transition(key: str, name: str, before: PlanRow, row: PlanRow, x: float,
                width: float) -> Box:
    """A BN-ReLU-1x1 conv transition, with its 2x2 average pool when the plan shrinks the size."""
    pooled = row.size < before.size
    title = f"transition{name} (1\u00d71 conv" + (" + pool)" if pooled else ")")
    text = f"{before.channels} \u2192 {row.channels} ch \u00b7 {_sizes(before.size, row.size)}"
    y = ROW_Y["lower" if key == "first_transition" else "fusion"]
    return Box(key, (title, text), x, y, width, "pool" if pooled else "transition", pooled)


def stage_boxes(kind: str, stage: int = 0, image_size: int = 224,
                **config: Any) -> tuple[list[Box], list[tuple[str, str]]]:
    """The boxes of one stage and its arrows (pairs of box keys), read from the plan's rows.

    ``kind``, ``image_size`` and ``config`` are those of ``channel_plan``; for ``"cspdensenet"``
    the ``fusion`` setting picks the variant. ``stage`` counts from 0.
    """
    plan = channel_plan(kind, image_size, **config)  # validates kind, image_size and config
    c = check_config(kind, config)
    stages = plan_by_stage(plan)
    stage = check_int("stage", stage, 0, len(stages) - 1)
    rows = stages[stage]
    x0 = plan[next(i for i, r in enumerate(plan) if r.stage == stage) - 1]  # the stage's input
    dense = rows["dense"]
    block_title = f"dense block: {len(rows['bottleneck'])} bottlenecks, k = {c['growth_rate']}"
    boxes = [Box("input", ("stage input $x_0$", f"{x0.channels} ch \u00b7 {_hw(x0.size)}"),
                 CENTRE, ROW_Y["input"], WIDTH["centre"], "io")]

    if kind == "densenet":
        text = f"{x0.channels} \u2192 {dense.channels} ch \u00b7 {_hw(dense.size)}"
        boxes.append(Box("dense", (block_title, text), CENTRE, ROW_Y["upper"], WIDTH["centre"],
                         "block"))
        out = dense
        if "transition" in rows:
            out = rows["transition"]
            boxes.append(_transition("transition", "", dense, out, CENTRE, WIDTH["centre"]))
    else:
        part1, part2, concat = rows["part1"], rows["part2"], rows["concat"]
        split = (f"{x0.channels} ch \u2192 {part1.channels} + {part2.channels} ch \u00b7 "
                 f"{_hw(part2.size)}")
        block = f"{part2.channels} \u2192 {dense.channels} ch \u00b7 {_hw(dense.size)}"
        bypass = f"{part1.channels} ch \u00b7 {_hw(part1.size)}"
        boxes += [
            Box("split", ("split $x_0 = [x_0', x_0'']$", split), CENTRE, ROW_Y["split"],
                WIDTH["wide"], "split"),
            Box("part1", ("part 1 $x_0'$: bypass", bypass), LEFT, ROW_Y["upper"],
                WIDTH["column"], "bypass"),
            Box("dense", (block_title, block), RIGHT, ROW_Y["upper"], WIDTH["column"], "block"),
        ]
        fused, parts = dense, "[$x_0'$, $x_0''$, $x_1$, \u2026, $x_L$]"  # fusion "first"
        if "first_transition" in rows:  # fusion "csp" and "last": a transition on part 2 only
            fused, parts = rows["first_transition"], "[$x_0'$, $x_T$]"
            boxes.append(_transition("first_transition", " $x_T$", dense, fused, RIGHT,
                                     WIDTH["column"]))
        if concat.size < part1.size:  # fusion "last" downsampled part 2, so part 1 must follow
            parts = "[pool($x_0'$), $x_T$]"
            pooled = f"{part1.channels} ch \u00b7 {_sizes(part1.size, concat.size)}"
            boxes.append(Box("part1_pool", ("part 1: 2\u00d72 avg pool", pooled), LEFT,
                             ROW_Y["lower"], WIDTH["column"], "pool", True))
        joined = (f"{part1.channels} + {fused.channels} = {concat.channels} ch \u00b7 "
                  f"{_hw(concat.size)}")
        boxes.append(Box("concat", (f"concatenate {parts}", joined), CENTRE, ROW_Y["concat"],
                         WIDTH["wide"], "split"))
        out = concat
        if "second_transition" in rows:  # fusion "csp" and "first", all but the last stage
            out = rows["second_transition"]
            boxes.append(_transition("second_transition", " $x_U$", concat, out, CENTRE,
                                     WIDTH["centre"]))

    where = f"to stage {stage + 1}" if stage + 1 < len(stages) else "to the head (pool, classifier)"
    boxes.append(Box("output", (where, f"{out.channels} ch \u00b7 {_hw(out.size)}"),
                     CENTRE, ROW_Y["output"], WIDTH["centre"], "io"))
    return boxes, _arrows([b.key for b in boxes])


def _arrows(keys: list[str]) -> list[tuple[str, str]]:
    """Connect the boxes in data-flow order; the two columns run side by side."""
    right = [k for k in ("dense", "first_transition") if k in keys]
    left = [k for k in ("part1", "part1_pool") if k in keys]
    centre = [k for k in ("input", "split", "concat", "transition", "second_transition", "output")
              if k in keys]
    if "split" not in keys:  # a plain dense stage: one column
        chain = ["input", "dense"] + centre[1:]
        return list(zip(chain, chain[1:]))
    arrows = [("input", "split"), ("split", left[0]), ("split", right[0])]
    arrows += list(zip(left, left[1:])) + list(zip(right, right[1:]))
    arrows += [(left[-1], "concat"), (right[-1], "concat")]
    tail = centre[centre.index("concat"):]
    return arrows + list(zip(tail, tail[1:]))


def draw_stage(kind: str, stage: int = 0, image_size: int = 224, ax: Axes | None = None,
               title: str | None = None, legend: bool = True, fontsize: float = 8.5,
               brief: bool = False, **config: Any) -> Axes:
    """Draw one stage of ``kind`` (``"densenet"`` or ``"cspdensenet"``) from its plan rows.

    Every box shows channels and height x width read from ``channel_plan(kind, image_size,
    **config)``; orange boxes halve the spatial size. Returns the Axes (a new figure if ``ax``
    is None). ``title`` defaults to the variant's name in the paper's Figure 3; ``fontsize``
    is the boxes' text size in points (the title and legend follow it); ``brief`` keeps only
    the name of each box (before any ":" or "(") and its channels, not its height x width (for
    small panels, where the full labels would not fit at a readable size).
    """
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}")
    if not isinstance(legend, bool):
        raise TypeError(f"legend must be True or False, got {legend!r}")
    if not isinstance(brief, bool):
        raise TypeError(f"brief must be True or False, got {brief!r}")
    if isinstance(fontsize, bool) or not isinstance(fontsize, (int, float)) or not 4 <= fontsize <= 20:
        raise ValueError(f"fontsize must be a number of points from 4 to 20, got {fontsize!r}")
    boxes, arrows = stage_boxes(kind, stage, image_size, **config)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.8, 6.8), layout="constrained")
    by_key = {b.key: b for b in boxes}
    for b in boxes:
        ax.add_patch(FancyBboxPatch(
            (b.x - b.width / 2, b.y - HEIGHT / 2), b.width, HEIGHT,
            boxstyle="round,pad=0.02,rounding_size=0.12", facecolor=FILL[b.fill],
            edgecolor=DOWNSAMPLE_EDGE if b.downsamples else EDGE,
            linewidth=2.0 if b.downsamples else 0.8, gid=b.key))
        name, sizes = b.lines
        if brief:
            name, sizes = re.split(r":| \(", name)[0], sizes.split(" · ")[0]
        ax.text(b.x, b.y + 0.17, name, ha="center", va="center", fontsize=fontsize,
                fontweight="bold", gid=b.key)
        ax.text(b.x, b.y - 0.2, sizes, ha="center", va="center", fontsize=fontsize,
                gid=b.key)
    for start, end in arrows:
        a, b = by_key[start], by_key[end]
        x = b.x if a.width > b.width else a.x  # leave a wide box straight below the narrow one
        ax.add_patch(FancyArrowPatch((x, a.y - HEIGHT / 2), (x, b.y + HEIGHT / 2),
                                     arrowstyle="-|>", mutation_scale=12, color="#333333",
                                     linewidth=1.0, shrinkA=1, shrinkB=1))
    variant = "densenet" if kind == "densenet" else check_config(kind, config)["fusion"]
    ax.set_title(TITLES[variant] if title is None else title, fontsize=fontsize + 2.5)
    ax.set_xlim(-0.1, 10.1)
    ax.set_ylim(0.6, 9.95)
    ax.set_axis_off()
    if legend:  # only the kinds of box this stage has
        handles = [patch for fill, patch in LEGEND.items() if any(b.fill == fill for b in boxes)]
        ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.02), ncol=3,
                  fontsize=fontsize, frameon=False)
    return ax


def densenet_counterpart(**config: Any) -> dict[str, Any]:
    """The DenseNet settings a CSPDenseNet ``config`` shares (growth rate, repeats, compression,
    stem, ...): the plain dense network to compare it with. Settings DenseNet has no use for
    (``split_ratio``, ``channel_pooling``, ``fusion``) are dropped."""
    c = check_config("cspdensenet", config)
    return {key: c[key] for key in DENSENET_DEFAULTS}


def draw_fusion_variants(stage: int = 0, image_size: int = 224, **config: Any) -> Figure:
    """A 2x2 grid of one stage: (a) DenseNet, (b) fusion "csp", (c) "first", (d) "last".

    ``config`` takes CSPDenseNet's settings except ``fusion`` (all three are drawn); the
    DenseNet of (a) shares every setting it has (``densenet_counterpart``).
    """
    if "fusion" in config:
        raise ValueError(f"fusion={config['fusion']!r}: draw_fusion_variants draws every fusion; "
                         "leave fusion out (use draw_stage for one)")
    dense_config = densenet_counterpart(**config)
    check_int("stage", stage, 0, len(dense_config["repeats"]) - 1)
    # Text at 11.5 pt, and brief box names so they fit: the 12.8-inch grid is shrunk to the
    # book's column, and its smallest text must still reach cspnet_lib.readable.MIN_TEXT_PX there.
    fig, axes = plt.subplots(2, 2, figsize=(12.8, 13.6), layout="constrained")
    text = dict(legend=False, fontsize=11.5, brief=True)
    draw_stage("densenet", stage, image_size, ax=axes[0, 0], **text, **dense_config)
    for ax, fusion in zip(axes.flat[1:], ("csp", "first", "last")):
        draw_stage("cspdensenet", stage, image_size, ax=ax, fusion=fusion, **text, **config)
    fig.legend(handles=list(LEGEND.values()), loc="outside lower center", ncol=3, fontsize=11.5,
               frameon=False)
    fig.suptitle(f"Stage {stage} of each variant, for a {_hw(image_size)} image", fontsize=15)
    return fig
