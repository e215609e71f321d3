"""Measuring real models: FLOPs with PyTorch's own counter, shapes with forward hooks."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.utils.flop_counter import FlopCounterMode

from .settings import check_int


@dataclass(frozen=True)
class TraceRow:
    """What one labelled module handed on: the same fields as a ``PlanRow``'s first four."""

    stage: int | None
    step: str
    channels: int
    size: int


def _check_model(model: nn.Module) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def count_model_params(model: nn.Module) -> int:
    """Number of parameters (weights, biases, batch-norm scales and shifts) of a built model."""
    _check_model(model)
    return sum(p.numel() for p in model.parameters())


def measure_flops(model: nn.Module, image_size: int = 224) -> int:
    """FLOPs (2 x MACs) of one forward pass on one image, as ``FlopCounterMode`` counts them."""
    _check_model(model)
    image_size = check_int("image_size", image_size, 1, 4096)
    x = torch.zeros(1, getattr(model, "in_channels", 3), image_size, image_size)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(x)
    finally:
        model.train(was_training)
    return counter.get_total_flops()


def _size(t: Tensor) -> int:
    return t.shape[-1] if t.dim() == 4 else 1


def shape_trace(model: nn.Module, x: Tensor) -> list[TraceRow]:
    """Run ``model`` on ``x`` and list what each labelled step hands on, in order.

    Forward hooks watch every module labelled with ``trace_as`` (nothing prints inside
    ``forward``). A bottleneck reports the running total of its dense block: its input channels
    plus the ``k`` it adds. Returns rows comparable with ``channel_plan``'s.
    """
    _check_model(model)
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    rows: list[TraceRow] = []

    def record(module: nn.Module, inputs: tuple, output) -> None:
        stage, step = module.plan_stage, module.plan_step
        if isinstance(output, tuple):  # the split: (part1, part2)
            rows.extend(TraceRow(stage, name, t.shape[1], _size(t)) for name, t in zip(step, output))
        elif step == "bottleneck":
            rows.append(TraceRow(stage, step, inputs[0].shape[1] + output.shape[1], _size(output)))
        else:
            rows.append(TraceRow(stage, step, output.shape[1], _size(output)))

    run_with_hooks(model, x, [m for m in model.modules() if hasattr(m, "plan_step")], record)
    return rows


def run_with_hooks(model: nn.Module, x: Tensor, modules: list[nn.Module], hook) -> None:
    """One forward pass of ``model`` on ``x`` in eval mode without gradients, with ``hook`` as a
    forward hook on each of ``modules``; the hooks are removed and the model's mode restored."""
    handles = [m.register_forward_hook(hook) for m in modules]
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
