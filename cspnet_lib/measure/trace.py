"""The shapes a built model hands on, step by step, watched with forward hooks.

The models carry no labels for this (torchvision's carry none either): ``plan_steps`` reads the
plan step of each module from where it sits, its type and the attribute that holds it, as a
reader of ``densenet.py`` or ``csp_stage.py`` would:

- ``Bottleneck`` -> "bottleneck", ``DenseBlock`` -> "dense", a ``Transition`` on its own ->
  "transition", a residual block -> "residual", a ``ConvBNAct`` straight in a stage's
  ``nn.Sequential`` -> "down" (the 3x3 stride-2 conv opening a residual network's stage);
- in a ``CSPStage``: ``split`` -> ("part1", "part2"), ``block`` -> "dense" (a dense block) or
  "blocks" (a stack of residual blocks), ``part2_transition`` -> "first_transition",
  ``concat`` -> "concat", ``fusion_transition`` -> "second_transition";
- a network's ``stem`` (DenseNet: its last stem layer, ``relu0`` or ``pool0``), ``pool`` and
  ``classifier`` -> "stem", "pool", "fc", in no stage.

Stage ``s`` is the ``s``-th entry of a network's ``stages`` (DenseNet: ``denseblock{s+1}`` and
``transition{s+1}``); a part traced on its own (one stage, a block and its transition) is stage
``stage``, 0 unless told. ``trace_as`` labels a module of your own network by hand.
"""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass

from torch import Tensor, nn

from ..models import (Bottleneck, ConvBNAct, CSPStage, DarknetResidual, DenseBlock,
                      ResidualBottleneck, Transition)
from .hooks import check_module, run_with_hooks

__all__ = ["BY_TYPE", "CSP_PARTS", "HEAD", "Step", "TraceRow", "plan_steps", "shape_trace",
           "trace_as"]

Step = str | tuple[str, ...]
"""A plan step's name, or the names of the parts a module returns (the split's two)."""

CSP_PARTS = {"split": ("part1", "part2"), "part2_transition": "first_transition",
             "concat": "concat", "fusion_transition": "second_transition"}
"""The ``shape_trace`` step of each part of a ``CSPStage``, by attribute (``block``: by type)."""

BY_TYPE: tuple[tuple[type[nn.Module], str], ...] = (
    (Bottleneck, "bottleneck"), (DenseBlock, "dense"), (Transition, "transition"),
    (ResidualBottleneck, "residual"), (DarknetResidual, "residual"))
"""The step of a module that says by its type alone what it hands on."""

HEAD = {"pool": "pool", "classifier": "fc"}
"""A network's attributes after its stages, and their steps (no stage)."""

_STAGE_NAME = re.compile(r"(?:denseblock|transition)(\d+)")
_BY_HAND: weakref.WeakKeyDictionary[nn.Module, tuple[int | None, Step]] = \
    weakref.WeakKeyDictionary()


def trace_as(module: nn.Module, stage: int | None, step: Step) -> nn.Module:
    """Have ``shape_trace`` report ``module``'s output as ``step`` of ``stage`` (your own network's
    modules; the library's need no label). Nothing is attached to ``module``; returns it."""
    check_module(module, "module")
    _BY_HAND[module] = (stage, step)
    return module


@dataclass(frozen=True)
class TraceRow:
    """What one labelled module handed on: the same fields as a ``PlanRow``'s first four."""

    stage: int | None
    step: str
    channels: int
    size: int


def _step(module: nn.Module, name: str, parent: nn.Module | None, top: bool) -> Step | None:
    """The plan step of ``module``, held as ``parent.<name>`` (``top``: ``parent`` is the model
    traced); ``None``: not a step."""
    if isinstance(module, nn.Identity):
        return None
    if isinstance(parent, CSPStage):
        if name == "block":
            return "dense" if isinstance(module, DenseBlock) else "blocks"
        return CSP_PARTS.get(name)
    if name == "stem" or (name in ("relu0", "pool0") and _last_stem_layer(parent) == name):
        return "stem"
    if name in HEAD and top:
        return HEAD[name]
    if type(parent) is nn.Sequential and isinstance(module, ConvBNAct):
        return "down"
    return next((step for kind, step in BY_TYPE if isinstance(module, kind)), None)


def _last_stem_layer(parent: nn.Module | None) -> str | None:
    """DenseNet's ``features`` open with conv0, norm0, relu0 and, for ImageNet, pool0."""
    names = dict(parent.named_children()) if parent is not None else {}
    return "pool0" if "pool0" in names else "relu0" if "relu0" in names else None


def plan_steps(model: nn.Module, stage: int = 0) -> dict[nn.Module, tuple[int | None, Step]]:
    """``{module: (stage, step)}`` for every module of ``model`` whose output is a plan step.

    See the module docstring for the rules; a module labelled with ``trace_as`` keeps its label.
    """
    steps: dict[nn.Module, tuple[int | None, Step]] = {}

    def visit(module: nn.Module, name: str, parent: nn.Module | None, s: int | None,
              parent_name: str) -> None:
        if parent_name == "stages" and name.isdigit():
            s = int(name)
        elif (match := _STAGE_NAME.fullmatch(name)) and parent_name == "features":
            s = int(match.group(1)) - 1
        step = _step(module, name, parent, parent is model)
        if module in _BY_HAND:
            steps[module] = _BY_HAND[module]
        elif step is not None:
            steps[module] = (None if step in ("stem", *HEAD.values()) else s, step)
        if step == "stem":
            return  # nothing inside the stem is a step
        for child_name, child in module.named_children():
            visit(child, child_name, module, s, name)

    visit(model, "", None, stage, "")
    return steps


def _size(t: Tensor) -> int:
    return t.shape[-1] if t.dim() == 4 else 1


def shape_trace(model: nn.Module, x: Tensor, *, stage: int = 0) -> list[TraceRow]:
    """Run ``model`` on ``x`` and list what each plan step hands on, in order.

    Forward hooks watch every module ``plan_steps`` names (nothing prints inside ``forward``).
    A bottleneck reports the running total of its dense block: its input channels plus the
    ``k`` it adds. ``stage``: the number of a part traced on its own (a whole network numbers
    its stages itself). Returns rows comparable with ``channel_plan``'s.
    """
    check_module(model)
    if not isinstance(x, Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    steps = plan_steps(model, stage)
    rows: list[TraceRow] = []

    def record(module: nn.Module, inputs: tuple, output) -> None:
        s, step = steps[module]
        if isinstance(output, tuple):  # the split: (part1, part2)
            rows.extend(TraceRow(s, name, t.shape[1], _size(t)) for name, t in zip(step, output))
        elif step == "bottleneck":
            rows.append(TraceRow(s, step, inputs[0].shape[1] + output.shape[1], _size(output)))
        else:
            rows.append(TraceRow(s, step, output.shape[1], _size(output)))

    run_with_hooks(model, x, list(steps), record)
    return rows
