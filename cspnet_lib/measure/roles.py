"""Where a residual network's FLOPs and memory traffic go, by the role of each convolution.

``roles`` names each convolution-holding module of a ``ResidualNet`` (``models.residual_nets``)
by its role in the stage (``ROLES``); ``flops_by_role`` and ``cio_by_role`` add up PyTorch's own
per-module FLOP counts and the measured CIO by role.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models.csp_stage import CSPStage
from ..models.residual import ConvBNAct
from ..models.residual_nets import MIN_IMAGE_SIZE, ResidualNet
from ..settings import check_int
from .cio import cio_by_module
from .hooks import model_mode


ROLES = ("stem", "down", "split", "blocks", "transition", "fusion", "classifier")
"""The role each convolution of a ``ResidualNet`` plays, in the order the figures stack them."""

_CSP_ROLES = (("split", "split"), ("block", "blocks"), ("part2_transition", "transition"),
              ("fusion_transition", "fusion"))


def roles(model: ResidualNet) -> dict[str, str]:
    """``{module name: role}`` for the modules that hold ``model``'s convolutions (``ROLES``)."""
    if not isinstance(model, ResidualNet):
        raise TypeError(f"model must be a ResidualNet of residual_nets.build, got {type(model).__name__}")
    found = {"stem": "stem", "classifier": "classifier"}
    for s, stage in enumerate(model.stages):
        for i, layer in enumerate(stage):
            name = f"stages.{s}.{i}"
            if isinstance(layer, CSPStage):
                found.update({f"{name}.{attr}": role for attr, role in _CSP_ROLES})
            else:
                found[name] = "down" if isinstance(layer, ConvBNAct) else "blocks"
    return found


def flops_by_role(model: ResidualNet, image_size: int = 256) -> dict[str, int]:
    """FLOPs of one image, summed by the role of each convolution (``FlopCounterMode``'s
    per-module counts; on the ``meta`` device this costs no arithmetic)."""
    from torch.utils.flop_counter import FlopCounterMode

    names = roles(model)
    image_size = check_int("image_size", image_size, MIN_IMAGE_SIZE, 4096)
    weight = model.classifier.weight
    x = torch.zeros(1, model.in_channels, image_size, image_size, device=weight.device,
                    dtype=weight.dtype)
    with model_mode(model), FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    per_module = counter.get_flop_counts()   # {"ResidualNet.stem": {op: flops}, ...}
    parts = dict.fromkeys(ROLES, 0)
    for name, role in names.items():
        parts[role] += int(sum(per_module.get(f"ResidualNet.{name}", {}).values()))
    return parts


def cio_by_role(model: ResidualNet, image_size: int = 256) -> dict[str, int]:
    """CIO (input plus output elements of every convolution) of one image, by role."""
    names = roles(model)
    per_conv = cio_by_module(model, image_size)   # {"stem.0.conv": elements, ...}
    parts = dict.fromkeys(ROLES, 0)
    for name, role in names.items():
        parts[role] += sum(n for conv, n in per_conv.items()
                           if conv == name or conv.startswith(name + "."))
    return parts
