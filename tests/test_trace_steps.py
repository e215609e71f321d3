"""``shape_trace`` reads the plan steps from the models' structure, not from labels in them.

``shape_traces.json`` holds the traces the labelled models (``trace_as`` at every call site,
``plan_step`` set by the blocks) gave before the labels left the models: every network, each
fusion, a couple of sizes, and the parts chapters 2 and 3 trace on their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from torch import nn

import cspnet_lib as lib
from cspnet_lib.models import residual_nets as rn

BEFORE = json.loads((Path(__file__).parent / "shape_traces.json").read_text(encoding="utf-8"))


def _cases():
    """(name, model, image size or None for a stage traced on its own); the names of BEFORE."""
    for size in (32, 64):
        for stem in ("small", "imagenet"):
            if stem == "imagenet" and size < 64:
                continue
            cfg = dict(growth_rate=4, repeats=(2, 3, 2), stem_channels=8, num_classes=5, stem=stem)
            torch.manual_seed(0)
            yield f"densenet/{stem}/{size}", lib.DenseNet(**cfg), size
            for fusion in ("csp", "first", "last"):
                model = lib.CSPDenseNet(fusion=fusion, **cfg)
                yield f"cspdensenet/{fusion}/{stem}/{size}", model, size
                yield f"cspdensenet/{fusion}/{stem}/{size}/stage0", model.stages[0], None
            dense = lib.DenseNet(**cfg).features  # chapter 3's stage 0 of DenseNet
            yield (f"densenet/{stem}/{size}/stage0",
                   nn.Sequential(dense.denseblock1, dense.transition1), None)
    for size in (64, 96):
        with torch.device("meta"):
            for name, spec in rn.SPECS.items():
                yield f"{name}/{size}", rn.build(name, repeats=(1,) * len(spec.repeats),
                                                 num_classes=10), size
                for fusion in ("first", "last") if spec.csp else ():
                    yield f"{name}/{fusion}/{size}", rn.build(
                        name, repeats=(2,) * len(spec.repeats), num_classes=10,
                        fusion=fusion), size
                if name in rn.TIMM_SPECS:
                    yield f"{name}/timm/{size}", rn.build(name, variant="timm",
                                                          num_classes=10), size


def _trace(model: nn.Module, size: int | None) -> list[list]:
    if size is None:  # a stage: twice the width of its part 2, any size
        if isinstance(model, lib.CSPStage):
            channels = 2 * next(iter(model.block.values())).norm1.num_features
        else:
            channels = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d)).num_features
        x = torch.zeros(1, channels, 16, 16)
    else:
        x = torch.zeros(2, 3, size, size, device=next(model.parameters()).device)
    return [[r.stage, list(r.step) if isinstance(r.step, tuple) else r.step, r.channels, r.size]
            for r in lib.shape_trace(model, x)]


def test_every_trace_is_what_the_labels_gave():
    cases = {name: _trace(model, size) for name, model, size in _cases()}
    assert cases.keys() == BEFORE.keys()
    for name, rows in cases.items():
        assert rows == BEFORE[name], name


def test_the_models_carry_no_labels():
    for model in (lib.CSPDenseNet(growth_rate=4, repeats=(2, 2), stem="small"),
                  lib.DenseNet(growth_rate=4, repeats=(2, 2), stem="small")):
        assert not [m for m in model.modules() if hasattr(m, "plan_step") or hasattr(m, "plan_stage")]


def test_plan_steps_names_the_csp_parts_and_the_stage():
    model = lib.CSPDenseNet(growth_rate=4, repeats=(2, 2), stem="small")
    steps = lib.plan_steps(model)
    stage = model.stages[1]
    assert steps[stage.split] == (1, ("part1", "part2"))
    assert steps[stage.block] == (1, "dense")
    assert steps[model.stem] == (None, "stem") and steps[model.classifier] == (None, "fc")
    assert stage.part2_transition in steps and stage.fusion_transition not in steps  # last stage
    assert lib.plan_steps(stage, stage=3)[stage.concat] == (3, "concat")


def test_trace_as_labels_a_module_of_your_own():
    mine = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2))
    lib.trace_as(mine[0], 0, "conv")
    lib.trace_as(mine[2], 0, "pool")
    rows = lib.shape_trace(mine, torch.zeros(1, 3, 8, 8))
    assert [(r.stage, r.step, r.channels, r.size) for r in rows] == [(0, "conv", 4, 8),
                                                                     (0, "pool", 4, 4)]
    assert not hasattr(mine[0], "plan_step")
    from cspnet_lib.blocks import trace_as  # the first edition's path

    assert trace_as is lib.trace_as
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        lib.trace_as("conv", 0, "conv")
