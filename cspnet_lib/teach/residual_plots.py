"""Chapter 7's figures: one stage of a residual network beside its CSP version, drawn from the
built modules, and the FLOPs of six networks by the role of each convolution.

``stage_graph`` reads a stage (``nn.Sequential`` of ``beyond.build``: [down conv], then residual
blocks or one ``CSPStage``) into boxes and arrows; ``stage_pair_figure`` lays two of them out.
Every box is sized from its own text and the figure from its boxes, so no text leaves its box
and no box leaves the figure, whatever the widths in the labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch, Patch
from torch import nn

from ..models.csp_stage import CSPStage
from ..models.residual import ConvBNAct
from .palette import EDGE, FILL, HALVES_EDGE, ROLE_BARS

FONT_PT = 9
COLOURS = FILL  # the palette of chapters 2-3's diagrams
LEGEND = {"down": "3\u00d73 stride-2 conv", "bypass": "part 1 (bypass)",
          "split": "split (part 2), concatenate", "block": "residual blocks",
          "transition": "1\u00d71 transition"}
X = "\u00d7"


@dataclass(frozen=True)
class Box:
    """One box of a stage diagram: its text, colour key, column and row."""

    text: str
    kind: str
    column: str = "center"   # "center", "left" (part 1) or "right" (part 2)
    row: int = 0
    halves: bool = False


def _convs(layer: nn.Module) -> list[nn.Conv2d]:
    return [m for m in layer.modules() if isinstance(m, nn.Conv2d)]


def _strided(layer: nn.Module) -> bool:
    return any(c.stride[0] > 1 for c in _convs(layer))


def _conv_text(layer: nn.Module, role: str) -> str:
    conv = _convs(layer)[0]
    k = conv.kernel_size[0]
    extra = ("/2" if conv.stride[0] > 1 else "") + (f" g{conv.groups}" if conv.groups > 1 else "")
    return f"{role}: {k}{X}{k}{extra} \u2192 {conv.out_channels}"


def _blocks_text(blocks: Sequence[nn.Module]) -> str:
    inner = ", ".join(f"{c.kernel_size[0]}{X}{c.kernel_size[0]}"
                      + (f" g{c.groups}" if c.groups > 1 else "") + f" {c.out_channels}"
                      for c in _convs(blocks[0]))
    plural = "s" if len(blocks) > 1 else ""
    first = "\n(the first strides 2)" if _strided(blocks[0]) else ""
    return f"{len(blocks)} {X} residual block{plural}{first}\n[{inner}]"


def stage_graph(stage: nn.Sequential) -> tuple[dict[str, Box], list[tuple[str, str]]]:
    """Boxes (by name) and arrows (name, name) of one stage built by ``beyond.build``."""
    if not isinstance(stage, nn.Sequential) or len(stage) == 0:
        raise TypeError(f"stage must be a non-empty nn.Sequential of beyond.build, got {stage!r}")
    layers = list(stage)
    boxes = {"input": Box(f"input: {_convs(stage)[0].in_channels} channels", "io")}
    order = ["input"]
    if isinstance(layers[0], ConvBNAct):   # the 3x3 stride-2 conv that opens the stage
        boxes["down"] = Box(_conv_text(layers.pop(0), "down"), "down", halves=True)
        order.append("down")
    csp = layers[-1] if isinstance(layers[-1], CSPStage) else None
    if csp is None:
        boxes["blocks"] = Box(_blocks_text(layers), "block", halves=_strided(layers[0]))
        boxes["output"] = Box(f"output: {_convs(layers[-1])[-1].out_channels} channels", "io")
        order += ["blocks", "output"]
        return ({n: Box(b.text, b.kind, b.column, i, b.halves) for i, (n, b) in
                 enumerate((n, boxes[n]) for n in order)}, list(zip(order, order[1:])))
    row = len(order)
    rows = {n: i for i, n in enumerate(order)}
    edges = list(zip(order, order[1:]))
    boxes["cross"] = Box(_conv_text(csp.split.cross, "cross"), "bypass", "left")
    boxes["main"] = Box(_conv_text(csp.split.main, "main"), "split", "right")
    rows["cross"] = rows["main"] = row
    edges += [(order[-1], "cross"), (order[-1], "main")]
    boxes["blocks"] = Box(_blocks_text(list(csp.block)), "block", "right")
    rows["blocks"] = row + 1
    edges.append(("main", "blocks"))
    last, width = "blocks", _convs(csp.block[-1])[-1].out_channels
    if isinstance(csp.part2_transition, ConvBNAct):
        boxes["transition"] = Box(_conv_text(csp.part2_transition, "transition"), "transition",
                                  "right")
        rows["transition"] = row + 2
        edges.append(("blocks", "transition"))
        last, width = "transition", csp.part2_transition.conv.out_channels
    concat = csp.split.cross.conv.out_channels + width
    boxes["concat"] = Box(f"concatenate: {concat} channels", "split")
    rows["concat"] = rows[last] + 1
    edges += [("cross", "concat"), (last, "concat")]
    if isinstance(csp.fusion_transition, ConvBNAct):
        boxes["fusion"] = Box(_conv_text(csp.fusion_transition, "fusion"), "transition")
        rows["fusion"] = rows["concat"] + 1
        edges.append(("concat", "fusion"))
    return ({n: Box(b.text, b.kind, b.column, rows[n], b.halves) for n, b in boxes.items()},
            edges)


PAD_X, PAD_Y = 0.1, 0.07     # inches between a box's text and its edge
GAP_X, GAP_Y = 0.3, 0.28     # inches between columns, between rows (room for the arrows)
PANEL_GAP, MARGIN, TITLE_H, LEGEND_H = 0.45, 0.1, 0.35, 0.55


def stage_pair_figure(stages: Sequence[nn.Sequential], titles: Sequence[str]) -> Figure:
    """The stages side by side (usually a base stage and its CSP version), with a legend.

    Boxes with an orange edge halve the height and width. The figure's size follows from the
    text: one axes spans it, in inches, so every box is placed exactly where it fits.
    """
    if len(stages) != len(titles) or not stages:
        raise ValueError(f"give one title per stage, got {len(stages)} stages, {len(titles)} titles")
    graphs = [stage_graph(s) for s in stages]
    fig = plt.figure(figsize=(7.4, 5.0))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.axis("off")
    renderer = fig.canvas.get_renderer()
    panels = []
    for boxes, edges in graphs:   # measure every text, in inches
        texts = {n: ax.text(0, 0, b.text, ha="center", va="center", fontsize=FONT_PT,
                            linespacing=1.3) for n, b in boxes.items()}
        size = {n: (t.get_window_extent(renderer).width / fig.dpi + 2 * PAD_X,
                    t.get_window_extent(renderer).height / fig.dpi + 2 * PAD_Y)
                for n, t in texts.items()}
        col_w = {c: max((size[n][0] for n, b in boxes.items() if b.column == c), default=0.0)
                 for c in ("left", "center", "right")}
        sides = col_w["left"] + GAP_X + col_w["right"] if col_w["left"] else 0.0
        width = max(col_w["center"], sides)
        left0 = (width - sides) / 2
        x = {"center": width / 2, "left": left0 + col_w["left"] / 2,
             "right": left0 + col_w["left"] + GAP_X + col_w["right"] / 2}
        n_rows = max(b.row for b in boxes.values()) + 1
        row_h = [max(size[n][1] for n, b in boxes.items() if b.row == r) for r in range(n_rows)]
        panels.append((boxes, edges, texts, size, x, width, row_h))
    fig_w = 2 * MARGIN + sum(p[5] for p in panels) + PANEL_GAP * (len(panels) - 1)
    body_h = max(sum(p[6]) + GAP_Y * (len(p[6]) - 1) for p in panels)
    fig_h = 2 * MARGIN + TITLE_H + body_h + LEGEND_H
    fig.set_size_inches(fig_w, fig_h)
    ax.set_xlim(0, fig_w)
    ax.set_ylim(0, fig_h)
    left = MARGIN
    for (boxes, edges, texts, size, x, width, row_h), title in zip(panels, titles):
        top = fig_h - MARGIN - TITLE_H
        ax.text(left + width / 2, top + TITLE_H / 2, title, ha="center", va="center",
                fontsize=FONT_PT + 1, fontweight="bold")
        y_row = [top - sum(row_h[:r]) - GAP_Y * r - row_h[r] / 2 for r in range(len(row_h))]
        centre = {}
        for n, b in boxes.items():
            cx, cy = left + x[b.column], y_row[b.row]
            w, h = size[n]
            centre[n] = (cx, cy, w, h)
            edge = dict(edgecolor=HALVES_EDGE, linewidth=2) if b.halves else dict(
                edgecolor=EDGE, linewidth=1)
            ax.add_patch(FancyBboxPatch((cx - w / 2, cy - h / 2), w, h,
                                        boxstyle="round,pad=0,rounding_size=0.06",
                                        facecolor=COLOURS[b.kind], **edge))
            texts[n].set_position((cx, cy))
            texts[n].set_zorder(3)
        for a, b in edges:
            ax0, ay0, aw, ah = centre[a]
            bx0, by0, bw, bh = centre[b]
            tx = min(max(ax0, bx0 - bw / 2 + 0.15), bx0 + bw / 2 - 0.15)   # land on the box
            sx = min(max(bx0, ax0 - aw / 2 + 0.15), ax0 + aw / 2 - 0.15)   # leave from the box
            ax.annotate("", xy=(tx, by0 + bh / 2), xytext=(sx, ay0 - ah / 2),
                        arrowprops=dict(arrowstyle="-|>", color="#444444", lw=1,
                                        shrinkA=0, shrinkB=0))
        left += width + PANEL_GAP
    kinds = {b.kind for boxes, *_ in panels for b in boxes.values()}
    handles = [Patch(facecolor=COLOURS[k], edgecolor=EDGE, label=v)
               for k, v in LEGEND.items() if k in kinds]
    if any(b.halves for boxes, *_ in panels for b in boxes.values()):
        handles.append(Patch(facecolor="white", edgecolor=HALVES_EDGE, linewidth=2,
                             label="halves height and width"))
    fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=FONT_PT,
               bbox_to_anchor=(0.5, MARGIN / fig_h))
    return fig


def flops_by_role_bars(by_role: Mapping[str, Mapping[str, float]],
                       official: Mapping[str, float] | None = None,
                       image_size: int = 256) -> Figure:
    """Stacked bars: each network's FLOPs by the role of its convolutions, in BFLOPs.

    ``by_role``: ``{network: {role: FLOPs}}`` (``beyond.flops_by_role``); ``official``:
    ``{network: BFLOPs}`` of a published table, drawn as a black mark on each bar.
    """
    if not isinstance(by_role, Mapping) or not by_role:
        raise ValueError(f"by_role must be a non-empty mapping, got {by_role!r}")
    roles = list(next(iter(by_role.values())))
    fig, ax = plt.subplots(figsize=(7.4, 4.4))
    names = list(by_role)
    bottom = [0.0] * len(names)
    for i, role in enumerate(roles):
        values = [by_role[n][role] / 1e9 for n in names]
        ax.bar(range(len(names)), values, bottom=bottom, color=ROLE_BARS[i % len(ROLE_BARS)],
               label=role, edgecolor="white")
        bottom = [b + v for b, v in zip(bottom, values)]
    if official:
        ax.scatter(range(len(names)), [official[n] for n in names], marker="_", s=700,
                   color="black", zorder=3, label="official table")
    ax.set_xticks(range(len(names)), [n.replace("-", "-\n", 1) if len(n) > 10 else n
                                      for n in names], fontsize=FONT_PT)
    ax.set_ylabel(f"BFLOPs per {image_size}\u00d7{image_size} image")
    ax.legend(ncol=2, fontsize=FONT_PT, frameon=False)
    fig.tight_layout()
    return fig


__all__ = ["Box", "COLOURS", "FONT_PT", "flops_by_role_bars", "stage_graph", "stage_pair_figure"]
