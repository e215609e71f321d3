"""The closed form (plan.py) against real models: parameters, FLOPs and every shape agree."""

import itertools

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cspnet_lib import (
    CSPDenseNet,
    DenseNet,
    channel_plan,
    count_flops,
    count_model_params,
    count_params,
    measure_flops,
    shape_trace,
)

BUILDERS = {"densenet": DenseNet, "cspdensenet": CSPDenseNet}


def assert_plan_matches_model(kind: str, image_size: int, **config) -> None:
    # On the meta device tensors have shapes but no data: the model is built and run, every
    # shape and FLOP is the real one, and no arithmetic is done (forward and backward on real
    # tensors are tested below).
    with torch.device("meta"):
        model = BUILDERS[kind](**config)
        assert count_model_params(model) == count_params(kind, **config)
        assert measure_flops(model, image_size) == count_flops(kind, image_size, **config)
        x = torch.zeros(1, config.get("in_channels", 3), image_size, image_size)
        traced = [(r.stage, r.step, r.channels, r.size) for r in shape_trace(model, x)]
    planned = [(r.stage, r.step, r.channels, r.size) for r in channel_plan(kind, image_size, **config)]
    assert traced == planned


GRID = [
    dict(fusion=fusion, split_ratio=ratio, growth_rate=growth, repeats=repeats, stem=stem)
    for fusion, ratio, growth, repeats, stem in itertools.product(
        ("csp", "first", "last"), (0.25, 0.5, 0.75), (4, 12), ((2, 3), (1, 2, 2)), ("imagenet", "small"))
]


@pytest.mark.parametrize("config", GRID, ids=lambda c: "-".join(str(v) for v in c.values()))
def test_cspdensenet_closed_form_equals_model(config):
    assert_plan_matches_model("cspdensenet", 64 if config["stem"] == "imagenet" else 16, **config)


@pytest.mark.parametrize("growth, compression, repeats", [(4, 0.5, (2, 2)), (12, 0.8, (1, 2, 3)), (32, 1.0, (2,))])
@pytest.mark.parametrize("stem", ["imagenet", "small"])
def test_densenet_closed_form_equals_model(growth, compression, repeats, stem):
    assert_plan_matches_model("densenet", 48 if stem == "imagenet" else 12, growth_rate=growth,
                              compression=compression, repeats=repeats, stem=stem)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["densenet", "cspdensenet"]),
    growth=st.integers(1, 16),
    repeats=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    compression=st.floats(0.3, 1.0),
    pooling=st.floats(0.3, 1.0),
    ratio=st.floats(0.2, 0.8),
    fusion=st.sampled_from(["csp", "first", "last"]),
    stem_channels=st.integers(8, 48),
    width=st.integers(1, 4),
    stem=st.sampled_from(["imagenet", "small"]),
    extra=st.integers(0, 9),
)
def test_closed_form_equals_model_for_random_settings(kind, growth, repeats, compression, pooling, ratio,
                                                      fusion, stem_channels, width, stem, extra):
    config = dict(growth_rate=growth, repeats=repeats, compression=compression,
                  stem_channels=stem_channels, bottleneck_width=width, stem=stem, num_classes=7)
    if kind == "cspdensenet":
        config.update(channel_pooling=pooling, split_ratio=ratio, fusion=fusion)
    image_size = (2 ** (len(repeats) - 1)) * (4 if stem == "imagenet" else 1) + extra
    try:
        channel_plan(kind, image_size, **config)
    except ValueError:  # e.g. a transition left with 0 channels: test_validation covers these
        assume(False)
    assert_plan_matches_model(kind, image_size, **config)


@pytest.mark.parametrize("fusion", ["csp", "first", "last"])
@pytest.mark.parametrize("split_ratio", [0.1, 0.5, 0.9])
def test_every_variant_runs_forward_and_backward(fusion, split_ratio):
    torch.manual_seed(0)
    model = CSPDenseNet(growth_rate=8, repeats=(2, 2, 2), fusion=fusion, split_ratio=split_ratio,
                        num_classes=5)
    x = torch.randn(2, 3, 64, 64)
    logits = model(x)
    assert logits.shape == (2, 5)
    torch.nn.functional.cross_entropy(logits, torch.tensor([0, 3])).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    assert model.stem.conv0.weight.grad.abs().sum() > 0


def test_fusion_last_pools_part_one_and_first_has_no_part_two_transition():
    last = CSPDenseNet(growth_rate=4, repeats=(1, 1), fusion="last")
    assert isinstance(last.stages[0].part1_path, torch.nn.AvgPool2d)
    assert isinstance(last.stages[1].part1_path, torch.nn.Identity)  # the last stage keeps its size
    first = CSPDenseNet(growth_rate=4, repeats=(1, 1), fusion="first")
    assert isinstance(first.stages[0].part2_transition, torch.nn.Identity)
    assert isinstance(first.stages[1].fusion_transition, torch.nn.Identity)


def test_pooling_part_one_equals_pooling_the_concatenation():
    """Fusion last's two ways out of the spatial mismatch compute the same tensor."""
    torch.manual_seed(0)
    part1, part2 = torch.randn(1, 3, 8, 8), torch.randn(1, 5, 8, 8)
    pool = torch.nn.AvgPool2d(2, 2)
    assert torch.allclose(torch.cat([pool(part1), pool(part2)], 1), pool(torch.cat([part1, part2], 1)))
