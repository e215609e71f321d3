"""Chapter 1's path split, in a residual stack: the control for the dense block's.

Grouped by the first layer a path enters, the gradient at a ``ResidualStack``'s input x0 has one
direct path (the identity all the way) and one group per layer, as a dense block's has.
``residual_path_gradients`` splits the gradient of the classification loss that way. If trained
residual paths are about as alike as a trained dense block's, the alignment comes from the loss
they all carry back, not from dense connectivity.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.residual_control import ResidualStack
from ..settings import check_int
from .gradients import PathGradients, check_images_and_targets
from .hooks import check_module, model_mode


def residual_stacks(model: nn.Module) -> list[ResidualStack]:
    """The residual stacks of ``model`` in the order ``modules()`` meets them."""
    return [m for m in check_module(model).modules() if isinstance(m, ResidualStack)]


def residual_path_gradients(model: nn.Module, images: Tensor, targets: Tensor,
                            stack: int = 0) -> PathGradients:
    """Split the gradient of ``cross_entropy(model(images), targets)`` at the input x0 of the
    ``stack``-th ``ResidualStack`` of ``model`` by the first layer a path enters.

    Layer ell is fed ``copy_ell + (x_{ell-1} - x0)``: the same values, but the x0 in it is a
    separate leaf, so the gradient arriving at ``copy_ell`` is the group of paths that enter the
    stack's layers at layer ell, and the gradient left at x0 is the direct path. ``total`` is
    the ordinary gradient of a second pass that feeds ``x0 + (x_{ell-1} - x0)``, the very same
    values, so the paths add up to it to float rounding. The model runs
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
    split = True  # pass 1 splits by path; pass 2 (split = False) is the ordinary gradient

    def leaf_input(module: nn.Module, inputs: tuple[Tensor]) -> tuple[Tensor]:
        leaves.append(inputs[0].detach().clone().requires_grad_(True))
        return (leaves[-1],)

    def own_copy(layer: nn.Module, inputs: tuple[Tensor]) -> tuple[Tensor]:
        x0 = leaves[-1]
        if split:  # x0's own share of the layer's input moves to a copy of its own
            copies.append(x0.detach().clone().requires_grad_(True))
        return ((copies[-1] if split else x0) + (inputs[0] - x0),)

    def backward() -> tuple[Tensor, ...]:
        # Both passes feed every layer x0 + (x_{ell-1} - x0), so they compute the very same
        # values (the subtraction rounds, and a ReLU near zero would notice a difference).
        leaves.clear()
        copies.clear()
        handles = [target.register_forward_pre_hook(leaf_input)]
        handles += [layer.register_forward_pre_hook(own_copy) for layer in target.values()]
        try:
            loss = F.cross_entropy(model(images), targets)
        finally:
            for handle in handles:
                handle.remove()
        return torch.autograd.grad(loss, [*leaves, *copies], materialize_grads=True)

    with model_mode(model):
        direct, *through = backward()
        split = False
        (total,) = backward()
    names = ["direct"] + [f"layer {i + 1}" for i in range(len(through))]
    vectors = torch.stack([g.flatten() for g in (direct, *through)])
    return PathGradients(names, vectors, total.flatten())
