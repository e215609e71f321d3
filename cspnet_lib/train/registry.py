"""The networks and the data sets of ``python -m cspnet_lib.train``, by name.

``build_model("cspdensenet", {"fusion": "last"}, data)`` builds a network for a data set's
images and classes; every setting goes through the library's own checks, so a misspelt one is
refused with the name it most likely meant. ``load_data("digits")`` gives the offline digits,
``"cifar10"`` torchvision's download, ``"imagefolder:PATH"`` ImageNet-style folders.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import nn
from torch.utils.data import Dataset, Subset, TensorDataset

from ..data import load_digit_split
from ..models import (CSPDenseNet, DenseNet, densenet121, densenet169, densenet201,
                      seed_cspdensenet)
from ..models import residual_nets
from ..models.weights import WeightsUnavailable
from ..plan import min_image_size

DIGITS = dict(growth_rate=8, repeats=(3, 6, 6), stem_channels=16, stem="small")
"""Chapter 6's small DenseNet settings for the 8x8 digits (``densenet`` and ``cspdensenet``)."""

DENSE_MODELS: dict[str, tuple[str, Callable[..., nn.Module]]] = {
    "densenet": ("densenet", DenseNet),
    "cspdensenet": ("cspdensenet", CSPDenseNet),
    "seed_cspdensenet": ("cspdensenet", seed_cspdensenet),
    "densenet121": ("densenet", densenet121),
    "densenet169": ("densenet", densenet169),
    "densenet201": ("densenet", densenet201),
}
"""name -> (the plan's kind, the function that builds it)."""

MODEL_NAMES = (*DENSE_MODELS, *residual_nets.SPECS)
DATA_NAMES = ("digits", "cifar10", "imagefolder:PATH")


class InputError(ValueError):
    """A setting the user gave is wrong: the command line prints the message and exits with 2."""


@dataclass(frozen=True)
class TrainData:
    """A training and a test set of ``(image, label)`` pairs, with their shape."""

    name: str
    train: Dataset
    test: Dataset
    in_channels: int
    num_classes: int
    image_size: int


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``["repeats=2,2", "fusion=last"]`` -> ``{"repeats": (2, 2), "fusion": "last"}``.

    Each value is read as a Python literal where it is one (``2,2`` is a tuple), else as text."""
    settings: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip().isidentifier() or not text.strip():
            raise InputError(f"--set takes key=value, got {pair!r}")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError):
            value = text.strip()
        settings[key.strip()] = value
    return settings


def model_settings(name: str, settings: dict[str, Any], data: TrainData) -> dict[str, Any]:
    """The keywords ``name`` is built with for ``data``: the data's channels and classes,
    chapter 6's small settings for the digits, then the user's ``--set``."""
    base: dict[str, Any] = {"num_classes": data.num_classes, "in_channels": data.in_channels}
    if name in ("densenet", "cspdensenet") and data.name == "digits":
        base.update(DIGITS)
    elif name in DENSE_MODELS and data.image_size < 64:
        base["stem"] = "small"  # an ImageNet stem would shrink 32x32 images to 8x8 at once
    return {**base, **settings}


def build_model(name: str, settings: dict[str, Any], data: TrainData,
                weights: str | None = None) -> nn.Module:
    """Build network ``name`` for ``data`` with ``settings`` (checked by the library).

    ``weights``: a published name (``"DEFAULT"``) for the networks that have them; files are
    loaded by the caller. Raises ``InputError`` for anything the library refuses."""
    if name not in MODEL_NAMES:
        raise InputError(f"unknown model {name!r}; choose from {', '.join(MODEL_NAMES)}")
    keywords = model_settings(name, settings, data)
    if weights is not None:
        keywords = {**settings, "weights": weights}  # published weights fix every other setting
    try:
        if name in DENSE_MODELS:
            return DENSE_MODELS[name][1](**keywords)
        if "weights" in keywords:
            return getattr(residual_nets, name)(**keywords)
        return residual_nets.build(name, **keywords)
    except (TypeError, ValueError, WeightsUnavailable) as error:
        raise InputError(f"{name}: {error}") from error


def smallest_image(name: str, settings: dict[str, Any], data: TrainData) -> int:
    """The smallest image ``name`` accepts with these settings (the digits are resized to it)."""
    if name in residual_nets.SPECS:
        return residual_nets.MIN_IMAGE_SIZE
    try:
        return min_image_size(DENSE_MODELS[name][0], **model_settings(name, settings, data))
    except (TypeError, ValueError) as error:
        raise InputError(f"{name}: {error}") from error


def load_data(spec: str, *, model: str = "densenet", settings: dict[str, Any] | None = None,
              limit: int | None = None, root: str = "data") -> TrainData:
    """The data set ``spec`` names, the digits resized to the smallest image ``model`` takes.

    ``limit``: keep the first ``limit`` training and test images (quick runs and tests)."""
    if spec == "digits":
        data = _digits(model, settings or {})
    elif spec == "cifar10":
        data = _cifar10(root)
    elif spec.startswith("imagefolder:"):
        data = _imagefolder(spec.removeprefix("imagefolder:"))
    else:
        raise InputError(f"unknown data {spec!r}; choose from {', '.join(DATA_NAMES)}")
    if limit is not None:
        data = TrainData(data.name, Subset(data.train, range(min(limit, len(data.train)))),
                    Subset(data.test, range(min(limit, len(data.test)))),
                    data.in_channels, data.num_classes, data.image_size)
    return data


def _digits(model: str, settings: dict[str, Any]) -> TrainData:
    empty = TensorDataset(torch.empty(0))
    probe = TrainData("digits", empty, empty, 1, 10, 8)
    size = max(8, smallest_image(model, settings, probe)) if model in MODEL_NAMES else 8
    split = load_digit_split(image_size=size, seed=0)
    return TrainData("digits", TensorDataset(split.x_train, split.y_train),
                TensorDataset(split.x_test, split.y_test), 1, 10, size)


def _torchvision() -> Any:
    from ..models.weights import import_torchvision  # also loads PyPI's CUDA wheel beside CPU torch

    try:
        torchvision = import_torchvision()
    except Exception as error:  # not installed, or built for another torch
        raise InputError(f"this data set needs torchvision, which does not import here "
                         f"({type(error).__name__}: {error})") from error
    return torchvision


def _cifar10(root: str) -> TrainData:
    tv = _torchvision()
    t = tv.transforms
    mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
    train_tf = t.Compose([t.RandomCrop(32, padding=4), t.RandomHorizontalFlip(), t.ToTensor(),
                          t.Normalize(mean, std)])
    test_tf = t.Compose([t.ToTensor(), t.Normalize(mean, std)])
    try:
        train = tv.datasets.CIFAR10(root, train=True, download=True, transform=train_tf)
        test = tv.datasets.CIFAR10(root, train=False, download=True, transform=test_tf)
    except Exception as error:  # urllib's errors, a full disk, a corrupt archive
        raise InputError(f"could not get CIFAR-10 into {root!r} ({type(error).__name__}: "
                         f"{error}); is this machine online?") from error
    return TrainData("cifar10", train, test, 3, 10, 32)


def _imagefolder(path: str) -> TrainData:
    missing = [p for p in (os.path.join(path, "train"), os.path.join(path, "val"))
               if not os.path.isdir(p)]
    if not path or missing:
        raise InputError(f"imagefolder:PATH needs PATH/train and PATH/val folders of class "
                         f"folders; missing: {', '.join(missing) or 'PATH'}")
    tv = _torchvision()
    t = tv.transforms
    norm = t.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    train = tv.datasets.ImageFolder(os.path.join(path, "train"), t.Compose(
        [t.RandomResizedCrop(224), t.RandomHorizontalFlip(), t.ToTensor(), norm]))
    test = tv.datasets.ImageFolder(os.path.join(path, "val"), t.Compose(
        [t.Resize(256), t.CenterCrop(224), t.ToTensor(), norm]))
    return TrainData(f"imagefolder:{path}", train, test, 3, len(train.classes), 224)


__all__ = ["DATA_NAMES", "DENSE_MODELS", "DIGITS", "InputError", "MODEL_NAMES", "TrainData",
           "build_model", "load_data", "model_settings", "parse_settings"]
