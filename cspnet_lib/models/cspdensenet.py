"""CSPDenseNet: DenseNet whose every stage is a cross-stage-partial stage (Wang et al. 2019)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from .blocks import DenseBlock, Transition, init_weights, stem_layers
from .inputs import check_planned_input
from .csp_stage import CSPStage
from ..config import CSPDENSENET_DEFAULTS, CSPDenseNetConfig  # noqa: F401 (DEFAULTS: old path)
from ..plan import build_plan, head_channels, plan_by_stage


class CSPDenseNet(nn.Module):
    """A stem, one ``CSPStage`` with a dense block per entry of ``repeats``, a linear classifier.

    (N, in_channels, H, W) -> (N, num_classes).

    ``fusion`` picks the paper's Figure 3 variant:
    ``"csp"`` (b) transition on part 2 (keeps ``int(channel_pooling * C)``, same size),
    concatenate, second transition (keeps ``int(compression * C)``, halves the size);
    ``"first"`` (c) concatenate, then one transition (``compression``, halves the size);
    ``"last"`` (d) one transition on part 2 only (``compression``, halves the size), then
    concatenate. In (d) part 2 comes out half the size of part 1: part 1 is average-pooled 2x2 to
    match (a pooled concatenation after a non-downsampling transition gives the same tensor).
    The last stage never downsamples and has no transition after its concatenation; like
    DenseNet's ``norm5``, a BN-ReLU precedes the global average pool and the classifier.

    A misspelt setting raises TypeError naming the one it most likely meant, and settings whose
    weights would not fit in memory raise ValueError with the count, before anything is built.
    """

    def __init__(self, config: CSPDenseNetConfig | None = None, **overrides: Any) -> None:
        """``config`` (default ``CSPDenseNetConfig()``: the book's reference model), with any of
        its settings overridden by keyword: ``CSPDenseNet(growth_rate=32, fusion="last")``."""
        super().__init__()
        self.config = c = CSPDenseNetConfig.with_overrides(config, overrides)
        self.in_channels = c.in_channels
        self.min_image_size, plan = build_plan(c)  # checked to fit before a weight is allocated

        self.stem = nn.Sequential(stem_layers(c.in_channels, c.stem_channels, c.stem))
        stages = []
        for s, rows in enumerate(plan_by_stage(plan)):
            dense, concat = rows["dense"], rows["concat"]
            block = DenseBlock(rows["part2"].channels, len(rows["bottleneck"]), c.growth_rate,
                               c.bottleneck_width)
            part2_transition = fusion_transition = part1_path = None
            if "first_transition" in rows:  # fusion "csp" and "last"
                first = rows["first_transition"]
                part2_transition = Transition(dense.channels, first.channels,
                                              downsample=first.size < dense.size)
            if "second_transition" in rows:  # fusion "csp" and "first", all but the last stage
                second = rows["second_transition"]
                fusion_transition = Transition(concat.channels, second.channels)
            if concat.size < dense.size:  # fusion "last": part 2 was downsampled, so part 1 too
                part1_path = nn.AvgPool2d(kernel_size=2, stride=2)
            stages.append(CSPStage(block, c.fusion, split_ratio=c.split_ratio,
                                   part2_transition=part2_transition,
                                   fusion_transition=fusion_transition, part1_path=part1_path))
        self.stages = nn.Sequential(*stages)
        channels = head_channels(plan)
        self.norm = nn.BatchNorm2d(channels)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, c.num_classes)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        check_planned_input(self, x)                  # x: (N, in_channels, H, W)
        features = self.stages(self.stem(x))          # (N, C, H/32, W/32) for ImageNet's stem
        pooled = self.pool(torch.relu(self.norm(features)))  # BN-ReLU, then (N, C, 1, 1)
        return self.classifier(torch.flatten(pooled, 1))     # (N, num_classes)


def seed_cspdensenet(**overrides: Any) -> CSPDenseNet:
    """The reference CSPDenseNet: growth 12, channel pooling 0.8, compression 0.5, split 0.5,
    repeats (6, 12, 24, 16), fusion "csp"; the configuration whose shape trace the book reproduces."""
    return CSPDenseNet(CSPDenseNetConfig(), **overrides)
