"""Chapter 6's instruments: where a forward pass spends its time, and what training must keep.

``time_by_layer`` splits one forward pass's wall time by layer type with forward hooks;
``saved_activation_bytes`` adds up the tensors autograd saves for the backward pass. Both take
any built model and one batch ``x`` (N, C, H, W).
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import Tensor, nn

from ..models.inputs import check_images
from ..settings import check_int
from .hooks import check_module, model_mode


def saved_activation_bytes(model: nn.Module, x: Tensor) -> int:
    """Bytes of the tensors autograd keeps for the backward pass of ``model(x)`` in train mode.

    Every tensor a layer saves for its gradient (inputs of convolutions, batch norms, the
    concatenations a dense block feeds them, ...) is seen through
    ``torch.autograd.graph.saved_tensors_hooks``; each storage counts once and the parameters not
    at all. Unlike the RSS measured by ``train_step_memory``, this does not depend on the memory
    allocator or the machine: it is the activation memory that training must hold.
    """
    _check_model_and_batch(model, x)
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    storages: dict[int, int] = {}

    def pack(t: Tensor) -> Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with model_mode(model, training=True), \
            torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        model(x)
    return sum(storages.values())


def _check_model_and_batch(model: object, x: object) -> None:
    check_module(model)
    check_images(x)


def time_by_layer(model: nn.Module, x: Tensor, rounds: int = 5) -> dict[str, float]:
    """Median seconds of one forward pass, split by layer type with forward hooks.

    Keys: ``"conv 1x1"``, ``"conv 3x3"``, ``"conv other"`` (the stem), ``"batch norm + ReLU"``,
    ``"pooling"``, ``"linear"``, and ``"concatenation + rest"``: the whole pass minus the timed
    layers, i.e. ``torch.cat`` in the dense blocks, the split, and Python's own overhead.
    The model runs in eval mode; its mode is restored.
    """
    _check_model_and_batch(model, x)
    rounds = check_int("rounds", rounds, 1, 10_000)

    def kind(m: nn.Module) -> str | None:
        if isinstance(m, nn.Conv2d):
            return {1: "conv 1x1", 3: "conv 3x3"}.get(m.kernel_size[0], "conv other")
        if isinstance(m, (nn.BatchNorm2d, nn.ReLU)):
            return "batch norm + ReLU"
        if isinstance(m, (nn.AvgPool2d, nn.MaxPool2d, nn.AdaptiveAvgPool2d)):
            return "pooling"
        return "linear" if isinstance(m, nn.Linear) else None

    current: dict[str, float] = {}  # seconds per layer type in the pass being timed
    starts: dict[int, float] = {}

    def start(module: nn.Module, inputs: tuple) -> None:
        starts[id(module)] = time.perf_counter()

    def stop(module: nn.Module, inputs: tuple, output: Tensor) -> None:
        k = kind(module)
        current[k] = current.get(k, 0.0) + time.perf_counter() - starts[id(module)]

    handles = []
    for m in model.modules():
        if kind(m) is not None:
            handles += [m.register_forward_pre_hook(start), m.register_forward_hook(stop)]
    runs: list[dict[str, float]] = []
    try:
        with model_mode(model), torch.inference_mode():
            model(x)  # warm-up
            for _ in range(rounds):
                current.clear()
                start = time.perf_counter()
                model(x)
                total = time.perf_counter() - start
                run = dict(current)
                # torch.relu after the last norm (not a module) falls into the rest
                run["concatenation + rest"] = max(0.0, total - sum(current.values()))
                run["total"] = total
                runs.append(run)
    finally:
        for h in handles:
            h.remove()
    keys = ["conv 1x1", "conv 3x3", "conv other", "batch norm + ReLU", "pooling", "linear",
            "concatenation + rest", "total"]
    return {k: statistics.median(r.get(k, 0.0) for r in runs) for k in keys}
