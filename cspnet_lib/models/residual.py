"""Residual blocks as the darknet cfgs of the official CSPNet repository build them.

Three blocks, all ``y = act(F(x) + shortcut(x))``:

- ``ResidualBottleneck`` with ``groups=1``: ResNet's bottleneck (He et al. 2016),
  1x1 to ``width``, 3x3 (carrying the stride) at ``width``, 1x1 to ``out_channels``, leaky ReLU
  after the addition.
- ``ResidualBottleneck`` with ``groups=32``: ResNeXt's (Xie et al. 2017), whose 3x3 is a grouped
  convolution of 32 groups.
- ``DarknetResidual``: Darknet-53's (Redmon and Farhadi 2018), 1x1 to ``hidden``, 3x3 back to
  the input width, no activation after the addition.

The shortcut is darknet's, not torchvision's: it has **no projection** (no 1x1 conv). When the
block changes the shape, ``darknet_shortcut`` adds the input, sampled with the block's stride,
into the first ``min(C_in, C_out)`` channels of F(x) and leaves the rest alone.
Every convolution is conv (no bias) -> batch norm -> leaky ReLU 0.1, or no activation when it
feeds the addition (``ConvBNAct(..., act=False)``).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..settings import check_int

LEAKY_SLOPE = 0.1
"""Darknet's ``activation=leaky``: negative inputs are multiplied by 0.1."""


class ConvBNAct(nn.Sequential):
    """Darknet's ``[convolutional]`` with ``batch_normalize=1``: conv -> BN -> leaky ReLU 0.1.

    (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride); padding ``kernel // 2``.
    ``act=False`` is ``activation=linear`` (the conv that feeds a residual addition).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel: int = 1, stride: int = 1,
                 groups: int = 1, act: bool = True) -> None:
        check_int("in_channels", in_channels, 1)
        check_int("out_channels", out_channels, 1)
        check_int("kernel", kernel, 1, 15)
        check_int("stride", stride, 1, 4)
        check_int("groups", groups, 1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel, stride, kernel // 2,
                              groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out_channels)
        self.act = nn.LeakyReLU(LEAKY_SLOPE, inplace=True) if act else nn.Identity()
        self.out_channels = out_channels


def darknet_shortcut(fx: Tensor, x: Tensor, stride: int = 1) -> Tensor:
    """F(x) + x without a projection: x (N, C_in, H, W), fx (N, C_out, H/stride, W/stride).

    x is sampled every ``stride`` pixels and added to the first ``min(C_in, C_out)`` channels of
    fx; the other channels of fx pass unchanged. Equal shapes give the plain ``fx + x``.
    """
    x = x[:, :, ::stride, ::stride]
    if x.shape[2:] != fx.shape[2:]:
        raise ValueError(f"the shortcut cannot add a {tuple(x.shape[2:])} input to a "
                         f"{tuple(fx.shape[2:])} output with stride={stride}")
    c = min(x.shape[1], fx.shape[1])
    if c == fx.shape[1]:
        return fx + x[:, :c]
    return torch.cat([fx[:, :c] + x, fx[:, c:]], dim=1)


class ResidualBottleneck(nn.Module):
    """ResNet's (``groups=1``) or ResNeXt's (``groups=32``) bottleneck with a darknet shortcut.

    (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride):
    y = leaky(conv1x1(conv3x3(conv1x1(x))) + shortcut(x)); the 3x3 carries ``stride`` and ``groups``.
    """

    def __init__(self, in_channels: int, width: int, out_channels: int, stride: int = 1,
                 groups: int = 1) -> None:
        for name, value in (("in_channels", in_channels), ("width", width),
                            ("out_channels", out_channels), ("groups", groups)):
            check_int(name, value, 1)
        if width % groups:
            raise ValueError(f"groups={groups} must divide width={width}")
        super().__init__()
        self.reduce = ConvBNAct(in_channels, width, 1)
        self.conv3x3 = ConvBNAct(width, width, 3, stride, groups)
        self.expand = ConvBNAct(width, out_channels, 1, act=False)
        self.act = nn.LeakyReLU(LEAKY_SLOPE, inplace=True)
        self.stride, self.out_channels = stride, out_channels

    def forward(self, x: Tensor) -> Tensor:
        fx = self.expand(self.conv3x3(self.reduce(x)))
        return self.act(darknet_shortcut(fx, x, self.stride))


class DarknetResidual(nn.Module):
    """Darknet-53's residual block: (N, C, H, W) -> (N, C, H, W).

    y = conv3x3(conv1x1(x)) + x, the 1x1 going to ``hidden`` channels and the 3x3 back to C
    (or to ``out_channels`` if given, with the darknet shortcut); no activation after the addition.
    """

    def __init__(self, in_channels: int, hidden: int, out_channels: int | None = None) -> None:
        out_channels = in_channels if out_channels is None else out_channels
        for name, value in (("in_channels", in_channels), ("hidden", hidden),
                            ("out_channels", out_channels)):
            check_int(name, value, 1)
        super().__init__()
        self.reduce = ConvBNAct(in_channels, hidden, 1)
        self.conv3x3 = ConvBNAct(hidden, out_channels, 3)
        self.out_channels = out_channels

    def forward(self, x: Tensor) -> Tensor:
        return darknet_shortcut(self.conv3x3(self.reduce(x)), x)
