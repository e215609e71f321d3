"""DenseNet's building blocks, and the channel split that CSPNet adds.

Shapes use N (batch), C (channels), H x W (pixels); ``k`` is the growth rate.
Module and attribute names follow torchvision's ``densenet.py`` so its weights load.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import Tensor, nn

from ..plan import dense_block_channels, split_sizes
from ..settings import STEMS, check_choice, check_fraction, check_int


def split_channels(x: Tensor, split_ratio: float = 0.5) -> tuple[Tensor, Tensor]:
    """Split ``x`` (N, C, H, W) along channels into ``(part1, part2)``, CSPNet's x0 = [x0', x0''].

    Part 2 (the path through the dense block) gets ``int(C * split_ratio)`` channels and part 1
    (the bypass) the rest, so an odd C gives part 1 the extra channel. Both are views, not copies.
    """
    if not isinstance(x, Tensor) or x.dim() < 2:
        raise ValueError(f"x must be a tensor shaped (N, C, ...), got {type(x).__name__} "
                         f"with shape {tuple(getattr(x, 'shape', ()))}")
    split_ratio = check_fraction("split_ratio", split_ratio, include_one=False)
    part1, part2 = split_sizes(x.shape[1], split_ratio)
    if part1 < 1 or part2 < 1:
        raise ValueError(f"split_ratio={split_ratio} splits {x.shape[1]} channels into {part1} + "
                         f"{part2}; each part needs at least one channel")
    return x[:, :part1], x[:, part1:]


class ChannelSplit(nn.Module):
    """``split_channels`` as a module, so a forward hook can see both parts."""

    def __init__(self, split_ratio: float = 0.5) -> None:
        super().__init__()
        self.split_ratio = check_fraction("split_ratio", split_ratio, include_one=False)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return split_channels(x, self.split_ratio)

    def extra_repr(self) -> str:
        return f"split_ratio={self.split_ratio}"


class Concat(nn.Module):
    """Concatenate along channels: (N, C1, H, W), (N, C2, H, W) -> (N, C1 + C2, H, W)."""

    def forward(self, *parts: Tensor) -> Tensor:
        return torch.cat(parts, dim=1)


class Bottleneck(nn.Module):
    """One dense layer: BN-ReLU-1x1 conv to ``width * k`` channels, BN-ReLU-3x3 conv to ``k``.

    (N, C, H, W) -> (N, k, H, W): it returns only its ``k`` new channels; ``DenseBlock``
    concatenates them to everything before.
    """

    def __init__(self, in_channels: int, growth_rate: int, bottleneck_width: int = 4) -> None:
        super().__init__()
        check_int("in_channels", in_channels)
        check_int("growth_rate", growth_rate)
        inner = check_int("bottleneck_width", bottleneck_width) * growth_rate
        self.norm1 = nn.BatchNorm2d(in_channels)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_channels, inner, kernel_size=1, bias=False)
        self.norm2 = nn.BatchNorm2d(inner)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(inner, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.ModuleDict):
    """``repeats`` bottlenecks, each fed the concatenation of the input and all earlier outputs.

    x_l = H_l([x_0, x_1, ..., x_{l-1}]); the block returns [x_0, x_1, ..., x_L]:
    (N, C, H, W) -> (N, C + repeats * k, H, W), ``out_channels`` = C + repeats * k.
    """

    def __init__(self, in_channels: int, repeats: int, growth_rate: int,
                 bottleneck_width: int = 4) -> None:
        super().__init__()
        check_int("repeats", repeats)
        for i in range(repeats):
            self[f"denselayer{i + 1}"] = Bottleneck(in_channels + i * growth_rate, growth_rate,
                                                    bottleneck_width)
        self.out_channels = dense_block_channels(in_channels, repeats, growth_rate)

    def forward(self, x0: Tensor) -> Tensor:
        features = [x0]
        for layer in self.values():
            features.append(layer(torch.cat(features, dim=1)))
        return torch.cat(features, dim=1)


class Transition(nn.Sequential):
    """BN-ReLU-1x1 conv to ``out_channels``, then (if ``downsample``) 2x2 average pooling.

    (N, C, H, W) -> (N, out_channels, H/2, W/2), or H x W kept when ``downsample=False``
    (CSPNet's first transition, which only reduces the channels). The plan decides
    ``out_channels``: ``int(compression * C)`` in DenseNet.
    """

    def __init__(self, in_channels: int, out_channels: int, downsample: bool = True) -> None:
        layers = OrderedDict(
            norm=nn.BatchNorm2d(check_int("in_channels", in_channels)),
            relu=nn.ReLU(inplace=True),
            conv=nn.Conv2d(in_channels, check_int("out_channels", out_channels), 1, bias=False),
        )
        if downsample:
            layers["pool"] = nn.AvgPool2d(kernel_size=2, stride=2)
        super().__init__(layers)
        self.out_channels = out_channels


def stem_layers(in_channels: int, stem_channels: int, stem: str = "imagenet") -> OrderedDict:
    """The stem, with torchvision's names: (N, 3, H, W) -> (N, stem_channels, H/4, W/4).

    ``"imagenet"``: 7x7 stride-2 conv, BN-ReLU, 3x3 stride-2 max pool.
    ``"small"``: 3x3 stride-1 conv and BN-ReLU, size kept (for 8x8 or 32x32 images).
    """
    check_choice("stem", stem, STEMS)
    layers = OrderedDict()
    if stem == "imagenet":
        layers["conv0"] = nn.Conv2d(in_channels, stem_channels, 7, stride=2, padding=3, bias=False)
    else:
        layers["conv0"] = nn.Conv2d(in_channels, stem_channels, 3, padding=1, bias=False)
    layers["norm0"] = nn.BatchNorm2d(stem_channels)
    layers["relu0"] = nn.ReLU(inplace=True)
    if stem == "imagenet":
        layers["pool0"] = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    return layers


def init_weights(model: nn.Module) -> nn.Module:
    """torchvision's DenseNet initialisation: He-normal convs, BN scale 1 and shift 0, zero biases."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear):
            nn.init.zeros_(m.bias)
    return model
