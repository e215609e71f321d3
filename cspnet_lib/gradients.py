"""How much of the gradient a dense block sends back is the same information, many times over?

Inside a dense block the input x0 reaches the output by many paths: directly (x0 is part of the
block's output concatenation) and through every bottleneck, each of which reads x0 again. By the
chain rule the gradient at x0 is the *sum* of one contribution per path. ``path_gradients``
separates those contributions exactly: each bottleneck is fed its own copy of x0 (same values, a
separate leaf of the autograd graph), so the gradient that arrives at a copy is the contribution
of that path alone, and all contributions add up to the ordinary gradient.

``cosine_matrix`` compares the contributions pairwise; ``mean_similarity`` summarises it as the
mean off-diagonal cosine. Alike contributions (a high mean) is the redundancy CSPNet's paper
describes; a CSP stage sends part 1's gradient back on channels no bottleneck touches.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from .blocks import DenseBlock
from .csp_stage import CSPStage
from .plan import split_sizes
from .settings import check_int


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


def _forward_with_copies(module: nn.Module, block: DenseBlock, x0: Tensor) -> tuple[Tensor, list[Tensor]]:
    """Run ``module`` on ``x0``, feeding each bottleneck a private copy of the block's input."""
    block_in = next(iter(block.values())).norm1.num_features
    copies: list[Tensor] = []

    def swap_in_copy(layer: nn.Module, inputs: tuple[Tensor]) -> tuple[Tensor]:
        (features,) = inputs
        copy = features[:, :block_in].detach().clone().requires_grad_(True)
        copies.append(copy)
        return (torch.cat([copy, features[:, block_in:]], dim=1),)

    handles = [layer.register_forward_pre_hook(swap_in_copy) for layer in block.values()]
    try:
        out = module(x0)
    finally:
        for handle in handles:
            handle.remove()
    return out, copies


def path_gradients(module: nn.Module, x0: Tensor, seed: int = 0, probe: str = "pixel") -> PathGradients:
    """Split the gradient at ``x0`` into one contribution per path through ``module``.

    ``module`` is a ``DenseBlock``, a plain dense stage that starts with one (e.g.
    ``nn.Sequential(DenseBlock, Transition)``), or a ``CSPStage`` whose block is a ``DenseBlock``.
    The loss is a fixed random projection of the output, ``(module(x0) * probe).sum()`` with
    ``probe`` drawn from ``seed``. The module runs in eval mode (batch norm uses its running
    statistics and is not updated). ``x0``: (N, C, H, W).
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if not isinstance(x0, Tensor) or x0.dim() != 4:
        raise ValueError(f"x0 must be a tensor shaped (N, C, H, W), got shape "
                         f"{tuple(getattr(x0, 'shape', ()))}")
    check_int("seed", seed, minimum=0)
    block = _the_dense_block(module)
    offset = split_sizes(x0.shape[1], module.split.split_ratio)[0] if isinstance(module, CSPStage) else 0

    was_training = module.training
    module.eval()
    try:
        x_leaf = x0.detach().clone().requires_grad_(True)
        out, copies = _forward_with_copies(module, block, x_leaf)
        g = torch.Generator().manual_seed(seed)
        weights = torch.randn(out.shape if probe == "pixel" else out.shape[:2] + (1, 1), generator=g)
        (out * weights).sum().backward()
        plain = x0.detach().clone().requires_grad_(True)
        (module(plain) * weights).sum().backward()
    finally:
        module.train(was_training)

    names, vectors = [], []
    if offset:  # a CSP stage: part 1's channels are reached by the bypass alone
        bypass = torch.zeros_like(x_leaf.grad)
        bypass[:, :offset] = x_leaf.grad[:, :offset]
        names.append("bypass (part 1)")
        vectors.append(bypass)
    direct = torch.zeros_like(x_leaf.grad)
    direct[:, offset:] = x_leaf.grad[:, offset:]
    names.append("direct")
    vectors.append(direct)
    for i, copy in enumerate(copies):
        contribution = torch.zeros_like(x_leaf.grad)
        contribution[:, offset:offset + copy.shape[1]] = copy.grad
        names.append(f"bottleneck {i + 1}")
        vectors.append(contribution)
    return PathGradients(names, torch.stack([v.flatten() for v in vectors]), plain.grad.flatten())


def cosine_matrix(vectors: Tensor) -> Tensor:
    """(P, D) -> (P, P): the cosine similarity of every pair of rows."""
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
