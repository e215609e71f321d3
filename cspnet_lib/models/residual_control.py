"""A residual network for the digits: the control of chapter 1's gradient measurement.

In a dense block every layer reads the block's input x0 again. In a residual stack,
``x_ell = x_{ell-1} + H_ell(x_{ell-1})``, x0 also reaches the output by 2^L paths, but no layer
reads x0 itself: each reads the running sum. ``cspnet_lib.measure.residual_paths`` splits the
gradient at a stack's input the way chapter 1 splits it at a dense block's.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import Tensor, nn

from ..settings import check_int
from .blocks import Bottleneck, Transition, init_weights, stem_layers


class ResidualStack(nn.ModuleDict):
    """``repeats`` pre-activation bottlenecks, each added to its own input.

    Layer ell is BN-ReLU-1x1 conv-BN-ReLU-3x3 conv, C -> C -> C channels (chapter 1's bottleneck
    with the width of the stack), and ``x_ell = x_{ell-1} + H_ell(x_{ell-1})``.
    (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, channels: int, repeats: int) -> None:
        super().__init__()
        check_int("channels", channels, minimum=1)
        check_int("repeats", repeats, minimum=1)
        for i in range(repeats):
            self[f"layer{i + 1}"] = Bottleneck(channels, channels, bottleneck_width=1)

    def forward(self, x0: Tensor) -> Tensor:
        x = x0
        for layer in self.values():
            x = x + layer(x)
        return x


def residual_control(channels: int = 20, repeats: tuple[int, ...] = (6, 6),
                     num_classes: int = 10, in_channels: int = 1) -> nn.Sequential:
    """A small residual network for 8x8 digits, the control of chapter 1's dense network.

    The small stem (a 3x3 conv to ``channels``), one ``ResidualStack`` per entry of ``repeats``
    joined by transitions that double the channels and halve the size, BN-ReLU, global average
    pooling and a linear classifier. (N, in_channels, H, W) -> (N, num_classes).
    """
    check_int("channels", channels, minimum=1)
    if not isinstance(repeats, tuple) or not repeats:
        raise ValueError(f"repeats must be a non-empty tuple of layer counts, got {repeats!r}")
    for r in repeats:
        check_int("repeats", r, minimum=1)
    check_int("num_classes", num_classes, minimum=2)
    check_int("in_channels", in_channels, minimum=1)
    layers = stem_layers(in_channels, channels, "small")
    for s, layer_count in enumerate(repeats):
        layers[f"stack{s + 1}"] = ResidualStack(channels, layer_count)
        if s < len(repeats) - 1:
            layers[f"transition{s + 1}"] = Transition(channels, 2 * channels)
            channels *= 2
    layers.update(OrderedDict(norm=nn.BatchNorm2d(channels), relu=nn.ReLU(),
                              pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(),
                              classifier=nn.Linear(channels, num_classes)))
    return init_weights(nn.Sequential(layers))
