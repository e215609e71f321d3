"""The library against published numbers (../shared/facts.md): typed in here from the sources,
never computed by the code under test."""

import pytest
import torch

from cspnet_lib import (
    channel_plan,
    count_flops,
    count_model_params,
    count_params,
    densenet121,
    densenet169,
    densenet201,
    measure_flops,
    seed_cspdensenet,
    shape_trace,
)

# The reference CSPDenseNet trace for one 3x224x224 image: (channels, size) per stage.
REFERENCE_TRACE = {
    "part1": [(32, 56), (29, 28), (42, 14), (76, 7)],
    "part2": [(32, 56), (28, 28), (41, 14), (76, 7)],
    "dense": [(104, 56), (172, 28), (329, 14), (268, 7)],
    "first_transition": [(83, 56), (137, 28), (263, 14), (214, 7)],
    "concat": [(115, 56), (166, 28), (305, 14), (290, 7)],
    "second_transition": [(57, 28), (83, 14), (152, 7)],
}
STAGE_INPUTS = [(64, 56), (57, 28), (83, 14), (152, 7)]
STAGE0_BOTTLENECKS = [44, 56, 68, 80, 92, 104]


def reference_rows() -> list[tuple]:
    """The facts.md table, written out in the order a forward pass produces it."""
    rows = [(None, "stem", 64, 56)]
    for stage, repeats in enumerate((6, 12, 24, 16)):
        for step in ("part1", "part2"):
            rows.append((stage, step, *REFERENCE_TRACE[step][stage]))
        part2, size = REFERENCE_TRACE["part2"][stage]
        rows += [(stage, "bottleneck", part2 + 12 * (i + 1), size) for i in range(repeats)]
        for step in ("dense", "first_transition", "concat", "second_transition"):
            if stage < len(REFERENCE_TRACE[step]):
                rows.append((stage, step, *REFERENCE_TRACE[step][stage]))
    return rows + [(None, "pool", 290, 1), (None, "fc", 1000, 1)]


def as_tuples(rows) -> list[tuple]:
    return [(r.stage, r.step, r.channels, r.size) for r in rows]


@pytest.fixture(scope="module")
def seed_trace():
    torch.manual_seed(0)
    return as_tuples(shape_trace(seed_cspdensenet(), torch.randn(1, 3, 224, 224)))


def test_reference_table_is_self_consistent():
    rows = reference_rows()
    stage0 = [r[2] for r in rows if r[0] == 0 and r[1] == "bottleneck"]
    assert stage0 == STAGE0_BOTTLENECKS
    for stage, (channels, size) in enumerate(STAGE_INPUTS):
        part1, part2 = REFERENCE_TRACE["part1"][stage][0], REFERENCE_TRACE["part2"][stage][0]
        assert part1 + part2 == channels


def test_shape_trace_reproduces_the_reference_line_for_line(seed_trace):
    expected = reference_rows()
    assert len(seed_trace) == len(expected)
    for got, want in zip(seed_trace, expected):
        assert got == want


def test_channel_plan_reproduces_the_reference_line_for_line():
    assert as_tuples(channel_plan("cspdensenet")) == reference_rows()


def test_stage_inputs_are_the_previous_stage_outputs(seed_trace):
    handed_on = [r[2:] for r in seed_trace if r[1] in ("stem", "second_transition")]
    assert handed_on == STAGE_INPUTS


DENSENETS = [  # builder, blocks, parameters, GMACs as torchvision lists them
    (densenet121, (6, 12, 24, 16), 7_978_856, 2.834),
    (densenet169, (6, 12, 32, 32), 14_149_480, 3.36),
    (densenet201, (6, 12, 48, 32), 20_013_928, 4.291),
]
CLASSIFIER_IN = {densenet121: 1024, densenet169: 1664, densenet201: 1920}  # torchvision's


@pytest.mark.parametrize("builder, blocks, params, gmacs", DENSENETS, ids=lambda v: getattr(v, "__name__", None))
def test_densenet_parameters_and_flops_match_torchvision(builder, blocks, params, gmacs):
    with torch.device("meta"):  # shapes only: the counts are the real model's
        model = builder()
        flops = measure_flops(model)
    assert model.config["repeats"] == blocks
    assert count_model_params(model) == params
    assert count_params("densenet", repeats=blocks) == params
    assert flops == count_flops("densenet", repeats=blocks)
    assert round(flops / 2e9, 3) == pytest.approx(gmacs, abs=0.0015)  # FLOPs = 2 x MACs


def torchvision_keys(blocks) -> list[str]:
    """torchvision's densenet state_dict names, written from its naming scheme."""
    bn = ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    keys = ["features.conv0.weight"] + [f"features.norm0.{p}" for p in bn]
    for b, layers in enumerate(blocks, start=1):
        for layer in range(1, layers + 1):
            prefix = f"features.denseblock{b}.denselayer{layer}"
            keys += [f"{prefix}.norm1.{p}" for p in bn] + [f"{prefix}.conv1.weight"]
            keys += [f"{prefix}.norm2.{p}" for p in bn] + [f"{prefix}.conv2.weight"]
        if b < len(blocks):
            keys += [f"features.transition{b}.norm.{p}" for p in bn]
            keys += [f"features.transition{b}.conv.weight"]
    keys += [f"features.norm5.{p}" for p in bn]
    return keys + ["classifier.weight", "classifier.bias"]


@pytest.mark.parametrize("builder, blocks", [(d[0], d[1]) for d in DENSENETS],
                         ids=lambda v: getattr(v, "__name__", None))
def test_densenet_state_dict_uses_torchvision_names(builder, blocks):
    state = builder().state_dict()
    assert list(state) == torchvision_keys(blocks)
    # torchvision's shapes for the first dense layer and the classifier (growth 32, width 4)
    assert state["features.denseblock1.denselayer1.conv1.weight"].shape == (128, 64, 1, 1)
    assert state["features.denseblock1.denselayer1.conv2.weight"].shape == (32, 128, 3, 3)
    assert state["features.transition1.conv.weight"].shape == (128, 256, 1, 1)
    assert state["classifier.weight"].shape == (1000, CLASSIFIER_IN[builder])


def test_densenet_loads_a_state_dict_strictly():
    source, target = densenet121(), densenet121()
    torch.manual_seed(1)
    for p in source.parameters():
        p.data.add_(0.01 * torch.randn_like(p))  # weights unlike a fresh model's
    target.load_state_dict(source.state_dict(), strict=True)
    x = torch.randn(1, 3, 64, 64)
    source.eval(), target.eval()
    out = source(x)
    assert torch.isfinite(out).all() and torch.equal(out, target(x))
    assert not torch.equal(out, densenet121().eval()(x))
