"""State-dict rules: how a timm or torchvision tensor name becomes ours, written down as data.

One ``Rule`` per module, built from the network's ``NetSpec`` (nothing is matched by comparing
shapes): ``Rename`` (the same tensors under another name), ``Split`` (timm's ``conv_exp``, our
``CrossSplit``'s two 1x1 convs stacked), ``LinearToConv`` (timm's ``Linear`` classifier, our
1x1 conv). ``convert`` applies them to a whole state_dict; ``load_exactly`` loads one after
checking every key and shape. ``weights.py`` uses them to load published weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Union

import torch
from torch import Tensor, nn

from .residual_nets import NetSpec

CONV_BN = ("conv.weight", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
           "bn.num_batches_tracked")
"""The tensors of one conv -> batch norm unit, in timm (``ConvNormAct``) and here (``ConvBNAct``)."""

TIMM_BLOCK = {"bottleneck": {"conv1": "reduce", "conv2": "conv3x3", "conv3": "expand"},
              "darknet": {"conv1": "reduce", "conv2": "conv3x3"}}
"""timm's names for the convs of one residual block -> ours (``residual.py``)."""

TIMM_STAGE = {"conv_transition_b": "part2_transition", "conv_transition": "fusion_transition"}
"""timm's names for a CSP stage's two transitions -> ours (``CSPStage``)."""


# --- the rules ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rename:
    """The tensors ``theirs.<suffix>`` are ours ``ours.<suffix>``, unchanged (no suffixes:
    the one tensor ``theirs`` is ours ``ours``)."""

    theirs: str
    ours: str
    suffixes: tuple[str, ...] = CONV_BN

    def keys(self) -> list[tuple[str, tuple[str, ...]]]:
        """(their key, (our keys)) for every tensor the rule covers."""
        if not self.suffixes:
            return [(self.theirs, (self.ours,))]
        return [(f"{self.theirs}.{s}", (f"{self.ours}.{s}",)) for s in self.suffixes]

    def to_ours(self, tensor: Tensor) -> list[Tensor]:
        return [tensor]

    def to_theirs(self, tensors: list[Tensor]) -> Tensor:
        return tensors[0]


@dataclass(frozen=True)
class Split:
    """timm's ``conv_exp`` (C_in -> cross + main, then sliced) is our (cross, main) pair stacked:
    rows [0, cross) are ``cross``, rows [cross, cross + main) are ``main``."""

    theirs: str
    cross: str
    main: str
    sizes: tuple[int, int]

    def keys(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(f"{self.theirs}.{s}", (f"{self.cross}.{s}", f"{self.main}.{s}")) for s in CONV_BN]

    def to_ours(self, tensor: Tensor) -> list[Tensor]:
        if tensor.dim() == 0:                  # num_batches_tracked: both saw every batch
            return [tensor.clone(), tensor.clone()]
        if tensor.shape[0] != sum(self.sizes):
            raise ValueError(f"{self.theirs!r} has {tensor.shape[0]} output channels; this "
                             f"split needs cross + main = {self.sizes[0]} + {self.sizes[1]}")
        return [part.clone() for part in torch.split(tensor, list(self.sizes))]

    def to_theirs(self, tensors: list[Tensor]) -> Tensor:
        return tensors[0].clone() if tensors[0].dim() == 0 else torch.cat(tensors)


@dataclass(frozen=True)
class LinearToConv:
    """timm's classifier ``Linear`` (out, in) is our 1x1 conv (out, in, 1, 1), bias unchanged."""

    theirs: str
    ours: str

    def keys(self) -> list[tuple[str, tuple[str, ...]]]:
        return [(f"{self.theirs}.{s}", (f"{self.ours}.{s}",)) for s in ("weight", "bias")]

    def to_ours(self, tensor: Tensor) -> list[Tensor]:
        return [tensor[:, :, None, None] if tensor.dim() == 2 else tensor]

    def to_theirs(self, tensors: list[Tensor]) -> Tensor:
        return tensors[0].flatten(1) if tensors[0].dim() == 4 else tensors[0]


Rule = Union[Rename, Split, LinearToConv]


def timm_rules(spec: NetSpec) -> list[Rule]:
    """Every module of timm's ``spec.name``, mapped onto ours, from the spec alone."""
    rules: list[Rule] = [Rename("stem.conv1", "stem.0")]
    for s, (st, n) in enumerate(zip(spec.stages, spec.repeats)):
        theirs, ours = f"stages.{s}", f"stages.{s}"
        first = 0                              # index of the first layer after the down conv
        if st.down:
            rules.append(Rename(f"{theirs}.conv_down", f"{ours}.0"))
            first = 1
        if spec.csp:
            stage = f"{ours}.{first}"          # our CSPStage
            rules.append(Split(f"{theirs}.conv_exp", f"{stage}.split.cross",
                               f"{stage}.split.main", (st.cross, st.main)))
            rules += [Rename(f"{theirs}.{a}", f"{stage}.{b}") for a, b in TIMM_STAGE.items()]
            blocks = [f"{stage}.block.{i}" for i in range(n)]
        else:
            blocks = [f"{ours}.{first + i}" for i in range(n)]
        for i, block in enumerate(blocks):
            rules += [Rename(f"{theirs}.blocks.{i}.{a}", f"{block}.{b}")
                      for a, b in TIMM_BLOCK[spec.block].items()]
    rules.append(LinearToConv("head.fc", "classifier"))
    return rules


def identity_rules(keys: list[str]) -> list[Rule]:
    """torchvision's DenseNet: every key is the same in both (``densenet.py`` uses its names)."""
    return [Rename(key, key, ()) for key in keys]


# --- applying them -----------------------------------------------------------------------------

def _check_keys(state: Mapping[str, Tensor], expected: list[str], whose: str) -> None:
    """Raise ValueError naming the first missing and the first unknown key of ``state``."""
    missing = [k for k in expected if k not in state]
    if missing:
        raise ValueError(f"the state_dict lacks {missing[0]!r}" +
                         (f" and {len(missing) - 1} more key(s)" if len(missing) > 1 else "") +
                         f": truncated, or not {whose}")
    known = set(expected)
    unknown = [k for k in state if k not in known]
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} in the state_dict" +
                         (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "") +
                         f": not {whose}")


def convert(state: Mapping[str, Tensor], rules: list[Rule], *, to: str, whose: str
            ) -> dict[str, Tensor]:
    """Apply ``rules`` to a whole state_dict; ``to`` is "ours" or "theirs". ``whose`` names the
    network the keys must belong to, for the error message."""
    pairs = [(rule, theirs, ours) for rule in rules for theirs, ours in rule.keys()]
    out: dict[str, Tensor] = {}
    if to == "ours":
        _check_keys(state, [t for _, t, _ in pairs], whose)
        for rule, t, ours in pairs:
            out.update(zip(ours, rule.to_ours(state[t])))
    elif to == "theirs":
        _check_keys(state, [k for _, _, ours in pairs for k in ours], whose)
        for rule, t, ours in pairs:
            out[t] = rule.to_theirs([state[k] for k in ours])
    else:
        raise ValueError(f"to must be 'ours' or 'theirs', got {to!r}")
    return out


def empty(make: Callable[[], nn.Module], like: nn.Module) -> nn.Module:
    """``make()`` without its random initialisation, on the device of ``like``'s weights: built
    on the meta device (shapes only), then given uninitialised memory, every tensor of which
    ``load_exactly`` overwrites. Skips seconds of random numbers for a network of 40M weights."""
    with torch.device("meta"):
        model = make()
    return model.to_empty(device=next(like.parameters()).device)


def load_exactly(model: nn.Module, state: Mapping[str, Tensor], whose: str) -> nn.Module:
    """Check every key and shape of ``state`` against ``model``, then load it (strict)."""
    target = model.state_dict()
    _check_keys(state, list(target), whose)
    for key, tensor in target.items():
        if tuple(state[key].shape) != tuple(tensor.shape):
            raise ValueError(f"{key!r} has shape {tuple(state[key].shape)} but {whose} needs "
                             f"{tuple(tensor.shape)}")
    model.load_state_dict(state, strict=True)
    return model
