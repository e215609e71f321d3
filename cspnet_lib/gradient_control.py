"""A control for chapter 1's measurement: the same path split, in a residual stack.

In a dense block every layer reads the block's input x0 again. In a residual stack,
``x_ell = x_{ell-1} + H_ell(x_{ell-1})``, x0 also reaches the output by 2^L paths, but no layer
reads x0 itself: each reads the running sum. Grouped by the first layer a path enters, there is
one direct path (the identity all the way) and one group per layer, as in a dense block.

``residual_path_gradients`` splits the gradient of the classification loss at a stack's input
that way. If trained residual paths are about as alike as a trained dense block's, the alignment
comes from the loss they all carry back, not from dense connectivity.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .blocks import Bottleneck, Transition, init_weights, stem_layers
from .gradients import PathGradients, check_images_and_targets
from .settings import check_int


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


def residual_stacks(model: nn.Module) -> list[ResidualStack]:
    """The residual stacks of ``model`` in the order ``modules()`` meets them."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [m for m in model.modules() if isinstance(m, ResidualStack)]


def residual_path_gradients(model: nn.Module, images: Tensor, targets: Tensor,
                            stack: int = 0) -> PathGradients:
    """Split the gradient of ``cross_entropy(model(images), targets)`` at the input x0 of the
    ``stack``-th ``ResidualStack`` of ``model`` by the first layer a path enters.

    Layer ell is fed ``copy_ell + (x_{ell-1} - x0)``: the same values, but the x0 in it is a
    separate leaf, so the gradient arriving at ``copy_ell`` is the group of paths that enter the
    stack's layers at layer ell, and the gradient left at x0 is the direct path. The model runs
    in eval mode; no parameter's ``.grad`` changes. ``images``: (N, C, H, W); ``targets``: (N,).
    """
    stacks = residual_stacks(model)
    if not stacks:
        raise ValueError("model contains no ResidualStack; there is no stack input to measure at")
    check_int("stack", stack, minimum=0, maximum=len(stacks) - 1)
    check_images_and_targets(images, targets)
    target = stacks[stack]
    leaves: list[Tensor] = []
    copies: list[Tensor] = []

    def leaf_input(module: nn.Module, inputs: tuple[Tensor]) -> tuple[Tensor]:
        leaves.append(inputs[0].detach().clone().requires_grad_(True))
        return (leaves[-1],)

    def own_copy(layer: nn.Module, inputs: tuple[Tensor]) -> tuple[Tensor]:
        x0 = leaves[-1]
        copies.append(x0.detach().clone().requires_grad_(True))
        return (copies[-1] + (inputs[0] - x0),)  # x0's own share moves to the copy

    def backward(with_copies: bool) -> tuple[Tensor, ...]:
        leaves.clear()
        copies.clear()
        handles = [target.register_forward_pre_hook(leaf_input)]
        if with_copies:
            handles += [layer.register_forward_pre_hook(own_copy) for layer in target.values()]
        try:
            loss = F.cross_entropy(model(images), targets)
        finally:
            for handle in handles:
                handle.remove()
        return torch.autograd.grad(loss, [*leaves, *copies], materialize_grads=True)

    was_training = model.training
    model.eval()
    try:
        direct, *through = backward(with_copies=True)
        (total,) = backward(with_copies=False)
    finally:
        model.train(was_training)
    names = ["direct"] + [f"layer {i + 1}" for i in range(len(through))]
    vectors = torch.stack([g.flatten() for g in (direct, *through)])
    return PathGradients(names, vectors, total.flatten())
