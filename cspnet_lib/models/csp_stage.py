"""The cross-stage-partial stage, independent of the block inside it.

CSPNet (Wang et al. 2019, Figure 3) splits a stage's input x0 = [x0', x0''] along channels. Part 2
(x0'') runs through the stage's blocks; part 1 (x0') bypasses them; the two are concatenated again
at the end of the stage. Where the transitions sit gives the variants:

- ``"csp"`` (b):   x_T = T1(block(x0''));  x_U = T2([x0', x_T])
- ``"first"`` (c): x_U = T([x0', block(x0'')])        (fusion first: concatenate, then transition)
- ``"last"`` (d):  x_U = [P(x0'), T(block(x0''))]      (fusion last: transition, then concatenate)

In (d) the transition downsamples part 2 only, so part 1 must be downsampled too (``P``, a 2x2
average pool) before the concatenation; the other way out, a transition that does not downsample
followed by pooling the concatenation, computes the very same tensor, because average pooling
commutes with concatenation.
"""

from __future__ import annotations

from torch import Tensor, nn

from .blocks import ChannelSplit, Concat
from ..settings import FUSIONS, check_choice


class CSPStage(nn.Module):
    """One cross-stage-partial stage: split, run ``block`` on part 2, fuse by ``fusion``.

    Args:
        block: any module on part 2, (N, C2, H, W) -> (N, C_k, H, W): a ``DenseBlock``, a stack
            of residual blocks, ...
        fusion: ``"csp"``, ``"first"`` or ``"last"`` (see the module docstring).
        split: the module that makes (part1, part2); default ``ChannelSplit(split_ratio)``.
        split_ratio: share of channels in part 2 when ``split`` is not given.
        part2_transition: T1 of "csp" or T of "last"; must be ``None`` for "first".
        fusion_transition: T2 of "csp" or T of "first"; must be ``None`` for "last"; also
            ``None`` in a network's last stage, which has no transition after the concatenation.
        part1_path: what part 1 goes through before the concatenation (``P`` of "last");
            default identity.
    """

    def __init__(self, block: nn.Module, fusion: str = "csp", *, split: nn.Module | None = None,
                 split_ratio: float = 0.5, part2_transition: nn.Module | None = None,
                 fusion_transition: nn.Module | None = None,
                 part1_path: nn.Module | None = None) -> None:
        super().__init__()
        self.fusion = check_choice("fusion", fusion, FUSIONS)
        if fusion == "first" and part2_transition is not None:
            raise ValueError('fusion="first" has no transition on part 2; pass part2_transition=None')
        if fusion == "last" and fusion_transition is not None:
            raise ValueError('fusion="last" has no transition after the concatenation; '
                             "pass fusion_transition=None")
        self.split = ChannelSplit(split_ratio) if split is None else split
        self.block = block
        self.part2_transition = _or_identity(part2_transition)
        self.part1_path = _or_identity(part1_path)
        self.concat = Concat()
        self.fusion_transition = _or_identity(fusion_transition)

    def forward(self, x0: Tensor) -> Tensor:
        # "first" lacks part2_transition, "last" fusion_transition (identities)
        x0_part1, x0_part2 = self.split(x0)  # x0 = [x0', x0'']
        x_dense = self.block(x0_part2)       # [x0'', x1, ..., xL]
        x_T = self.part2_transition(x_dense)  # x_T = w_T * [x0'', x1, ..., xL]
        x_concat = self.concat(self.part1_path(x0_part1), x_T)  # [x0', x_T]
        return self.fusion_transition(x_concat)  # x_U = w_U * [x0', x_T]

    def extra_repr(self) -> str:
        return f"fusion={self.fusion!r}"


def _or_identity(module: nn.Module | None) -> nn.Module:
    """A stage's missing transition or bypass: the identity."""
    return nn.Identity() if module is None else module
