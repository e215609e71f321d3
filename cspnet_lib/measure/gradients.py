"""How much of the gradient a dense block sends back is the same information, many times over?

Inside a dense block the input x0 reaches the output by many paths: directly (x0 is part of the
block's output concatenation) and through every bottleneck, each of which reads x0 again. By the
chain rule the gradient at x0 is the *sum* of one contribution per path. ``path_gradients``
separates those contributions exactly: each bottleneck is fed its own copy of x0 (same values, a
separate leaf of the autograd graph), so the gradient that arrives at a copy is the contribution
of that path alone, and all contributions add up to the ordinary gradient.

Two ways to say what "the loss" is:

- ``path_gradients(module, x0)``: a stage on its own, scored by a fixed random projection of its
  output (or by any ``loss`` callable you pass);
- ``network_path_gradients(model, images, targets)``: a dense block inside a whole network,
  scored by the network's real classification loss (cross-entropy), measured at that block's
  input (or at the input of the ``CSPStage`` that holds it); ``block_input`` returns that input,
  so the same stage can also be scored with a random probe.

``cosine_matrix`` compares the contributions pairwise; ``mean_similarity`` summarises it as the
mean off-diagonal cosine. Alike contributions (a high mean) is the redundancy CSPNet's paper
describes; a CSP stage sends part 1's gradient back on channels no bottleneck touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.blocks import DenseBlock
from ..models.csp_stage import CSPStage
from ..models.inputs import check_images
from ..plan import split_sizes
from ..settings import check_choice, check_int
from .hooks import check_module, model_mode

PROBES = ("pixel", "channel")
"""Random projections ``path_gradients`` can score a stage's output with: one weight per output
element (``"pixel"``), or one per channel, shared by every pixel (``"channel"``)."""


@dataclass
class PathGradients:
    """The gradient at a stage's input x0, split by path.

    names: one label per path ("bypass (part 1)", "direct", "bottleneck 1", ...).
    vectors: (paths, numel(x0)) contributions, each flattened in x0's coordinates.
    total: (numel(x0),) the ordinary gradient from one plain backward pass, for checking.
    """

    names: list[str]
    vectors: Tensor
    total: Tensor


def _the_dense_block(module: nn.Module) -> DenseBlock:
    blocks = [m for m in module.modules() if isinstance(m, DenseBlock)]
    if len(blocks) != 1:
        raise ValueError(f"module must contain exactly one DenseBlock, found {len(blocks)}")
    return blocks[0]


def _bypass_channels(stage: nn.Module, block: DenseBlock, channels: int) -> int:
    """Channels of x0 (``channels`` of them) that bypass ``block``: part 1 of a ``CSPStage``,
    none otherwise; raise if the rest is not what the block's first bottleneck reads."""
    block_in = next(iter(block.values())).norm1.num_features
    if not isinstance(stage, CSPStage):
        bypass = 0
    elif hasattr(stage.split, "split_ratio"):
        bypass = split_sizes(channels, stage.split.split_ratio)[0]
    else:
        raise ValueError("a CSPStage's split must be a channel slice with a split_ratio "
                         f"(ChannelSplit); got {type(stage.split).__name__}")
    if channels - bypass != block_in:
        raise ValueError(f"x0 has {channels} channels, {bypass} bypass the block, but its first "
                         f"bottleneck expects {block_in}; x0 must be the input of the stage")
    return bypass


def _split_by_path(stage: nn.Module, block: DenseBlock,
                   compute_loss: Callable[[], Tensor]) -> PathGradients:
    """Run ``compute_loss`` twice and split the gradient at ``stage``'s input by path.

    ``compute_loss`` runs a forward pass that calls ``stage`` exactly once, and returns a scalar.
    Pass 1 feeds ``stage`` a fresh leaf x0 and every bottleneck of ``block`` its own copy of the
    block's input; pass 2 feeds only the leaf, for the ordinary gradient. ``torch.autograd.grad``
    leaves every parameter's ``.grad`` untouched.
    """
    leaves: list[Tensor] = []
    copies: list[Tensor] = []
    block_in = next(iter(block.values())).norm1.num_features

    def leaf_input(module: nn.Module, inputs: tuple[Tensor, ...]) -> tuple[Tensor, ...]:
        leaf = inputs[0].detach().clone().requires_grad_(True)
        leaves.append(leaf)
        return (leaf, *inputs[1:])

    def copy_of_x0(layer: nn.Module, inputs: tuple[Tensor]) -> tuple[Tensor]:
        (features,) = inputs
        copy = features[:, :block_in].detach().clone().requires_grad_(True)
        copies.append(copy)
        return (torch.cat([copy, features[:, block_in:]], dim=1),)

    def backward(with_copies: bool) -> tuple[Tensor, ...]:
        leaves.clear()
        copies.clear()
        handles = [stage.register_forward_pre_hook(leaf_input)]
        if with_copies:
            handles += [layer.register_forward_pre_hook(copy_of_x0) for layer in block.values()]
        try:
            loss = compute_loss()
        finally:
            for handle in handles:
                handle.remove()
        if len(leaves) != 1:
            raise ValueError(f"the forward pass called the stage {len(leaves)} times; it must call it once")
        if not isinstance(loss, Tensor) or loss.numel() != 1:
            raise ValueError(f"the loss must be a scalar tensor, got shape {tuple(getattr(loss, 'shape', ()))}")
        return torch.autograd.grad(loss, [*leaves, *copies], allow_unused=True,
                                   materialize_grads=True)

    x0_grad, *copy_grads = backward(with_copies=True)
    (total,) = backward(with_copies=False)

    offset = _bypass_channels(stage, block, x0_grad.shape[1])
    names, vectors = [], []

    def only(channels: slice, grad: Tensor) -> Tensor:
        contribution = torch.zeros_like(x0_grad)
        contribution[:, channels] = grad
        return contribution.flatten()

    if offset:  # a CSP stage: part 1's channels are reached by the bypass alone
        names.append("bypass (part 1)")
        vectors.append(only(slice(0, offset), x0_grad[:, :offset]))
    names.append("direct")
    vectors.append(only(slice(offset, None), x0_grad[:, offset:]))
    for i, grad in enumerate(copy_grads):
        names.append(f"bottleneck {i + 1}")
        vectors.append(only(slice(offset, offset + block_in), grad))
    return PathGradients(names, torch.stack(vectors), total.flatten())


def path_gradients(module: nn.Module, x0: Tensor, seed: int = 0, probe: str = "pixel",
                   loss: Callable[[Tensor], Tensor] | None = None) -> PathGradients:
    """Split the gradient at ``x0`` into one contribution per path through ``module``.

    ``module`` is a ``DenseBlock``, a plain dense stage that starts with one (e.g.
    ``nn.Sequential(DenseBlock, Transition)``), or a ``CSPStage`` whose block is a ``DenseBlock``.
    By default the loss is a fixed random projection of the output, ``(module(x0) * w).sum()``
    with ``w`` drawn from ``seed``: one weight per output element (``probe="pixel"``) or per
    output channel (``probe="channel"``). ``loss``, if given, maps the output to a scalar and
    replaces the projection. The module runs in eval mode (batch norm uses its running
    statistics and is not updated); no parameter's ``.grad`` changes. ``x0``: (N, C, H, W).
    """
    check_module(module, "module")
    check_images(x0, name="x0")
    check_int("seed", seed, minimum=0)
    check_choice("probe", probe, PROBES)
    if loss is not None and not callable(loss):
        raise TypeError(f"loss must be a callable mapping the output to a scalar, or None; "
                        f"got {type(loss).__name__}")
    block = _the_dense_block(module)
    _bypass_channels(module, block, x0.shape[1])  # a clear error before torch's shape error
    weights: list[Tensor] = []

    def random_projection(out: Tensor) -> Tensor:
        if not weights:  # drawn once, so both passes score the output the same way
            shape = out.shape if probe == "pixel" else out.shape[:2] + (1,) * (out.dim() - 2)
            weights.append(torch.randn(shape, generator=torch.Generator().manual_seed(seed)))
        return (out * weights[0]).sum()

    score = loss if loss is not None else random_projection
    with model_mode(module):
        return _split_by_path(module, block, lambda: score(module(x0)))


def dense_blocks(model: nn.Module) -> list[DenseBlock]:
    """The dense blocks of ``model`` in the order ``modules()`` meets them (stage order)."""
    return [m for m in check_module(model).modules() if isinstance(m, DenseBlock)]


def _stage_of(model: nn.Module, block: int) -> tuple[nn.Module, DenseBlock]:
    """(the module whose input is x0, the dense block): the ``CSPStage`` holding the
    ``block``-th dense block of ``model`` if there is one, else that dense block itself."""
    blocks = dense_blocks(model)
    if not blocks:
        raise ValueError("model contains no DenseBlock; there is no dense block input to measure at")
    check_int("block", block, minimum=0, maximum=len(blocks) - 1)
    dense = blocks[block]
    holders = [m for m in model.modules() if isinstance(m, CSPStage) and m.block is dense]
    return (holders[0] if holders else dense), dense


@torch.no_grad()
def block_input(model: nn.Module, images: Tensor, block: int = 0) -> Tensor:
    """x0 of ``network_path_gradients``: what the ``block``-th dense block of ``model`` (or the
    ``CSPStage`` holding it) receives when ``model`` runs on ``images`` in eval mode.

    (N, C_in, H, W) images -> (N, C, h, w), detached; feed it to ``path_gradients`` to score the
    same stage with a random probe instead of the real loss.
    """
    stage, _ = _stage_of(model, block)
    check_images(images, name="images")
    seen: list[Tensor] = []
    handle = stage.register_forward_pre_hook(lambda module, inputs: seen.append(inputs[0].detach().clone()))
    try:
        with model_mode(model):
            model(images)
    finally:
        handle.remove()
    return seen[0]


def check_images_and_targets(images: object, targets: object) -> None:
    """Raise unless ``images`` is a float (N, C, H, W) tensor and ``targets`` (N,) class indices."""
    check_images(images, name="images")
    if not isinstance(targets, Tensor):
        raise TypeError(f"targets must be a torch.Tensor of class indices, got {type(targets).__name__}")
    if targets.dim() != 1 or targets.shape[0] != images.shape[0] or targets.is_floating_point():
        raise ValueError(f"targets must be an integer tensor shaped ({images.shape[0]},), one class "
                         f"per image; got shape {tuple(targets.shape)} and dtype {targets.dtype}")


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, images: Tensor) -> nn.Module:
    """Set every batch norm's running statistics to the mean and variance of its input over
    ``images``, and return ``model`` (in the mode it was in).

    A freshly built network's running statistics are the defaults (mean 0, variance 1), so in
    eval mode its batch norms leave their inputs unscaled: not the regime the network trains
    in. One pass over ``images`` (N, C, H, W) in train mode, with the running average replaced
    by the exact average over that pass, puts the network in the same regime at every point of
    training. Measure a copy (``copy.deepcopy``) to leave a training run untouched.
    """
    check_module(model)
    check_images(images, name="images")
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms:
        raise ValueError("model has no batch norm layer to recalibrate")
    momenta = [bn.momentum for bn in norms]
    for bn in norms:
        bn.reset_running_stats()
        bn.momentum = None  # a cumulative average: one pass gives the exact statistics
    try:
        with model_mode(model, training=True):
            model(images)
    finally:
        for bn, momentum in zip(norms, momenta):
            bn.momentum = momentum
    return model


def network_path_gradients(model: nn.Module, images: Tensor, targets: Tensor,
                           block: int = 0) -> PathGradients:
    """Split the gradient of the classification loss at the input of one dense block of ``model``.

    The loss is ``cross_entropy(model(images), targets)``, the loss the network trains with.
    x0 is the input of ``model``'s ``block``-th ``DenseBlock`` (0 = the first), or of the
    ``CSPStage`` that holds it, in which case part 1's bypass is one of the paths. The model runs
    in eval mode; no parameter's ``.grad`` changes. ``images``: (N, C, H, W); ``targets``: (N,)
    class indices.
    """
    stage, dense = _stage_of(model, block)
    check_images_and_targets(images, targets)
    with model_mode(model):
        return _split_by_path(stage, dense, lambda: F.cross_entropy(model(images), targets))


def cosine_matrix(vectors: Tensor) -> Tensor:
    """(P, D) -> (P, P): the cosine similarity of every pair of rows (0 for an all-zero row)."""
    if not isinstance(vectors, Tensor) or vectors.dim() != 2:
        raise ValueError(f"vectors must be a (P, D) tensor, got shape {tuple(getattr(vectors, 'shape', ()))}")
    unit = vectors / vectors.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return unit @ unit.T


def mean_similarity(matrix: Tensor) -> float:
    """The mean of the off-diagonal entries of a (P, P) similarity matrix, P >= 2."""
    if not isinstance(matrix, Tensor) or matrix.dim() != 2 or matrix.shape[0] != matrix.shape[1] \
            or matrix.shape[0] < 2:
        raise ValueError(f"matrix must be square (P, P) with P >= 2, got shape "
                         f"{tuple(getattr(matrix, 'shape', ()))}")
    p = matrix.shape[0]
    off_diagonal = matrix.sum() - matrix.diagonal().sum()
    return float(off_diagonal / (p * (p - 1)))
