"""Chapter 7's networks against the official CSPNet table, and the pieces they are made of.

The expected numbers are the ImageNet table of the official repository
(WongKinYiu/CrossStagePartialNetworks, README; copied in ../shared/facts.md): parameters in
millions (bare convolution weights) and BFLOPs (2 x MACs of the convolutions, 256x256 input).
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cspnet_lib import (
    CSPStage,
    count_conv_weights,
    count_model_params,
    cspdarknet53,
    cspresnet50,
    cspresnext50,
    darknet53,
    measure_flops,
    resnet50,
    resnext50,
    seed_cspdensenet,
    shape_trace,
)
from cspnet_lib.beyond import CrossSplit, build
from cspnet_lib.residual import DarknetResidual, ResidualBottleneck, darknet_shortcut

BUILDERS = {f.__name__: f for f in (resnet50, cspresnet50, resnext50, cspresnext50, darknet53,
                                     cspdarknet53)}
# name: (params in millions, BFLOPs at 256x256), from the official table.
TABLE = {
    "resnet50": (22.73, 9.74), "cspresnet50": (21.57, 8.97),
    "resnext50": (22.19, 10.11), "cspresnext50": (20.50, 7.93),
    "darknet53": (41.57, 18.57), "cspdarknet53": (27.61, 13.07),
}
# base, CSP version, FLOP change in percent the table prints.
PAIRS = [("resnet50", "cspresnet50", -8), ("resnext50", "cspresnext50", -22),
         ("darknet53", "cspdarknet53", -30)]


def conv_flops_by_hooks(model: nn.Module, image_size: int) -> int:
    """An independent count: 2 x weights x output pixels, summed over every Conv2d."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        total += 2 * module.weight.numel() * output.shape[-2] * output.shape[-1]

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        model.eval()(torch.zeros(1, 3, image_size, image_size))
    for handle in handles:
        handle.remove()
    return total


@pytest.fixture(scope="module")
def meta_models():
    """All six networks on PyTorch's meta device: shapes without data, so counting is instant."""
    with torch.device("meta"):
        return {name: build() for name, build in BUILDERS.items()}


@pytest.fixture(scope="module")
def flops_256(meta_models):
    with torch.device("meta"):
        return {name: measure_flops(model, 256) for name, model in meta_models.items()}


@pytest.mark.parametrize("name", TABLE)
def test_bare_conv_weights_match_the_table(meta_models, name):
    assert count_conv_weights(meta_models[name]) / 1e6 == pytest.approx(TABLE[name][0], rel=0.02)


@pytest.mark.parametrize("name", TABLE)
def test_parameters_add_only_batch_norm_and_the_classifier_bias(meta_models, name):
    model = meta_models[name]
    extras = sum(2 * m.num_features for m in model.modules() if isinstance(m, nn.BatchNorm2d)) + 1000
    full = count_model_params(model)
    assert full - count_conv_weights(model) == extras
    assert 1.0005 < full / count_conv_weights(model) < 1.003  # facts.md: about 0.1% to 0.3% more
    assert full / 1e6 == pytest.approx(TABLE[name][0], rel=0.02)


@pytest.mark.parametrize("name, torchvision_params", [("resnet50", 25_557_032),
                                                      ("resnext50", 25_028_904)])
def test_bases_are_torchvision_without_projection_shortcuts(meta_models, name, torchvision_params):
    # The four projection shortcuts of torchvision's ResNet-50 / ResNeXt-50 (1x1 conv + BN):
    # 64*256 + 256*512 + 512*1024 + 1024*2048 weights and 2*(256+512+1024+2048) BN parameters.
    projections = 64 * 256 + 256 * 512 + 512 * 1024 + 1024 * 2048 + 2 * (256 + 512 + 1024 + 2048)
    assert projections == 2_776_576
    assert count_model_params(meta_models[name]) == torchvision_params - projections


@pytest.mark.parametrize("name", TABLE)
def test_bflops_match_the_table(flops_256, name):
    assert flops_256[name] / 1e9 == pytest.approx(TABLE[name][1], rel=0.02)


@pytest.mark.parametrize("base, csp, table_change", PAIRS)
def test_flop_change_within_three_points_of_the_table(flops_256, base, csp, table_change):
    change = 100 * (flops_256[csp] / flops_256[base] - 1)
    assert abs(change - table_change) <= 3, f"{csp}: {change:.1f}% vs the table's {table_change}%"


def tiny(name: str, **overrides) -> nn.Module:
    stages = 5 if "darknet" in name else 4
    return BUILDERS[name](repeats=(1,) * stages, num_classes=10, **overrides)


@pytest.mark.parametrize("name", TABLE)
def test_flop_counter_equals_conv_hooks_on_real_tensors(name):
    torch.manual_seed(0)
    model = tiny(name)
    assert measure_flops(model, 64) == conv_flops_by_hooks(model, 64)


@pytest.mark.parametrize("name", TABLE)
def test_forward_and_backward_on_a_tiny_batch(name):
    torch.manual_seed(0)
    model = tiny(name).train()
    x = torch.randn(2, 3, 32, 32)
    logits = model(x)
    assert logits.shape == (2, 10)
    nn.functional.cross_entropy(logits, torch.tensor([1, 7])).backward()
    for pname, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), pname
    assert any(p.grad.abs().sum() > 0 for p in model.parameters())


@pytest.mark.parametrize("name", ["cspresnet50", "cspresnext50", "cspdarknet53"])
def test_every_csp_stage_is_the_same_code_as_cspdensenets(name, meta_models):
    stages = [m for m in meta_models[name].modules() if isinstance(m, CSPStage)]
    assert len(stages) == len(meta_models[name].spec.stages)
    assert all(isinstance(s.split, CrossSplit) for s in stages)
    assert type(stages[0]) is type(next(m for m in seed_cspdensenet().modules()
                                        if isinstance(m, CSPStage)))


def test_shape_trace_follows_the_cfg():
    model = tiny("cspdarknet53")
    rows = [(r.stage, r.step, r.channels, r.size) for r in shape_trace(model, torch.zeros(1, 3, 64, 64))]
    # csdarknet53.cfg, stage 1 at 64x64 input: down 3x3/2 to 64, cross 64 and main 64, a block
    # [1x1 32, 3x3 64], transition 64, concat 128, fusion 1x1 to 64.
    assert rows[:9] == [(None, "stem", 32, 64), (0, "down", 64, 32), (0, "part1", 64, 32),
                        (0, "part2", 64, 32), (0, "residual", 64, 32), (0, "blocks", 64, 32),
                        (0, "first_transition", 64, 32), (0, "concat", 128, 32),
                        (0, "second_transition", 64, 32)]
    assert rows[-2:] == [(None, "pool", 1024, 1), (None, "fc", 10, 1)]


def test_two_1x1_convs_equal_one_wider_conv_then_a_slice():
    torch.manual_seed(0)
    split = CrossSplit(16, 12, 8).eval()
    for bn in (split.cross.bn, split.main.bn):
        bn.running_mean.uniform_(-1, 1)
        bn.running_var.uniform_(0.5, 2)
    wide = nn.Conv2d(16, 20, 1, bias=False)
    wide_bn = nn.BatchNorm2d(20).eval()
    with torch.no_grad():
        wide.weight.copy_(torch.cat([split.cross.conv.weight, split.main.conv.weight]))
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(wide_bn, name).copy_(torch.cat([getattr(split.cross.bn, name),
                                                    getattr(split.main.bn, name)]))
        x = torch.randn(2, 16, 5, 5)
        y = nn.functional.leaky_relu(wide_bn(wide(x)), 0.1)
        cross, main = split(x)
    torch.testing.assert_close(cross, y[:, :12])
    torch.testing.assert_close(main, y[:, 12:])


def test_darknet_shortcut_adds_a_sampled_input_to_the_first_channels():
    x = torch.arange(2 * 4 * 4, dtype=torch.float).reshape(1, 2, 4, 4)
    fx = torch.ones(1, 3, 2, 2)
    y = darknet_shortcut(fx, x, stride=2)
    assert y[0, 0].tolist() == [[1.0, 3.0], [9.0, 11.0]]      # 1 + x[0, ::2, ::2]
    assert y[0, 1].tolist() == [[17.0, 19.0], [25.0, 27.0]]   # 1 + x[1, ::2, ::2]
    assert y[0, 2].tolist() == [[1.0, 1.0], [1.0, 1.0]]       # no input channel 2: unchanged
    wide_in = darknet_shortcut(torch.zeros(1, 1, 4, 4), x)    # more input channels than output
    assert torch.equal(wide_in, x[:, :1])


@settings(max_examples=30, deadline=None)
@given(c_in=st.integers(1, 6), c_out=st.integers(1, 6), stride=st.sampled_from([1, 2]),
       size=st.integers(1, 7))
def test_darknet_shortcut_is_a_zero_padded_sampled_identity(c_in, c_out, stride, size):
    x = torch.randn(1, c_in, size, size)
    fx = torch.randn(1, c_out, (size + stride - 1) // stride, (size + stride - 1) // stride)
    padded = torch.zeros_like(fx)
    c = min(c_in, c_out)
    padded[:, :c] = x[:, :c, ::stride, ::stride]
    torch.testing.assert_close(darknet_shortcut(fx, x, stride), fx + padded)


def test_residual_blocks_have_no_projection():
    block = ResidualBottleneck(64, 64, 256, stride=2)
    assert [m.kernel_size for m in block.modules() if isinstance(m, nn.Conv2d)] == [(1, 1), (3, 3), (1, 1)]
    assert block(torch.randn(1, 64, 8, 8)).shape == (1, 256, 4, 4)
    assert DarknetResidual(8, 4)(torch.randn(1, 8, 5, 5)).shape == (1, 8, 5, 5)


@pytest.mark.parametrize("name", ["cspresnet50", "cspresnext50", "cspdarknet53"])
def test_fusion_first_and_last_drop_one_transition_per_stage(name):
    models = {f: tiny(name, fusion=f).eval() for f in ("csp", "first", "last")}
    convs = {f: sum(isinstance(m, nn.Conv2d) for m in model.modules()) for f, model in models.items()}
    stages = [m for m in models["first"].modules() if isinstance(m, CSPStage)]
    assert convs["first"] == convs["last"] == convs["csp"] - len(stages)
    assert all(isinstance(s.part2_transition, nn.Identity) for s in stages)
    assert all(isinstance(s.fusion_transition, nn.Identity)
               for s in models["last"].modules() if isinstance(s, CSPStage))
    for model in models.values():
        assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


@pytest.mark.parametrize("call, parameter", [
    (lambda: resnet50(num_classes=0), "num_classes"),
    (lambda: darknet53(in_channels=0), "in_channels"),
    (lambda: cspresnet50(repeats=(3, 3, 5)), "repeats"),
    (lambda: cspdarknet53(repeats=(1, 2, 0, 8, 4)), "repeats[2]"),
    (lambda: resnext50(cardinality=48), "cardinality"),
    (lambda: cspresnext50(cardinality=0), "cardinality"),
    (lambda: build("resnet50", cardinality=32), "cardinality"),
    (lambda: cspresnet50(fusion="middle"), "fusion"),
    (lambda: build("darknet53", fusion="last"), "fusion"),
    (lambda: build("resnet18"), "name"),
    (lambda: tiny("resnet50")(torch.zeros(1, 3, 16, 16)), "x is 16x16"),
    (lambda: tiny("darknet53")(torch.zeros(1, 1, 32, 32)), "in_channels=3"),
])
def test_bad_settings_raise_value_error_naming_the_parameter(call, parameter):
    with pytest.raises(ValueError, match=parameter.replace("[", r"\[").replace("]", r"\]")):
        call()


@pytest.mark.parametrize("call", [lambda: resnet50(num_classes="10"),
                                  lambda: cspresnext50(repeats=3),
                                  lambda: cspdarknet53(growth_rate=12)])
def test_wrong_types_raise_type_error(call):
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize("call, parameter", [
    (lambda: ResidualBottleneck(64, 0, 256), "width"),
    (lambda: ResidualBottleneck(64, 48, 256, groups=32), "groups"),
    (lambda: DarknetResidual(64, 0), "hidden"),
    (lambda: CrossSplit(64, 0, 32), "cross"),
])
def test_bad_block_settings_name_the_parameter(call, parameter):
    with pytest.raises(ValueError, match=parameter):
        call()
