"""Real images that ship offline: scikit-learn's handwritten digits, as PyTorch tensors.

``sklearn.datasets.load_digits`` holds 1,797 handwritten digits (0 to 9), 8x8 pixels, grey
levels 0 to 16, inside the scikit-learn wheel: nothing is downloaded. ``load_digit_split`` scales
them to [0, 1], makes them ``(N, 1, H, W)`` tensors, splits them into a training and a test set
(stratified, so every digit keeps its share, and seeded, so the split is the same on every run)
and, if asked, resizes them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor
from torch.nn import functional as F

from .settings import check_fraction, check_int

DIGITS_SIZE = 8
"""Height and width of scikit-learn's digits."""


@dataclass(frozen=True)
class DigitSplit:
    """A seeded train/test split: images ``(N, 1, H, W)`` float32 in [0, 1], labels ``(N,)`` int64.

    Nothing in it is specific to digits: wrap any image tensors (CIFAR-10's ``(N, 3, 32, 32)``,
    say) in one to train with ``train_classifier``."""

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor

    @property
    def image_size(self) -> int:
        """Height = width of the images."""
        return self.x_train.shape[-1]

    @property
    def num_classes(self) -> int:
        """Ten digits."""
        return int(torch.cat([self.y_train, self.y_test]).max()) + 1


def load_digit_split(image_size: int = DIGITS_SIZE, test_fraction: float = 0.25,
                     seed: int = 0) -> DigitSplit:
    """scikit-learn's 1,797 digits as tensors, split into train and test sets.

    Args:
        image_size: height = width of the returned images; 8 keeps the originals, any other size
            resizes them with bilinear interpolation (e.g. 32 to feed an ImageNet-style stem).
        test_fraction: share of the images held out for testing, stratified by digit.
        seed: fixes which images land in the test set.

    >>> data = load_digit_split()
    >>> tuple(data.x_train.shape), tuple(data.x_test.shape)
    ((1347, 1, 8, 8), (450, 1, 8, 8))
    """
    image_size = check_int("image_size", image_size, 1, 1024)
    test_fraction = check_fraction("test_fraction", test_fraction, include_one=False)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    from sklearn.datasets import load_digits  # imported here: only this function needs sklearn
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = torch.tensor(digits.images, dtype=torch.float32).unsqueeze(1) / 16.0  # (1797, 1, 8, 8)
    labels = torch.tensor(digits.target, dtype=torch.int64)
    if image_size != DIGITS_SIZE:
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear",
                               align_corners=False).clamp_(0.0, 1.0)
    train, test = train_test_split(torch.arange(len(labels)).numpy(), test_size=test_fraction,
                                   random_state=seed, stratify=labels.numpy())
    train, test = torch.as_tensor(train), torch.as_tensor(test)
    return DigitSplit(images[train], labels[train], images[test], labels[test])
