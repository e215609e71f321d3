"""What every measurement of a built model shares: the model check, the mode it runs in, hooks.

``check_module`` rejects what is not a ``torch.nn.Module``; ``model_mode`` runs a block of code
with the model in eval (or train) mode and puts the mode back however the block ends;
``run_with_hooks`` runs one forward pass with forward hooks on some modules.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

import torch
from torch import Tensor, nn


def check_module(model: object, name: str = "model") -> nn.Module:
    """Return ``model`` if it is a ``torch.nn.Module``, else raise ``TypeError`` naming ``name``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    return model


@contextmanager
def model_mode(model: nn.Module, training: bool = False) -> Iterator[nn.Module]:
    """``with model_mode(model):`` runs the block in eval mode (``training=True``: train mode)
    and restores the mode the model was in, even if the block raises."""
    was_training = model.training
    model.train(training)
    try:
        yield model
    finally:
        model.train(was_training)


def run_with_hooks(model: nn.Module, x: Tensor, modules: list[nn.Module],
                   hook: Callable[..., None]) -> None:
    """One forward pass of ``model`` on ``x`` in eval mode without gradients, with ``hook`` as a
    forward hook on each of ``modules``; the hooks are removed and the model's mode restored."""
    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        with model_mode(model), torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
