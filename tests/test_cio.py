"""CIO measured with forward hooks (cspnet_lib.cio) against the closed form of plan.py.

CIO (Chao et al. 2019, HarDNet): the sum over convolutions of input plus output feature-map
elements, one image. ``plan.count_cio`` computes it from the channel plan without building
anything; ``cio.measure_cio`` watches a built model. They must agree to the element.
"""

from __future__ import annotations

import doctest

import pytest
import torch
from torch import nn

import cspnet_lib.cio
from cspnet_lib import CSPDenseNet, count_cio, cspresnext50, densenet121, resnext50
from cspnet_lib.cio import cio_by_module, measure_cio
from cspnet_lib.plan import conv_cost


@pytest.mark.parametrize("image_size", [224, 256])
def test_densenet121_equals_the_closed_form(image_size):
    with torch.device("meta"):
        model = densenet121()
    assert measure_cio(model, image_size) == count_cio("densenet", image_size)


@pytest.mark.parametrize("fusion", ["csp", "first", "last"])
def test_cspdensenet_equals_the_closed_form(fusion):
    config = dict(growth_rate=12, fusion=fusion)
    with torch.device("meta"):
        model = CSPDenseNet(**config)
    assert measure_cio(model, 224) == count_cio("cspdensenet", 224, **config)


def test_a_real_model_counts_what_the_meta_device_counts():
    torch.manual_seed(0)
    small = dict(growth_rate=8, repeats=(2, 2), stem="small", num_classes=10)
    real = CSPDenseNet(**small)
    with torch.device("meta"):
        meta = CSPDenseNet(**small)
    assert measure_cio(real, 32) == measure_cio(meta, 32) == count_cio("cspdensenet", 32, **small)


def test_one_convolution_by_hand():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1))
    # 3 x 32 x 32 in, 8 x 16 x 16 out
    assert cio_by_module(model, 32) == {"0": 3 * 32 * 32 + 8 * 16 * 16}
    assert measure_cio(model, 32) == conv_cost(3, 8, 3, 32, 16)[2]


def test_pooling_layers_are_counted_only_when_asked():
    with torch.device("meta"):
        model = resnext50()
    convs = measure_cio(model, 256)
    pools = cio_by_module(model, 256, layer_types=(nn.MaxPool2d, nn.AdaptiveAvgPool2d))
    # stem max pool: 64 x 128 x 128 -> 64 x 64 x 64; average pool: 2048 x 8 x 8 -> 2048
    assert pools == {"stem.1": 64 * 128 * 128 + 64 * 64 * 64, "pool": 2048 * 64 + 2048}
    both = (nn.Conv2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)
    assert measure_cio(model, 256, layer_types=both) == convs + sum(pools.values())


def test_the_model_keeps_its_mode_and_has_no_hooks_left():
    with torch.device("meta"):
        model = cspresnext50(repeats=(1, 1, 1, 1)).train()
    measure_cio(model, 64)
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())


@pytest.mark.parametrize("image_size", [0, -3, 5000])
def test_a_bad_image_size_is_named(image_size):
    with torch.device("meta"):
        model = densenet121()
    with pytest.raises(ValueError, match="image_size"):
        measure_cio(model, image_size)


@pytest.mark.parametrize("layer_types", [(), nn.Conv2d, (int,), [nn.Conv2d], ("Conv2d",)])
def test_bad_layer_types_are_named(layer_types):
    with torch.device("meta"):
        model = densenet121()
    with pytest.raises(ValueError, match="layer_types"):
        measure_cio(model, 224, layer_types=layer_types)


def test_a_model_without_such_layers_is_refused():
    with pytest.raises(ValueError, match="layer_types"):
        measure_cio(nn.Sequential(nn.Conv2d(3, 4, 1)), 8, layer_types=(nn.Linear,))


def test_not_a_model_is_a_type_error():
    with pytest.raises(TypeError, match="model"):
        measure_cio("densenet121", 224)


def test_the_docstring_example_runs():
    failures, tried = doctest.testmod(cspnet_lib.cio)
    assert tried > 0 and failures == 0
