"""Checking what a model is given, before it runs: one clear sentence instead of a torch error.

``check_images`` holds for every network of the library: a 4-D float tensor of the model's dtype,
the right channels, large enough. ``check_batch`` adds what only the batch as a whole can break:
batch norm in training mode needs more than one value per channel in its smallest feature map,
the activations must fit in this machine's memory, and every value must be finite. The DenseNets
read their feature maps from the channel plan (``plan_feature_maps``); the residual networks walk
their strided layers (``strided_feature_maps``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import torch
from torch import Tensor, nn

from ..config import CSPDenseNetConfig, DenseNetConfig
from ..plan import channel_plan
from ..settings import check_fits, memory_size


def check_images(x: Any, in_channels: int | None = None, min_size: int = 1,
                 dtype: torch.dtype | None = None, *, name: str = "x") -> None:
    """Reject a batch a model cannot take: not a tensor (TypeError), wrong dtype (TypeError),
    not (N, in_channels, H, W) or smaller than ``min_size`` (ValueError).

    ``in_channels=None``: any C; ``dtype=None``: any floating dtype (what the measurements of
    ``cspnet_lib.measure`` take). ``name``: the argument's name in the messages.
    """
    channels = "C" if in_channels is None else in_channels
    if not isinstance(x, Tensor):
        how = ("; convert it with torch.from_numpy(x).float()"
               if type(x).__module__ == "numpy" else "")
        raise TypeError(f"{name} must be a torch.Tensor shaped (N, {channels}, H, W), "
                        f"got {type(x).__name__}{how}")
    shape = tuple(x.shape)
    if dtype is None and (x.dim() != 4 or not x.is_floating_point()):
        raise ValueError(f"{name} must be a float tensor shaped (N, {channels}, H, W), got shape "
                         f"{shape} and dtype {x.dtype}")
    if x.dim() == 3 and shape[0] == in_channels:
        raise ValueError(f"{name} has shape {shape}: one image without a batch dimension; "
                         f"{name}.unsqueeze(0) makes it (1, {', '.join(map(str, shape))})")
    if x.dim() != 4:
        raise ValueError(f"{name} must be a tensor shaped (N, {channels}, H, W), got shape {shape}")
    if dtype is not None and x.dtype != dtype:
        scale = " / 255 (pixels 0-255 to 0-1)" if not x.dtype.is_floating_point else ""
        convert = f"{name}.float()" if dtype == torch.float32 else f"{name}.to({dtype})"
        raise TypeError(f"x has dtype {x.dtype} but the model's weights are {dtype}; "
                        f"convert with {convert}{scale}")
    if in_channels is not None and shape[1] != in_channels:
        raise ValueError(f"{name} has {shape[1]} channels but the model was built with "
                         f"in_channels={in_channels}")
    if min(shape[2:]) < min_size:
        raise ValueError(f"{name} is {shape[2]}x{shape[3]} pixels; these settings need at least "
                         f"{min_size}x{min_size}")


def check_batch(x: Tensor, training: bool, smallest_map: tuple[int, int],
                activation_bytes: int) -> None:
    """Refuse a batch batch norm cannot train on, whose activations cannot fit, or that holds
    NaN or infinite values (every output would be NaN).

    ``smallest_map``: (height, width) of the network's smallest feature map for this input;
    ``activation_bytes``: the feature maps of one image, in bytes.
    """
    n, _, h, w = x.shape
    if training and n * smallest_map[0] * smallest_map[1] == 1:
        raise ValueError(
            f"in training mode batch norm needs more than one value per channel, but one "
            f"{h}x{w} image leaves the smallest feature map {smallest_map[0]}x{smallest_map[1]}; "
            f"use a batch of 2 or more, larger images, or model.eval()")
    check_fits(f"a batch of {n} images of {h}x{w} ({memory_size(activation_bytes)} of feature "
               f"maps per image)", n * activation_bytes,
               "use a smaller batch or smaller images (or torch.no_grad() for inference)")
    # A NaN would silently make every logit NaN. A sum is finite exactly when every element is
    # (short of a float32 overflow): one pass over the input, well under 1% of a forward pass on
    # the CPU. On a GPU reading the answer would stall the device, so the check is skipped there.
    if x.device.type == "cpu" and not bool(torch.isfinite(x.sum())):
        raise ValueError("x contains NaN or infinite values; every output would be NaN")


@lru_cache(maxsize=64)
def _plan_maps(config: DenseNetConfig | CSPDenseNetConfig, height: int, width: int,
               keep_all: bool) -> tuple[tuple[int, int], int]:
    rows_h = channel_plan(config.kind, height, **config.as_dict())
    rows_w = channel_plan(config.kind, width, **config.as_dict())
    stage_rows = [(rh, rw) for rh, rw in zip(rows_h, rows_w) if rh.stage is not None]
    smallest = min(((rh.size, rw.size) for rh, rw in stage_rows), key=lambda s: s[0] * s[1])
    per_stage: dict[Any, int] = {}
    for rh, rw in zip(rows_h, rows_w):
        per_stage[rh.stage] = per_stage.get(rh.stage, 0) + rh.channels * rh.size * rw.size
    # With autograd on, every feature map is kept for the backward pass; without it, about one
    # stage's maps are alive at a time (a dense block keeps all of its own).
    elements = sum(per_stage.values()) if keep_all else max(per_stage.values())
    return smallest, 4 * elements


def plan_feature_maps(config: DenseNetConfig | CSPDenseNetConfig,
                      x: Tensor) -> tuple[tuple[int, int], int]:
    """(smallest feature map (h, w), bytes of float32 feature maps per image), from the plan
    of the network ``config`` describes (a frozen config is its own cache key)."""
    return _plan_maps(config, x.shape[2], x.shape[3], torch.is_grad_enabled())


def strided_feature_maps(model: nn.Module, x: Tensor) -> tuple[tuple[int, int], int]:
    """The same for a network whose layers run in the order they are defined (the residual
    networks): walk the convolutions and poolings, shrinking (h, w) at every stride, and add up
    the convolutions' outputs (with autograd off, only the largest counts)."""
    h, w = x.shape[2], x.shape[3]
    outputs = []
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            k, s, p = (v if isinstance(v, int) else v[0]
                       for v in (m.kernel_size, m.stride, m.padding))
            h, w = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
            if isinstance(m, nn.Conv2d):
                outputs.append(m.out_channels * h * w)
    elements = sum(outputs) if torch.is_grad_enabled() else max(outputs)
    return (h, w), 4 * elements


def check_planned_input(model: nn.Module, x: Any) -> None:
    """``check_images`` and ``check_batch`` for a DenseNet or CSPDenseNet, whose feature maps
    come from its channel plan (``model.config``); x: (N, in_channels, H, W)."""
    check_images(x, model.in_channels, model.min_image_size, model.classifier.weight.dtype)
    check_batch(x, model.training, *plan_feature_maps(model.config, x))
