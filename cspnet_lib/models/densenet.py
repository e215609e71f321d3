"""DenseNet (Huang et al. 2017), with torchvision's module names so its weights load."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import Tensor, nn

from .blocks import DenseBlock, Transition, init_weights, stem_layers
from .inputs import check_planned_input
from ..config import DenseNetConfig
from ..plan import build_plan, check_config, plan_by_stage


class DenseNet(nn.Module):
    """DenseNet-BC: a stem, dense blocks joined by compressing transitions, a linear classifier.

    (N, in_channels, H, W) -> (N, num_classes). Channel widths come from
    ``channel_plan("densenet", ...)``; every setting is checked before anything is built.

    A misspelt setting raises TypeError naming the one it most likely meant, and settings whose
    weights would not fit in memory raise ValueError with the count, before anything is built.
    """

    def __init__(self, config: DenseNetConfig | None = None, **overrides: Any) -> None:
        """``config`` (default ``DenseNetConfig()``: DenseNet-121), with any of its settings
        overridden by keyword: ``DenseNet(growth_rate=12)``."""
        super().__init__()
        self.config = c = DenseNetConfig.with_overrides(config, overrides)
        self.in_channels = c.in_channels
        self.min_image_size, plan = build_plan(c)  # checked to fit before a weight is allocated

        features = stem_layers(c.in_channels, c.stem_channels, c.stem)
        channels = c.stem_channels
        for s, rows in enumerate(plan_by_stage(plan)):
            block = DenseBlock(channels, len(rows["bottleneck"]), c.growth_rate, c.bottleneck_width)
            features[f"denseblock{s + 1}"] = block
            channels = rows["dense"].channels
            if "transition" in rows:
                transition = Transition(channels, rows["transition"].channels)
                features[f"transition{s + 1}"] = transition
                channels = rows["transition"].channels
        features["norm5"] = nn.BatchNorm2d(channels)
        self.features = nn.Sequential(features)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(channels, c.num_classes)
        init_weights(self)

    def forward(self, x: Tensor) -> Tensor:
        check_planned_input(self, x)
        features = torch.relu(self.features(x))        # stem, dense blocks, transitions, BN-ReLU
        return self.classifier(torch.flatten(self.pool(features), 1))


def densenet121(*, weights: str | None = None, **config: Any) -> DenseNet:
    """DenseNet-121: growth 32, blocks (6, 12, 24, 16); 7,978,856 parameters.

    ``weights="DEFAULT"`` (or "IMAGENET1K_V1") downloads torchvision's ImageNet weights and
    converts them (``cspnet_lib.models.weights``); ``pretrained=True`` points there.
    """
    return _densenet("densenet121", (6, 12, 24, 16), weights, config)


def densenet169(*, weights: str | None = None, **config: Any) -> DenseNet:
    """DenseNet-169: growth 32, blocks (6, 12, 32, 32); 14,149,480 parameters; ``weights`` as
    for ``densenet121``."""
    return _densenet("densenet169", (6, 12, 32, 32), weights, config)


def densenet201(*, weights: str | None = None, **config: Any) -> DenseNet:
    """DenseNet-201: growth 32, blocks (6, 12, 48, 32); 20,013,928 parameters; ``weights`` as
    for ``densenet121``."""
    return _densenet("densenet201", (6, 12, 48, 32), weights, config)


def _densenet(name: str, repeats: tuple[int, ...], weights: Any, config: dict[str, Any]
              ) -> DenseNet:
    pretrained = config.pop("pretrained", False)
    if weights is None and not pretrained:
        return DenseNet(**{"growth_rate": 32, "repeats": repeats, **config})
    from .weights import densenet_defaults, pretrained_model  # weights.py imports this module

    settings = check_config("densenet", {"growth_rate": 32, "repeats": repeats, **config})
    return pretrained_model(name, weights, settings, densenet_defaults(repeats), pretrained)
