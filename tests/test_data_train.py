"""Offline digits and the seeded training loop: shapes, seeding, reproducibility, bad input."""

from __future__ import annotations

import pytest
import torch
from sklearn.datasets import load_digits
from torch import nn

from cspnet_lib import CSPDenseNet, DenseNet
from cspnet_lib.data import DigitSplit, load_digit_split
from cspnet_lib.train import evaluate, train_classifier

# --------------------------------------------------------------------------- data


def test_digit_split_shapes_and_values():
    data = load_digit_split()
    assert data.x_train.shape == (1347, 1, 8, 8) and data.x_test.shape == (450, 1, 8, 8)
    assert data.y_train.shape == (1347,) and data.y_test.shape == (450,)
    assert data.x_train.dtype == torch.float32 and data.y_train.dtype == torch.int64
    assert data.image_size == 8 and data.num_classes == 10
    assert float(data.x_train.min()) == 0.0 and float(data.x_train.max()) == 1.0


def test_digit_split_holds_every_image_once():
    data = load_digit_split(seed=3)
    raw = torch.tensor(load_digits().images, dtype=torch.float32) / 16
    ours = torch.cat([data.x_train, data.x_test]).squeeze(1)
    key = lambda t: sorted(map(tuple, t.flatten(1).tolist()))  # noqa: E731
    assert key(ours) == key(raw)
    counts_train = torch.bincount(data.y_train, minlength=10).float() / len(data.y_train)
    counts_test = torch.bincount(data.y_test, minlength=10).float() / len(data.y_test)
    assert (counts_train - counts_test).abs().max() < 0.01  # stratified


def test_digit_split_is_seeded():
    a, b, c = load_digit_split(seed=0), load_digit_split(seed=0), load_digit_split(seed=1)
    assert torch.equal(a.x_test, b.x_test) and torch.equal(a.y_train, b.y_train)
    assert not torch.equal(a.x_test, c.x_test)


def test_digit_split_resizes():
    data = load_digit_split(image_size=32, test_fraction=0.5)
    assert data.x_train.shape[1:] == (1, 32, 32) and len(data.x_test) in (898, 899)
    assert 0.0 <= float(data.x_train.min()) and float(data.x_train.max()) <= 1.0
    small = load_digit_split(test_fraction=0.5)
    # the resize keeps each image's mean brightness roughly (bilinear, no new content)
    assert (data.x_train.mean((1, 2, 3)) - small.x_train.mean((1, 2, 3))).abs().max() < 0.05


@pytest.mark.parametrize("kwargs,error,message", [
    ({"image_size": 0}, ValueError, "image_size"),
    ({"image_size": 8.0}, TypeError, "image_size"),
    ({"test_fraction": 1.0}, ValueError, "test_fraction"),
    ({"test_fraction": 0}, ValueError, "test_fraction"),
    ({"seed": -1}, ValueError, "seed"),
])
def test_digit_split_rejects_bad_input(kwargs, error, message):
    with pytest.raises(error, match=message):
        load_digit_split(**kwargs)


# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def small_data() -> DigitSplit:
    d = load_digit_split()
    return DigitSplit(d.x_train[:300], d.y_train[:300], d.x_test[:200], d.y_test[:200])


def tiny_densenet() -> nn.Module:
    return DenseNet(growth_rate=4, repeats=(2, 2), stem_channels=8, num_classes=10,
                    in_channels=1, stem="small")


def test_training_is_reproducible_and_seeded(small_data):
    _, a = train_classifier(tiny_densenet, small_data, epochs=2, batch_size=32, seed=5)
    _, b = train_classifier(tiny_densenet, small_data, epochs=2, batch_size=32, seed=5)
    _, c = train_classifier(tiny_densenet, small_data, epochs=2, batch_size=32, seed=6)
    assert a.losses == b.losses and a.test_accuracy == b.test_accuracy
    assert a.losses != c.losses
    assert len(a.losses) == 2 and a.epochs == 2 and a.seed == 5


def test_training_learns(small_data):
    build = lambda: CSPDenseNet(growth_rate=4, repeats=(2, 2), stem_channels=8, num_classes=10,  # noqa: E731
                                in_channels=1, stem="small")
    model, result = train_classifier(build, small_data, epochs=8, batch_size=32, lr=3e-2, seed=0)
    assert not model.training
    assert result.losses[-1] < 0.7 * result.losses[0]
    assert result.test_accuracy > 0.5  # ten classes: chance is 0.1
    assert result.test_accuracy == evaluate(model, small_data.x_test, small_data.y_test)


class AlwaysThree(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(torch.full((len(x),), 3), 10).float()


def test_evaluate_counts_correct_predictions():
    x = torch.zeros(5, 1, 8, 8)
    y = torch.tensor([3, 1, 3, 3, 0])
    assert evaluate(AlwaysThree(), x, y, batch_size=2) == 3 / 5


@pytest.mark.parametrize("kwargs,error,message", [
    ({"epochs": 0}, ValueError, "epochs"),
    ({"batch_size": 0}, ValueError, "batch_size"),
    ({"lr": -1.0}, ValueError, "lr"),
    ({"lr": "fast"}, TypeError, "lr"),
    ({"weight_decay": 2.0}, ValueError, "weight_decay"),
    ({"seed": -3}, ValueError, "seed"),
    ({"device": "gpu"}, ValueError, "device"),
])
def test_training_rejects_bad_settings(small_data, kwargs, error, message):
    with pytest.raises(error, match=message):
        train_classifier(tiny_densenet, small_data, **kwargs)


def test_training_rejects_bad_build_and_data(small_data):
    with pytest.raises(TypeError, match="build"):
        train_classifier(tiny_densenet(), small_data)
    with pytest.raises(TypeError, match="build\\(\\) must return"):
        train_classifier(lambda: "model", small_data)
    with pytest.raises(TypeError, match="DigitSplit"):
        train_classifier(tiny_densenet, (small_data.x_train, small_data.y_train))
    one = DigitSplit(small_data.x_train[:1], small_data.y_train[:1], small_data.x_test,
                     small_data.y_test)
    with pytest.raises(ValueError, match="at least 2 training images"):
        train_classifier(tiny_densenet, one)
    with pytest.raises(ValueError, match="same length"):
        evaluate(AlwaysThree(), torch.zeros(3, 1, 8, 8), torch.zeros(2, dtype=torch.int64))
