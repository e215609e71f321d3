"""The residual control of chapter 1: its path split, checked against a hand-written backward
pass, and the batch-norm recalibration that puts fresh and trained networks in one regime."""

from collections import OrderedDict

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cspnet_lib.measure.residual_paths import residual_path_gradients
from cspnet_lib.models.residual_control import ResidualStack, residual_control
from cspnet_lib.measure.gradients import recalibrate_batchnorm


def small_model(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(OrderedDict(
        stack=ResidualStack(4, 3), pool=nn.AdaptiveAvgPool2d(1), flatten=nn.Flatten(),
        fc=nn.Linear(4, 5)))


@pytest.mark.parametrize("seed", [0, 1])
def test_each_group_of_paths_is_its_layers_vector_jacobian_product(seed):
    model = small_model(seed)
    images = torch.randn(6, 4, 5, 5)
    targets = torch.arange(6) % 5
    for bn in model.modules():  # non-trivial batch-norm statistics
        if isinstance(bn, nn.BatchNorm2d):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    split = residual_path_gradients(model, images, targets)

    # the same gradients by hand: x_ell = x_{ell-1} + H_ell(x_{ell-1}), every x_ell kept
    model.eval()
    xs = [images.clone().requires_grad_(True)]
    for layer in model.stack.values():
        xs.append(xs[-1] + layer(xs[-1]))
        xs[-1].retain_grad()
    head = nn.Sequential(model.pool, model.flatten, model.fc)
    F.cross_entropy(head(xs[-1]), targets).backward()
    expected = [xs[-1].grad]  # the direct path: the identity all the way to the output
    for i, layer in enumerate(model.stack.values()):
        _, vjp = torch.autograd.functional.vjp(layer, xs[i].detach(), xs[i + 1].grad)
        expected.append(vjp)

    assert split.names == ["direct", "layer 1", "layer 2", "layer 3"]
    for got, want in zip(split.vectors, expected):
        torch.testing.assert_close(got, want.flatten(), rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(split.vectors.sum(0), xs[0].grad.flatten(), rtol=1e-4, atol=1e-7)
    torch.testing.assert_close(split.total, xs[0].grad.flatten(), rtol=1e-5, atol=1e-8)


def test_residual_control_classifies_digit_shaped_batches_and_leaves_its_mode():
    model = residual_control(channels=8, repeats=(2, 2))
    assert model(torch.randn(3, 1, 8, 8)).shape == (3, 10)
    model.train()
    residual_path_gradients(model, torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 3]), stack=1)
    assert model.training and all(p.grad is None for p in model.parameters())


def test_recalibrated_statistics_are_the_exact_mean_and_variance():
    norm = nn.Sequential(nn.BatchNorm2d(3))
    images = torch.randn(10, 3, 4, 4) * torch.tensor([1.0, 2.0, 3.0]).view(1, 3, 1, 1) + 5
    norm.eval()
    assert recalibrate_batchnorm(norm, images) is norm
    bn = norm[0]
    torch.testing.assert_close(bn.running_mean, images.mean((0, 2, 3)))
    torch.testing.assert_close(bn.running_var, images.var((0, 2, 3), unbiased=True))
    assert bn.momentum == 0.1 and not norm.training


@pytest.mark.parametrize("call, match", [
    (lambda: residual_path_gradients(nn.Linear(2, 2), torch.randn(1, 1, 8, 8),
                                     torch.tensor([0])), "no ResidualStack"),
    (lambda: residual_path_gradients(residual_control(4, (1,)), torch.randn(2, 1, 8, 8),
                                     torch.tensor([0, 1]), stack=1), "stack"),
    (lambda: residual_path_gradients(residual_control(4, (1,)), torch.randn(2, 1, 8, 8),
                                     torch.tensor([0.5, 1.0])), "targets"),
    (lambda: residual_control(channels=0), "channels"),
    (lambda: residual_control(repeats=[6, 6]), "repeats"),
    (lambda: recalibrate_batchnorm(nn.Linear(2, 2), torch.randn(2, 1, 4, 4)), "no batch norm"),
    (lambda: recalibrate_batchnorm(residual_control(4, (1,)), torch.randn(8, 8)), "images"),
])
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()
