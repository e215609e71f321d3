"""A small, seeded training loop: the same budget for every model, the same numbers on every run.

``train_classifier`` seeds torch, builds the model (so its initial weights depend on the seed
only), shuffles the training set with its own seeded generator, trains with Adam and a cosine
learning-rate schedule for a fixed number of epochs, and reports the test accuracy. Two runs with
the same seed and the same thread count (``torch.set_num_threads``) give identical numbers on
the same machine; that is what lets the book compare models at an *equal training budget*.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from ..data import DigitSplit
from ..settings import check_int


@dataclass(frozen=True)
class TrainResult:
    """What one training run gives back (``seconds`` is wall time, machine-dependent)."""

    seed: int
    epochs: int
    losses: tuple[float, ...]  # mean training loss of each epoch
    train_accuracy: float  # after the last epoch, in [0, 1]
    test_accuracy: float  # in [0, 1]
    seconds: float


def _check_positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    if not 0.0 < float(value) < float("inf"):
        raise ValueError(f"{name} must be a positive finite number, got {value}")
    return float(value)


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 256) -> float:
    """Share of images ``x`` (N, C, H, W) whose predicted class equals ``y`` (N,), in eval mode.

    Batches are moved to the device of the model's first parameter (CPU for a model without any)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(x, Tensor) or not isinstance(y, Tensor) or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"x and y must be non-empty tensors of the same length, got "
                         f"{tuple(getattr(x, 'shape', ()))} and {tuple(getattr(y, 'shape', ()))}")
    batch_size = check_int("batch_size", batch_size)
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    was_training = model.training
    model.eval()
    try:
        correct = 0
        for xb, yb in zip(x.split(batch_size), y.split(batch_size)):
            correct += int((model(xb.to(device)).argmax(1).cpu() == yb).sum())
    finally:
        model.train(was_training)
    return correct / len(x)


def train_classifier(build: Callable[[], nn.Module], data: DigitSplit, *, epochs: int = 10,
                     batch_size: int = 64, lr: float = 3e-3, weight_decay: float = 1e-4,
                     seed: int = 0, device: str | torch.device = "cpu",
                     on_step: Callable[[int, nn.Module], None] | None = None,
                     ) -> tuple[nn.Module, TrainResult]:
    """Build a model with ``build()`` after seeding torch with ``seed``, and train it on ``data``.

    Every epoch visits the training images once in a seeded random order, in mini-batches of
    ``batch_size`` (the last one may be smaller; a last batch of a single image is skipped, as
    batch norm cannot train on one); the loss is cross-entropy, the optimizer Adam (``lr``,
    ``weight_decay``), and the learning rate follows a cosine from ``lr`` down to 0 over all
    steps. ``device``: where the model trains (``"cuda"`` on a Colab GPU; the data stay on the
    CPU and move batch by batch; runs on a GPU are not bit-for-bit reproducible).
    ``on_step``, if given, is called as ``on_step(step, model)`` before the first step (step 0)
    and after every optimizer step (1, 2, ...), with the model in training mode: a way to measure
    the model along the way. It must leave the model as it found it (the functions of
    ``cspnet_lib.gradients`` do). Returns the trained model (in eval mode) and a ``TrainResult``.
    """
    if not callable(build) or isinstance(build, nn.Module):
        raise TypeError(f"build must be a function that returns a new model (so that the seed "
                        f"fixes its weights), got {type(build).__name__}")
    if not isinstance(data, DigitSplit):
        raise TypeError(f"data must be a DigitSplit (see load_digit_split), got {type(data).__name__}")
    if len(data.x_train) < 2 or len(data.x_train) != len(data.y_train):
        raise ValueError(f"data needs at least 2 training images and one label per image, got "
                         f"{len(data.x_train)} images and {len(data.y_train)} labels")
    epochs = check_int("epochs", epochs, 1, 10_000)
    batch_size = check_int("batch_size", batch_size, 1, 1_000_000)
    lr = _check_positive("lr", lr)
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) or not (
            0.0 <= weight_decay < 1.0):
        raise ValueError(f"weight_decay must be a number in [0, 1), got {weight_decay!r}")
    seed = check_int("seed", seed, 0, 2**63 - 1)
    if on_step is not None and not callable(on_step):
        raise TypeError(f"on_step must be a function on_step(step, model), or None; "
                        f"got {type(on_step).__name__}")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError) as error:
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', "
                         f"got {device!r}") from error

    start = time.perf_counter()
    torch.manual_seed(seed)
    model = build()
    if not isinstance(model, nn.Module):
        raise TypeError(f"build() must return a torch.nn.Module, got {type(model).__name__}")
    model.to(device)
    order = torch.Generator().manual_seed(seed)
    full, rest = divmod(len(data.x_train), batch_size)
    steps_per_epoch = full + (rest >= 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs * steps_per_epoch)
    losses = []
    model.train()
    step = 0
    if on_step is not None:
        on_step(step, model)
    for _ in range(epochs):
        total = 0.0
        for batch in torch.randperm(len(data.x_train), generator=order).split(batch_size):
            if len(batch) < 2:  # batch norm cannot train on a single image
                continue
            x, y = data.x_train[batch].to(device), data.y_train[batch].to(device)
            loss = F.cross_entropy(model(x), y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item() * len(batch)
            step += 1
            if on_step is not None:
                on_step(step, model)
        losses.append(total / len(data.x_train))
    model.eval()
    result = TrainResult(seed, epochs, tuple(losses), evaluate(model, data.x_train, data.y_train),
                         evaluate(model, data.x_test, data.y_test), time.perf_counter() - start)
    return model, result


__all__ = ["TrainResult", "evaluate", "train_classifier"]
