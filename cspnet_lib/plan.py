"""Channel arithmetic, in one place and without torch.

``channel_plan`` walks a DenseNet or a CSPDenseNet from the stem to the classifier and writes one
row per step: which stage, what happened, how many channels and pixels come out, and what that
step costs (parameters, FLOPs, and the paper's memory-traffic measure CIO). Everything else agrees
with it: the models read their widths from the plan, ``count_params``/``count_flops`` add up its
rows, the sliders redraw from it, and the book's JavaScript explorer is a line-by-line port
(``book/explorer/plan.js``) that a test compares with this file.

Conventions (the same as ``torch.utils.flop_counter.FlopCounterMode``):
FLOPs = 2 x multiply-accumulates of convolutions and of the linear classifier, for one image;
batch norm, ReLU, pooling and concatenation count zero. Parameters are those of
``nn.Module.parameters()``: conv weights (no bias), batch-norm scale and shift, linear weight and
bias. CIO (Chao et al., HarDNet) = sum over convolutions of input plus output feature-map sizes,
in elements (channels x height x width).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .config import (CSPDENSENET_DEFAULTS, DENSENET_DEFAULTS, KINDS, CSPDenseNetConfig,
                     DenseNetConfig, make_config)
from .settings import (FUSIONS, STEMS, ImageTooSmall, check_fits,  # noqa: F401 (FUSIONS, STEMS:
                       check_int)  # old path)

@dataclass(frozen=True)
class PlanRow:
    """One step of a network: what comes out of it and what it costs (for one image)."""

    stage: int | None  # 0, 1, ... ; None for the stem and the head
    step: str  # "stem", "part1", "bottleneck", "dense", "concat", "fc", ...
    channels: int  # channels coming out of this step
    size: int  # height = width coming out of this step (1 for "pool" and "fc")
    params: int = 0
    flops: int = 0
    cio: int = 0


# --- the arithmetic of single pieces --------------------------------------------------------

def split_sizes(channels: int, split_ratio: float = 0.5) -> tuple[int, int]:
    """Channels of (part 1, part 2): part 2 gets ``int(C * ratio)``, part 1 keeps the rest."""
    part2 = int(channels * split_ratio)
    return channels - part2, part2


def transition_channels(channels: int, ratio: float) -> int:
    """Channels a 1x1 transition keeps: ``int(C * ratio)`` (``int`` truncates)."""
    return int(channels * ratio)


def dense_block_channels(in_channels: int, repeats: int, growth_rate: int) -> int:
    """A dense block of ``repeats`` bottlenecks adds ``growth_rate`` channels per bottleneck."""
    return in_channels + repeats * growth_rate


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0) -> int:
    """Spatial size after a convolution or pooling window (PyTorch's floor rule)."""
    return (size + 2 * padding - kernel) // stride + 1


def conv_cost(c_in: int, c_out: int, kernel: int, size_in: int, size_out: int) -> tuple[int, int, int]:
    """(params, FLOPs, CIO) of a bias-free ``kernel x kernel`` convolution."""
    weights = c_in * c_out * kernel * kernel
    return weights, 2 * weights * size_out * size_out, c_in * size_in**2 + c_out * size_out**2


def bottleneck_row(stage: int, c_in: int, growth_rate: int, width: int, size: int) -> PlanRow:
    """BN-ReLU-1x1 conv to ``width * k``, BN-ReLU-3x3 conv to ``k``; the row counts the block's
    running total ``c_in + k``, because the new ``k`` channels are concatenated to the input."""
    inner = width * growth_rate
    p1, f1, io1 = conv_cost(c_in, inner, 1, size, size)
    p3, f3, io3 = conv_cost(inner, growth_rate, 3, size, size)
    params = 2 * c_in + p1 + 2 * inner + p3  # two batch norms and two convolutions
    return PlanRow(stage, "bottleneck", c_in + growth_rate, size, params, f1 + f3, io1 + io3)


def transition_row(stage: int | None, step: str, c_in: int, ratio: float, size: int,
                   downsample: bool) -> PlanRow:
    """BN-ReLU-1x1 conv to ``int(ratio * C)`` channels, then (if ``downsample``) 2x2 average pool."""
    c_out = transition_channels(c_in, ratio)
    params, flops, cio = conv_cost(c_in, c_out, 1, size, size)  # the conv runs before the pool
    return PlanRow(stage, step, c_out, size // 2 if downsample else size, 2 * c_in + params, flops, cio)


# --- settings ---------------------------------------------------------------------------------

def check_config(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    """Fill in defaults and validate every setting of ``kind``; return the full settings
    (``config.DenseNetConfig`` or ``CSPDenseNetConfig`` as keywords)."""
    return make_config(kind, config).as_dict()


def _check_channels(row: PlanRow, hint: str) -> None:
    if row.channels < 1:
        where = "the stem" if row.stage is None else f"stage {row.stage}"
        raise ValueError(f"these settings leave {where} with 0 channels at step {row.step!r}; {hint}")


def _check_size(row: PlanRow, image_size: int) -> None:
    if row.size < 1:
        where = "the stem" if row.stage is None else f"stage {row.stage}"
        raise ImageTooSmall(
            f"image_size={image_size} is too small: {where} would be 0x0 pixels at step "
            f"{row.step!r}; use a larger image_size or fewer stages (len(repeats))"
        )


# --- the plan ---------------------------------------------------------------------------------

def stem_row(c: dict[str, Any], image_size: int) -> PlanRow:
    """The stem: 7x7/2 conv + BN-ReLU + 3x3/2 max pool ("imagenet") or 3x3/1 conv + BN-ReLU ("small")."""
    if c["stem"] == "imagenet":
        conv_size = conv_output_size(image_size, 7, 2, 3)
        params, flops, cio = conv_cost(c["in_channels"], c["stem_channels"], 7, image_size, conv_size)
        size = conv_output_size(conv_size, 3, 2, 1)
    else:
        params, flops, cio = conv_cost(c["in_channels"], c["stem_channels"], 3, image_size, image_size)
        size = image_size
    return PlanRow(None, "stem", c["stem_channels"], size, params + 2 * c["stem_channels"], flops, cio)


def head_rows(channels: int, num_classes: int) -> list[PlanRow]:
    """BN-ReLU and global average pooling, then the linear classifier (weight and bias)."""
    return [
        PlanRow(None, "pool", channels, 1, 2 * channels),
        PlanRow(None, "fc", num_classes, 1, channels * num_classes + num_classes, 2 * channels * num_classes),
    ]


def dense_block_rows(stage: int, c_in: int, size: int, c: dict[str, Any]) -> list[PlanRow]:
    """One row per bottleneck, then the block's output (all input and new channels)."""
    rows, channels = [], c_in
    for _ in range(c["repeats"][stage]):
        rows.append(bottleneck_row(stage, channels, c["growth_rate"], c["bottleneck_width"], size))
        channels = rows[-1].channels
    out = dense_block_channels(c_in, c["repeats"][stage], c["growth_rate"])
    return rows + [PlanRow(stage, "dense", out, size)]


def densenet_plan(c: dict[str, Any], image_size: int) -> list[PlanRow]:
    """DenseNet: stem, then per stage a dense block and (but after the last) a transition."""
    rows = [stem_row(c, image_size)]
    last = len(c["repeats"]) - 1
    for stage in range(last + 1):
        rows += dense_block_rows(stage, rows[-1].channels, rows[-1].size, c)
        if stage < last:
            rows.append(transition_row(stage, "transition", rows[-1].channels, c["compression"],
                                       rows[-1].size, downsample=True))
    return rows + head_rows(rows[-1].channels, c["num_classes"])


def csp_stage_rows(stage: int, c_in: int, size: int, c: dict[str, Any], last: bool) -> list[PlanRow]:
    """One cross-stage-partial stage: split, dense block on part 2, fuse by ``c["fusion"]``.

    ``"first_transition"`` is the transition on part 2 before the concatenation and
    ``"second_transition"`` the one after it. Fusion "csp" has both (the last stage has no second);
    "first" has only the second; "last" has only the first, which compresses and downsamples, and
    part 1 is average-pooled 2x2 to the same size (no parameters, no FLOPs).
    """
    part1, part2 = split_sizes(c_in, c["split_ratio"])
    rows = [PlanRow(stage, "part1", part1, size), PlanRow(stage, "part2", part2, size)]
    rows += dense_block_rows(stage, part2, size, c)
    dense = rows[-1]
    if c["fusion"] == "csp":
        rows.append(transition_row(stage, "first_transition", dense.channels, c["channel_pooling"],
                                   size, downsample=False))
    elif c["fusion"] == "last":
        rows.append(transition_row(stage, "first_transition", dense.channels, c["compression"],
                                   size, downsample=not last))
    fused = rows[-1]  # what is concatenated with part 1
    rows.append(PlanRow(stage, "concat", part1 + fused.channels, fused.size))
    if c["fusion"] in ("csp", "first") and not last:
        rows.append(transition_row(stage, "second_transition", rows[-1].channels, c["compression"],
                                   size, downsample=True))
    return rows


def cspdensenet_plan(c: dict[str, Any], image_size: int) -> list[PlanRow]:
    """CSPDenseNet: stem, then one cross-stage-partial stage per entry of ``repeats``."""
    rows = [stem_row(c, image_size)]
    last = len(c["repeats"]) - 1
    for stage in range(last + 1):
        rows += csp_stage_rows(stage, rows[-1].channels, rows[-1].size, c, stage == last)
    return rows + head_rows(rows[-1].channels, c["num_classes"])


def channel_plan(kind: str, image_size: int = 224, **config: Any) -> list[PlanRow]:
    """Every step of a ``"densenet"`` or ``"cspdensenet"`` with its channels, size and cost.

    ``config`` takes the model constructor's keywords (``growth_rate``, ``repeats``, ...).

    >>> [(r.step, r.channels, r.size) for r in channel_plan("cspdensenet")[:3]]
    [('stem', 64, 56), ('part1', 32, 56), ('part2', 32, 56)]
    """
    c = check_config(kind, config)
    image_size = check_int("image_size", image_size, 1, 4096)
    rows = densenet_plan(c, image_size) if kind == "densenet" else cspdensenet_plan(c, image_size)
    hint = "raise stem_channels, growth_rate, compression or channel_pooling, or move split_ratio toward 0.5"
    for row in rows:
        _check_channels(row, hint)
        _check_size(row, image_size)
    return rows


def head_channels(rows: list[PlanRow]) -> int:
    """Channels the last stage hands the head: those of the plan's ``"pool"`` row."""
    return next(row.channels for row in rows if row.step == "pool")


def plan_by_stage(rows: list[PlanRow]) -> list[dict[str, Any]]:
    """Group a plan's stage rows: ``[{"part1": row, "bottleneck": [rows], "dense": row, ...}, ...]``."""
    stages: list[dict[str, Any]] = []
    for row in rows:
        if row.stage is None:
            continue
        if row.stage == len(stages):
            stages.append({"bottleneck": []})
        if row.step == "bottleneck":
            stages[row.stage]["bottleneck"].append(row)
        else:
            stages[row.stage][row.step] = row
    return stages


def count_params(kind: str, image_size: int | None = None, **config: Any) -> int:
    """Parameters of the model ``kind`` would build with ``config``; no model is built.

    They do not depend on the image size: without ``image_size`` the plan is walked at the
    smallest size these settings take (a given ``image_size`` is checked all the same).
    """
    if image_size is None:
        image_size = min_image_size(kind, **config)
    return sum(row.params for row in channel_plan(kind, image_size, **config))


def check_model_fits(kind: str, rows: list[PlanRow]) -> None:
    """Refuse to build a model whose float32 weights alone would fill half of this machine's memory."""
    params = sum(row.params for row in rows)
    check_fits(f"a {kind} with {params:,} parameters (float32 weights)", 4 * params,
               "lower growth_rate, bottleneck_width or repeats; count_params() counts them "
               "without building anything")


def build_plan(config: DenseNetConfig | CSPDenseNetConfig) -> tuple[int, list[PlanRow]]:
    """What a model is built from: the smallest image ``config`` takes, and its channel plan at
    that size (the widths do not depend on the image size), checked to fit in memory before a
    single weight is allocated."""
    if not isinstance(config, (DenseNetConfig, CSPDenseNetConfig)):
        raise TypeError(f"config must be a DenseNetConfig or CSPDenseNetConfig, got "
                        f"{type(config).__name__}; make_config(kind, settings) makes one")
    settings = config.as_dict()
    size = min_image_size(config.kind, **settings)
    plan = channel_plan(config.kind, size, **settings)
    check_model_fits(config.kind, plan)
    return size, plan


def count_flops(kind: str, image_size: int = 224, **config: Any) -> int:
    """FLOPs (2 x MACs) of one forward pass on one ``image_size`` image; no model is built."""
    return sum(row.flops for row in channel_plan(kind, image_size, **config))


def count_cio(kind: str, image_size: int = 224, **config: Any) -> int:
    """CIO: input plus output feature-map elements summed over every convolution, one image."""
    return sum(row.cio for row in channel_plan(kind, image_size, **config))


def min_image_size(kind: str, **config: Any) -> int:
    """The smallest ``image_size`` that survives every downsampling of these settings."""
    check_config(kind, config)
    low, high = 1, 4096
    while low < high:  # the sizes only grow with image_size, so bisect
        mid = (low + high) // 2
        try:
            channel_plan(kind, mid, **config)
            high = mid
        except ImageTooSmall:
            low = mid + 1
    return low


# --- where the FLOPs go -------------------------------------------------------------------------

BREAKDOWN_PARTS = ("stem", "bottleneck_1x1", "bottleneck_3x3", "transition", "first_transition",
                   "second_transition", "head")
"""The components of ``flops_breakdown``, in the order the network runs them. ``"transition"`` is
DenseNet's (between dense blocks); ``"first_transition"`` (on part 2, before the concatenation)
and ``"second_transition"`` (after it) are CSPDenseNet's; ``"head"`` is the linear classifier."""


def flops_breakdown(kind: str, image_size: int = 224, **config: Any) -> dict[str, int]:
    """FLOPs of one forward pass on one image, split by component (keys: ``BREAKDOWN_PARTS``).

    Every component a model lacks is 0, so two models' breakdowns line up key by key. A
    bottleneck row holds its two convolutions together; they are separated here with
    ``conv_cost``: the 1x1 conv sees the row's input (``channels - k``) and writes
    ``bottleneck_width * k`` channels, the 3x3 conv maps those to ``k``. The values add up to
    ``count_flops(kind, image_size, **config)`` exactly.

    >>> parts = flops_breakdown("densenet", growth_rate=12)
    >>> sum(parts.values()) == count_flops("densenet", growth_rate=12)
    True
    """
    c = check_config(kind, config)
    parts = dict.fromkeys(BREAKDOWN_PARTS, 0)
    for row in channel_plan(kind, image_size, **config):
        if row.step == "bottleneck":
            inner = c["bottleneck_width"] * c["growth_rate"]
            f1 = conv_cost(row.channels - c["growth_rate"], inner, 1, row.size, row.size)[1]
            f3 = conv_cost(inner, c["growth_rate"], 3, row.size, row.size)[1]
            if f1 + f3 != row.flops:  # the plan and this split must agree to the FLOP
                raise AssertionError(f"bottleneck split {f1} + {f3} != plan row {row.flops}")
            parts["bottleneck_1x1"] += f1
            parts["bottleneck_3x3"] += f3
        elif row.step in ("stem", "transition", "first_transition", "second_transition"):
            parts[row.step] += row.flops
        elif row.step == "fc":
            parts["head"] += row.flops
        elif row.flops:
            raise AssertionError(f"plan step {row.step!r} costs FLOPs but has no component")
    return parts
