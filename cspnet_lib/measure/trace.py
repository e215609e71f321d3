"""The shapes a built model hands on, step by step, watched with forward hooks."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from .hooks import check_module, run_with_hooks


@dataclass(frozen=True)
class TraceRow:
    """What one labelled module handed on: the same fields as a ``PlanRow``'s first four."""

    stage: int | None
    step: str
    channels: int
    size: int


def _size(t: Tensor) -> int:
    return t.shape[-1] if t.dim() == 4 else 1


def shape_trace(model: nn.Module, x: Tensor) -> list[TraceRow]:
    """Run ``model`` on ``x`` and list what each labelled step hands on, in order.

    Forward hooks watch every module labelled with ``trace_as`` (nothing prints inside
    ``forward``). A bottleneck reports the running total of its dense block: its input channels
    plus the ``k`` it adds. Returns rows comparable with ``channel_plan``'s.
    """
    check_module(model)
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
