"""gradients.py: the path contributions add up to the ordinary gradient, and each one is what it
claims to be. Every expected gradient here comes from a plain autograd pass written in the test,
never from the function under test."""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from cspnet_lib import CSPDenseNet, CSPStage, DenseBlock, DenseNet, Transition, channel_plan
from cspnet_lib.gradients import (
    PathGradients,
    block_input,
    cosine_matrix,
    dense_blocks,
    mean_similarity,
    network_path_gradients,
    path_gradients,
)

SMALL = dict(growth_rate=4, repeats=(3, 2), stem_channels=9, num_classes=5, in_channels=1, stem="small")


def plain_gradient(module: nn.Module, x0: torch.Tensor, loss) -> torch.Tensor:
    """The ordinary gradient of ``loss(module(x0))`` at x0, in eval mode: the reference."""
    module.eval()
    x = x0.detach().clone().requires_grad_(True)
    loss(module(x)).backward()
    return x.grad


def probe_loss(seed: int, probe: str = "pixel"):
    """The random projection path_gradients documents, rebuilt here independently."""
    def loss(out):
        shape = out.shape if probe == "pixel" else out.shape[:2] + (1, 1)
        return (out * torch.randn(shape, generator=torch.Generator().manual_seed(seed))).sum()
    return loss


def csp_stage(fusion: str, channels: int = 7, ratio: float = 0.5) -> CSPStage:
    """A CSP stage built from the pieces, one per fusion (part 2 gets int(ratio * channels))."""
    part2 = int(channels * ratio)
    block = DenseBlock(part2, repeats=3, growth_rate=4)
    concat = channels - part2 + block.out_channels
    if fusion == "csp":
        return CSPStage(block, "csp", split_ratio=ratio,
                        part2_transition=Transition(block.out_channels, block.out_channels - 2, downsample=False),
                        fusion_transition=Transition(concat - 2, 5))
    if fusion == "first":
        return CSPStage(block, "first", split_ratio=ratio, fusion_transition=Transition(concat, 5))
    return CSPStage(block, "last", split_ratio=ratio, part1_path=nn.AvgPool2d(2),
                    part2_transition=Transition(block.out_channels, 6))


STAGES = {
    "dense block": lambda: DenseBlock(6, repeats=4, growth_rate=3),
    "plain stage": lambda: nn.Sequential(DenseBlock(6, repeats=4, growth_rate=3), Transition(18, 9)),
    "csp": lambda: csp_stage("csp"),
    "first": lambda: csp_stage("first"),
    "last": lambda: csp_stage("last"),
}
CHANNELS = {"dense block": 6, "plain stage": 6, "csp": 7, "first": 7, "last": 7}


@pytest.mark.parametrize("name", STAGES)
@pytest.mark.parametrize("probe", ["pixel", "channel"])
def test_contributions_sum_to_the_plain_gradient(name, probe):
    torch.manual_seed(0)
    stage = STAGES[name]()
    x0 = torch.randn(2, CHANNELS[name], 6, 6)
    paths = path_gradients(stage, x0, seed=3, probe=probe)
    expected = plain_gradient(stage, x0, probe_loss(3, probe)).flatten()
    assert torch.allclose(paths.total, expected, atol=1e-6)
    assert torch.allclose(paths.vectors.sum(dim=0), expected, atol=1e-5)
    assert expected.abs().max() > 1e-3  # a real gradient, not zeros that trivially agree


@pytest.mark.parametrize("name", STAGES)
def test_one_path_per_bottleneck_plus_direct_and_bypass(name):
    torch.manual_seed(0)
    paths = path_gradients(STAGES[name](), torch.randn(1, CHANNELS[name], 4, 4))
    repeats = 3 if name in ("csp", "first", "last") else 4
    bypass = ["bypass (part 1)"] if repeats == 3 else []
    expected = bypass + ["direct"] + [f"bottleneck {i}" for i in range(1, repeats + 1)]
    assert paths.names == expected
    assert paths.vectors.shape == (len(expected), paths.total.numel())


def test_a_lone_bottleneck_contributes_its_own_gradient():
    """With one bottleneck, its path is the gradient through the bottleneck alone, and the
    direct path is the probe's weights on the x0 channels."""
    torch.manual_seed(0)
    block = DenseBlock(5, repeats=1, growth_rate=4)
    x0 = torch.randn(2, 5, 4, 4)
    paths = path_gradients(block, x0, seed=1)
    weights = torch.randn((2, 9, 4, 4), generator=torch.Generator().manual_seed(1))
    through_h1 = plain_gradient(block["denselayer1"], x0, lambda out: (out * weights[:, 5:]).sum())
    assert torch.allclose(paths.vectors[1], through_h1.flatten(), atol=1e-6)
    assert torch.equal(paths.vectors[0], weights[:, :5].flatten())


def test_a_loss_on_x0_channels_only_goes_by_the_direct_path():
    torch.manual_seed(0)
    block = DenseBlock(4, repeats=3, growth_rate=2)
    paths = path_gradients(block, torch.randn(1, 4, 3, 3), loss=lambda out: out[:, :4].sum())
    assert torch.equal(paths.vectors[0], torch.ones(36))
    assert torch.count_nonzero(paths.vectors[1:]) == 0


@pytest.mark.parametrize("fusion", ["csp", "first", "last"])
def test_the_bypass_lives_on_part_1_and_nothing_else_does(fusion):
    torch.manual_seed(0)
    stage = csp_stage(fusion)  # 7 channels: part 1 = 4, part 2 = 3
    x0 = torch.randn(2, 7, 6, 6)
    paths = path_gradients(stage, x0)
    vectors = paths.vectors.view(len(paths.names), 2, 7, 6, 6)
    expected = plain_gradient(stage, x0, probe_loss(0))
    assert torch.allclose(vectors[0, :, :4], expected[:, :4], atol=1e-6)
    assert torch.count_nonzero(vectors[0, :, 4:]) == 0
    assert torch.count_nonzero(vectors[1:, :, :4]) == 0
    matrix = cosine_matrix(paths.vectors)
    assert torch.count_nonzero(matrix[0, 1:]) == 0  # orthogonal by construction


@pytest.mark.parametrize("kind,fusion", [("densenet", None), ("cspdensenet", "csp"),
                                         ("cspdensenet", "first"), ("cspdensenet", "last")])
@pytest.mark.parametrize("block", [0, 1])
def test_network_contributions_sum_to_the_gradient_of_the_loss(kind, fusion, block):
    torch.manual_seed(0)
    model = DenseNet(**SMALL) if kind == "densenet" else CSPDenseNet(fusion=fusion, **SMALL)
    images, targets = torch.randn(3, 1, 8, 8), torch.tensor([0, 3, 4])
    paths = network_path_gradients(model, images, targets, block=block)

    # Reference: the ordinary gradient at the input of the stage that holds the block.
    dense = [m for m in model.modules() if isinstance(m, DenseBlock)][block]
    holder = next((m for m in model.modules() if isinstance(m, CSPStage) and m.block is dense), dense)
    seen = {}

    def keep(module, inputs):
        seen["x0"] = inputs[0].detach().requires_grad_(True)
        return (seen["x0"],)

    handle = holder.register_forward_pre_hook(keep)
    model.eval()
    F.cross_entropy(model(images), targets).backward()
    handle.remove()
    expected = seen["x0"].grad.flatten()
    assert torch.allclose(paths.total, expected, atol=1e-7)
    assert torch.allclose(paths.vectors.sum(dim=0), expected, atol=1e-6)
    assert expected.abs().max() > 1e-5
    assert paths.names[0] == ("bypass (part 1)" if kind == "cspdensenet" else "direct")


def test_measuring_leaves_the_model_as_it_was():
    torch.manual_seed(0)
    model = DenseNet(**SMALL).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    network_path_gradients(model, torch.randn(3, 1, 8, 8), torch.tensor([1, 2, 3]))
    path_gradients(model.features.denseblock1, torch.randn(2, 9, 8, 8))
    assert model.training and model.features.denseblock1.training
    assert all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # BN stats too


def test_the_seed_fixes_the_probe():
    torch.manual_seed(0)
    block, x0 = DenseBlock(4, 3, 2), torch.randn(1, 4, 3, 3)
    assert torch.equal(path_gradients(block, x0, seed=5).vectors, path_gradients(block, x0, seed=5).vectors)
    assert not torch.equal(path_gradients(block, x0, seed=5).vectors, path_gradients(block, x0, seed=6).vectors)


@settings(max_examples=15, deadline=None)
@given(channels=st.integers(2, 9), repeats=st.integers(1, 4), growth=st.integers(1, 5),
       ratio=st.sampled_from([0.25, 0.5, 0.75]), seed=st.integers(0, 1000))
def test_any_csp_stage_adds_up(channels, repeats, growth, ratio, seed):
    part2 = int(channels * ratio)
    if part2 < 1 or part2 == channels:
        return
    torch.manual_seed(seed)
    block = DenseBlock(part2, repeats, growth)
    stage = CSPStage(block, "first", split_ratio=ratio,
                     fusion_transition=Transition(channels - part2 + block.out_channels, 3))
    x0 = torch.randn(1, channels, 4, 4)
    paths = path_gradients(stage, x0, seed=seed)
    expected = plain_gradient(stage, x0, probe_loss(seed)).flatten()
    assert torch.allclose(paths.vectors.sum(dim=0), expected, atol=1e-5)
    assert len(paths.names) == repeats + 2


def test_cosine_matrix_on_vectors_worked_by_hand():
    vectors = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0], [0.0, 0.0], [-1.0, 0.0]])
    matrix = cosine_matrix(vectors)
    s = 1 / math.sqrt(2)
    expected = torch.tensor([[1, 0, s, 0, -1], [0, 1, s, 0, 0], [s, s, 1, 0, -s],
                             [0, 0, 0, 0, 0], [-1, 0, -s, 0, 1]])
    assert torch.allclose(matrix, expected, atol=1e-6)


def test_mean_similarity_averages_the_off_diagonal():
    matrix = torch.tensor([[1.0, 0.5, -0.2], [0.5, 1.0, 0.3], [-0.2, 0.3, 1.0]])
    assert mean_similarity(matrix) == pytest.approx((0.5 - 0.2 + 0.3) * 2 / 6)
    assert mean_similarity(torch.eye(4)) == 0.0


@pytest.mark.parametrize("kind", ["densenet", "cspdensenet"])
def test_block_input_is_what_the_stage_receives(kind):
    torch.manual_seed(0)
    model = (DenseNet if kind == "densenet" else CSPDenseNet)(**SMALL).train()
    images = torch.randn(2, 1, 8, 8)
    x0 = block_input(model, images, block=1)
    # The plan: stage 1 receives what stage 0's last step hands on.
    handed_on = [r for r in channel_plan(kind, 8, **SMALL) if r.stage == 0][-1]
    assert x0.shape == (2, handed_on.channels, handed_on.size, handed_on.size)
    assert model.training and not x0.requires_grad
    stages = model.stages if kind == "cspdensenet" else None
    model.eval()
    with torch.no_grad():
        expected = stages[0](model.stem(images)) if stages is not None else \
            model.features[:-2](images)  # stem ... transition1 (before denseblock2 and norm5)
    assert torch.equal(x0, expected)
    # and it is a valid x0 for path_gradients on that stage
    stage = stages[1] if stages is not None else model.features.denseblock2
    assert path_gradients(stage, x0).vectors.shape[1] == x0.numel()


def test_dense_blocks_in_stage_order():
    model = DenseNet(**SMALL)
    assert dense_blocks(model) == [model.features.denseblock1, model.features.denseblock2]


# --- bad input ------------------------------------------------------------------------------

@pytest.mark.parametrize("call,error,words", [
    (lambda b, x: path_gradients("block", x), TypeError, "module must be a torch.nn.Module"),
    (lambda b, x: path_gradients(b, [1.0]), TypeError, "x0 must be a torch.Tensor"),
    (lambda b, x: path_gradients(b, x[0]), ValueError, "x0 must be a float tensor shaped (N, C, H, W)"),
    (lambda b, x: path_gradients(b, x, seed=-1), ValueError, "seed must be an int >= 0"),
    (lambda b, x: path_gradients(b, x, seed=1.5), TypeError, "seed must be an int"),
    (lambda b, x: path_gradients(b, x, probe="pixels"), ValueError, "probe must be one of 'pixel', 'channel'"),
    (lambda b, x: path_gradients(b, x, loss="mse"), TypeError, "loss must be a callable"),
    (lambda b, x: path_gradients(b, x, loss=lambda out: out.sum(dim=1)), ValueError, "loss must be a scalar"),
    (lambda b, x: path_gradients(nn.Conv2d(4, 4, 1), x), ValueError, "exactly one DenseBlock, found 0"),
    (lambda b, x: path_gradients(nn.Sequential(b, DenseBlock(10, 1, 2)), x), ValueError, "found 2"),
])
def test_path_gradients_rejects_bad_input(call, error, words):
    block, x0 = DenseBlock(4, 3, 2), torch.randn(1, 4, 3, 3)
    with pytest.raises(error) as info:
        call(block, x0)
    assert words in str(info.value)


def test_path_gradients_rejects_x0_that_is_not_the_stage_input():
    with pytest.raises(ValueError, match="x0 has 5 channels, 3 bypass the block, but its first "
                                         "bottleneck expects 3"):
        path_gradients(csp_stage("csp", channels=7), torch.randn(1, 5, 4, 4))
    with pytest.raises(ValueError, match="x0 has 4 channels, 0 bypass the block, but its first "
                                         "bottleneck expects 6"):
        path_gradients(DenseBlock(6, 2, 2), torch.randn(1, 4, 4, 4))


@pytest.mark.parametrize("kwargs,error,words", [
    (dict(targets=torch.tensor([0.0, 1.0])), ValueError, "targets must be an integer tensor shaped (2,)"),
    (dict(targets=torch.tensor([0, 1, 2])), ValueError, "targets must be an integer tensor shaped (2,)"),
    (dict(targets=[0, 1]), TypeError, "targets must be a torch.Tensor"),
    (dict(images=torch.randn(2, 8, 8)), ValueError, "images must be a float tensor"),
    (dict(block=2), ValueError, "block must be an int between 0 and 1, got 2"),
    (dict(block=-1), ValueError, "block must be an int between 0 and 1"),
    (dict(block="first"), TypeError, "block must be an int"),
    (dict(model=nn.Conv2d(1, 5, 1)), ValueError, "model contains no DenseBlock"),
    (dict(model="densenet"), TypeError, "model must be a torch.nn.Module"),
])
def test_network_path_gradients_rejects_bad_input(kwargs, error, words):
    args = dict(model=DenseNet(**SMALL), images=torch.randn(2, 1, 8, 8), targets=torch.tensor([0, 1]))
    with pytest.raises(error) as info:
        network_path_gradients(**{**args, **kwargs})
    assert words in str(info.value)


@pytest.mark.parametrize("bad", [torch.ones(3), torch.ones(2, 3), torch.ones(1, 1), "matrix"])
def test_mean_similarity_rejects_what_is_not_a_square_matrix(bad):
    with pytest.raises(ValueError, match="matrix must be square"):
        mean_similarity(bad)


@pytest.mark.parametrize("bad", [torch.ones(3), torch.ones(2, 3, 4), [[1.0, 0.0]]])
def test_cosine_matrix_rejects_what_is_not_a_matrix(bad):
    with pytest.raises(ValueError, match=r"vectors must be a \(P, D\) tensor"):
        cosine_matrix(bad)


def test_path_gradients_is_a_dataclass_with_the_documented_fields():
    paths = path_gradients(DenseBlock(2, 2, 2), torch.randn(1, 2, 3, 3))
    assert isinstance(paths, PathGradients)
    assert paths.total.shape == (18,) and paths.vectors.shape == (3, 18)
