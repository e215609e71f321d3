"""Memory traffic of a built model, measured with forward hooks: CIO.

CIO (Chao et al. 2019, HarDNet; the measure the CSPNet paper uses) is the sum, over every
convolution of one forward pass, of the elements of its input feature map plus the elements of
its output feature map, for one image:

    CIO = sum over convolutions of  C_in x H_in x W_in  +  C_out x H_out x W_out

It stands for the traffic between a processor and its memory: every convolution reads its whole
input and writes its whole output. ``plan.count_cio`` computes it in closed form for the
DenseNets; ``measure_cio`` measures it on any model, by watching what each convolution receives
and returns, so it also covers the residual networks of ``beyond.py``. It needs shapes only: on
the ``meta`` device (``with torch.device("meta"): model = ...``) it runs without memory and
without arithmetic.

    >>> from cspnet_lib import count_cio, densenet121
    >>> with torch.device("meta"):
    ...     model = densenet121()
    >>> measure_cio(model, 224) == count_cio("densenet", 224)
    True
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .hooks import check_module, run_with_hooks
from ..settings import check_int

__all__ = ["cio_by_module", "measure_cio"]


def _check_layer_types(layer_types: object) -> tuple[type[nn.Module], ...]:
    if not isinstance(layer_types, tuple) or not layer_types or not all(
            isinstance(t, type) and issubclass(t, nn.Module) for t in layer_types):
        raise ValueError(f"layer_types must be a non-empty tuple of nn.Module classes such as "
                         f"(nn.Conv2d,), got {layer_types!r}")
    return layer_types


def _elements(value: object) -> int:
    """Elements of one image's feature map: a tensor (1, C, H, W), or the tensors of a tuple."""
    if isinstance(value, Tensor):
        return value.numel()
    if isinstance(value, (tuple, list)):
        return sum(_elements(v) for v in value)
    return 0


def cio_by_module(model: nn.Module, image_size: int = 224, *,
                  layer_types: tuple[type[nn.Module], ...] = (nn.Conv2d,)) -> dict[str, int]:
    """Input plus output elements of every layer of ``layer_types``, for one image.

    Runs ``model`` (in eval mode, without gradients; its mode is restored) once on zeros shaped
    (1, in_channels, image_size, image_size), on the device and in the dtype of its parameters
    (``meta`` works). A hook on each layer adds ``input.numel() + output.numel()`` of the
    (1, C, H, W) tensors it receives and returns. ``in_channels`` is the model's attribute of that
    name, else 3.

    Returns ``{qualified module name: elements}`` in the order the layers ran, e.g.
    ``{"features.conv0": 1_003_520, ...}``; a layer that runs twice counts twice.
    ``layer_types=(nn.Conv2d, nn.MaxPool2d)`` counts pooling layers as well.
    """
    check_module(model)
    image_size = check_int("image_size", image_size, 1, 4096)
    layer_types = _check_layer_types(layer_types)
    names = {module: name for name, module in model.named_modules()}
    watched = [m for m in model.modules() if isinstance(m, layer_types)]
    if not watched:
        kinds = ", ".join(t.__name__ for t in layer_types)
        raise ValueError(f"model has no layer of layer_types ({kinds}), so there is nothing to "
                         f"count; pass the layer classes the model is built from")
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    dtype = parameter.dtype if parameter is not None else torch.float32
    x = torch.zeros(1, getattr(model, "in_channels", 3), image_size, image_size,
                    device=device, dtype=dtype)
    counts: dict[str, int] = {}

    def record(module: nn.Module, inputs: tuple, output: object) -> None:
        name = names[module]
        counts[name] = counts.get(name, 0) + _elements(inputs[0]) + _elements(output)

    run_with_hooks(model, x, list(watched), record)
    return counts


def measure_cio(model: nn.Module, image_size: int = 224, *,
                layer_types: tuple[type[nn.Module], ...] = (nn.Conv2d,)) -> int:
    """CIO of one (1, in_channels, image_size, image_size) image: the sum of ``cio_by_module``.

    With the default ``layer_types=(nn.Conv2d,)`` this is HarDNet's CIO and equals
    ``plan.count_cio`` for the DenseNets exactly. Raises ``ValueError`` naming the parameter for
    a bad ``image_size`` or ``layer_types`` (and the model's own ``ValueError`` for an image too
    small for it).
    """
    return sum(cio_by_module(model, image_size, layer_types=layer_types).values())
