"""Counting a built model: parameters, and FLOPs with PyTorch's own ``FlopCounterMode``."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..settings import check_int
from .hooks import check_module, model_mode


def count_model_params(model: nn.Module) -> int:
    """Number of parameters (weights, biases, batch-norm scales and shifts) of a built model."""
    check_module(model)
    return sum(p.numel() for p in model.parameters())


def measure_flops(model: nn.Module, image_size: int = 224) -> int:
    """FLOPs (2 x MACs) of one forward pass on one image, as ``FlopCounterMode`` counts them."""
    check_module(model)
    image_size = check_int("image_size", image_size, 1, 4096)
    x = torch.zeros(1, getattr(model, "in_channels", 3), image_size, image_size)
    with model_mode(model), torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(x)
    return counter.get_total_flops()


def count_conv_weights(model: nn.Module) -> int:
    """Bare convolution weights, the way the official table counts parameters (no BN, no bias)."""
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Conv2d))
