"""The idioms written once: the too-small image, the image check, the model's mode restored."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cspnet_lib as lib
from cspnet_lib.models.inputs import check_images
from cspnet_lib.settings import ImageTooSmall


def test_a_too_small_image_is_its_own_value_error():
    with pytest.raises(ImageTooSmall, match="image_size=28 is too small"):
        lib.channel_plan("densenet", 28, growth_rate=4)
    assert issubclass(ImageTooSmall, ValueError)
    size = lib.min_image_size("densenet", growth_rate=4)
    lib.channel_plan("densenet", size, growth_rate=4)
    with pytest.raises(ImageTooSmall):
        lib.channel_plan("densenet", size - 1, growth_rate=4)


def test_min_image_size_passes_other_errors_on():
    with pytest.raises(ValueError, match="0 channels") as caught:
        lib.min_image_size("cspdensenet", stem_channels=1, split_ratio=0.5)
    assert not isinstance(caught.value, ImageTooSmall)


@pytest.mark.parametrize("x, error, message", [
    ([1.0], TypeError, "images must be a torch.Tensor shaped (N, C, H, W), got list"),
    (torch.zeros(2, 3, 8), ValueError, "images must be a float tensor shaped (N, C, H, W)"),
    (torch.zeros(1, 3, 8, 8, dtype=torch.long), ValueError, "dtype torch.int64"),
])
def test_one_image_check_for_the_measurements(x, error, message):
    with pytest.raises(error) as caught:
        check_images(x, name="images")
    assert message in str(caught.value)


def test_the_instruments_restore_the_mode():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())
    x = torch.randn(2, 3, 8, 8)
    for training in (True, False):
        model.train(training)
        lib.time_by_layer(model, x, rounds=1)
        assert model.training is training
        assert lib.saved_activation_bytes(model, x) > 0
        assert model.training is training
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        lib.saved_activation_bytes("model", x)
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        lib.time_by_layer(model, [1, 2])
