"""CSPNet beyond DenseNet: ResNet-50, ResNeXt-50, Darknet-53 and their CSP versions.

Each network is written down as data (``NetSpec``, one ``StageSpec`` per stage, the widths read
from the official darknet cfgs: cfg/resnet50.cfg, resnext50.cfg, darknet53.cfg, csresnet50.cfg,
csresnext50.cfg, csdarknet53.cfg of WongKinYiu/CrossStagePartialNetworks) and built by one
function. Every CSP stage is the library's ``CSPStage`` with a stack of residual blocks inside:

    x   = down(x_in)                          3x3 stride-2 conv (not in the first ResNe(X)t stage)
    x0', x0'' = cross(x), main(x)             the split: two 1x1 convs over the same tensor
    x_T = transition(blocks(x0''))            part 2 through the residual blocks, then a 1x1
    x_U = fusion([x0', x_T])                  concatenate, then a 1x1

As in the cfgs: leaky ReLU 0.1, no projection shortcuts (``residual.darknet_shortcut``), and a
classifier that is a 1x1 conv with bias after global average pooling. Two simplifications that
change no parameter and no FLOP: the cfgs concatenate [x_T, x0'] where we write [x0', x_T] (a
permutation of the fusion conv's input channels), and the CSPResNe(X)t cfgs leave the split's
two 1x1 convs without activation in their second and third stages; we use leaky ReLU throughout.

Four of them come in two variants (``VARIANTS``). ``variant="cfg"``, the default, is the cfgs'
network above, the one the official table measures. ``variant="timm"`` is timm's ``cspnet.py``,
whose ImageNet weights ``cspnet_lib.models.weights`` loads (``TIMM_SPECS``). For Darknet-53 and
CSPDarknet-53 the two differ only in the leaky ReLU's slope (timm's ``leaky_relu`` is torch's
default, 0.01). CSPResNet-50 and CSPResNeXt-50 differ in three more places:

- stage 0: timm widens the stem's 64 channels with one 1x1 conv to 256 and slices that in half,
  so part 2 is 128 channels wide where the cfg's main 1x1 gives 64. That is the whole parameter
  gap: 8,320 (CSPResNet-50) and 12,416 (CSPResNeXt-50), half in the split, half in the first
  block, which reads 128 channels instead of 64;
- the split has no activation in any stage (timm's ``cross_linear=True``);
- the stem's max pool is 3x3 stride 2 with padding 1 (the cfg's is 2x2 stride 2).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from .blocks import init_weights
from .inputs import check_batch, check_images, strided_feature_maps
from .csp_stage import CSPStage
from ..settings import FUSIONS, check_choice, check_int, check_repeats
from .residual import LEAKY_SLOPE, ConvBNAct, DarknetResidual, ResidualBottleneck


@dataclass(frozen=True)
class StageSpec:
    """One stage's widths (channels), as the cfg lists them.

    hidden: width inside each residual block; out: each block's output width (and the width of
    the CSP transition, which keeps it). down: the 3x3 stride-2 conv opening the stage (``None``:
    the stem's max pool downsampled, or the stride sits in the first block's 3x3 as in ResNet).
    cross, main, fusion (CSP only): the split's two 1x1 convs and the 1x1 after the concatenation.
    """

    hidden: int
    out: int
    down: int | None = None
    cross: int = 0
    main: int = 0
    fusion: int = 0


VARIANTS = ("cfg", "timm")
"""Whose network: the official darknet cfgs' (the table's) or timm's (its weights load)."""


@dataclass(frozen=True)
class NetSpec:
    """A whole network: ``stem`` "resnet" (7x7/2 conv to 64, then max pool) or "darknet" (3x3
    conv to 32); ``block`` "bottleneck" (ResNet, ResNeXt) or "darknet"; ``groups`` of the 3x3
    convolutions (ResNeXt's cardinality); ``repeats``: residual blocks per stage.

    What tells the variants apart: ``variant`` ("cfg" or "timm"); ``leaky_slope`` of every leaky
    ReLU; ``stem_pool``, the ResNe(X)t stem's max pool as (kernel, stride, padding);
    ``split_act``: whether the split's two 1x1 convs end with a leaky ReLU.
    """

    name: str
    stem: str
    block: str
    groups: int
    repeats: tuple[int, ...]
    stages: tuple[StageSpec, ...]
    variant: str = "cfg"
    leaky_slope: float = LEAKY_SLOPE
    stem_pool: tuple[int, int, int] = (2, 2, 0)
    split_act: bool = True

    @property
    def csp(self) -> bool:
        return self.stages[0].cross > 0


S = StageSpec
SPECS: dict[str, NetSpec] = {spec.name: spec for spec in (
    NetSpec("resnet50", "resnet", "bottleneck", 1, (3, 4, 6, 3), (
        S(hidden=64, out=256),
        S(hidden=128, out=512),
        S(hidden=256, out=1024),
        S(hidden=512, out=2048))),
    NetSpec("resnext50", "resnet", "bottleneck", 32, (3, 4, 6, 3), (
        S(hidden=128, out=256),
        S(hidden=256, out=512),
        S(hidden=512, out=1024),
        S(hidden=1024, out=2048))),
    NetSpec("darknet53", "darknet", "darknet", 1, (1, 2, 8, 8, 4), (
        S(hidden=32, out=64, down=64),
        S(hidden=64, out=128, down=128),
        S(hidden=128, out=256, down=256),
        S(hidden=256, out=512, down=512),
        S(hidden=512, out=1024, down=1024))),
    # CSP versions. In the CSPResNe(X)t cfgs the first block of stages 2-4 shrinks to the down
    # conv ([1x1, 3x3/2], the 1x1 here being the fusion of the stage before) and the split; so
    # 3, 3, 5, 2 blocks remain on part 2.
    NetSpec("cspresnet50", "resnet", "bottleneck", 1, (3, 3, 5, 2), (
        S(hidden=64, out=128, cross=128, main=64, fusion=128),
        S(hidden=128, out=256, down=128, cross=256, main=256, fusion=256),
        S(hidden=256, out=512, down=256, cross=512, main=512, fusion=512),
        S(hidden=512, out=1024, down=512, cross=1024, main=1024, fusion=1024))),
    NetSpec("cspresnext50", "resnet", "bottleneck", 32, (3, 3, 5, 2), (
        S(hidden=128, out=128, cross=128, main=64, fusion=256),
        S(hidden=256, out=256, down=256, cross=256, main=256, fusion=512),
        S(hidden=512, out=512, down=512, cross=512, main=512, fusion=1024),
        S(hidden=1024, out=1024, down=1024, cross=1024, main=1024, fusion=2048))),
    NetSpec("cspdarknet53", "darknet", "darknet", 1, (1, 2, 8, 8, 4), (
        S(hidden=32, out=64, down=64, cross=64, main=64, fusion=64),
        S(hidden=64, out=64, down=128, cross=64, main=64, fusion=128),
        S(hidden=128, out=128, down=256, cross=128, main=128, fusion=256),
        S(hidden=256, out=256, down=512, cross=256, main=256, fusion=512),
        S(hidden=512, out=512, down=1024, cross=512, main=512, fusion=1024))),
)}
del S


def _timm(name: str, stage0_main: int | None = None) -> NetSpec:
    """timm's version of ``SPECS[name]``; ``stage0_main``: the width of part 2 in stage 0, for
    the ResNe(X)t whose first stage timm splits in half (and the changes that go with it)."""
    spec = replace(SPECS[name], variant="timm", leaky_slope=0.01)  # timm: nn.LeakyReLU()
    if stage0_main is None:
        return spec
    stages = (replace(spec.stages[0], main=stage0_main),) + spec.stages[1:]
    return replace(spec, stages=stages, stem_pool=(3, 2, 1), split_act=False)


TIMM_SPECS: dict[str, NetSpec] = {
    "darknet53": _timm("darknet53"),
    "cspdarknet53": _timm("cspdarknet53"),
    "cspresnet50": _timm("cspresnet50", stage0_main=128),    # conv_exp 64 -> 256, halved
    "cspresnext50": _timm("cspresnext50", stage0_main=128),  # conv_exp 64 -> 256, halved
}
"""timm 1.0's ``cspnet.py`` networks of the same names (see the module docstring)."""

MIN_IMAGE_SIZE = 32
"""All six networks halve the image five times; smaller images are refused."""


class CrossSplit(nn.Module):
    """CSPNet's split as the official cfgs make it: two 1x1 convs over the same tensor.

    (N, C, H, W) -> (part 1 (N, cross, H, W), part 2 (N, main, H, W)). Part 1 bypasses the
    blocks ("cross"), part 2 runs through them ("main"). Stacking the two weights gives one
    1x1 conv to ``cross + main`` channels whose output, sliced, is the same pair: timm's way.
    ``act=False``: no leaky ReLU after the two convs (timm's ``cross_linear``).
    """

    def __init__(self, in_channels: int, cross: int, main: int, act: bool = True) -> None:
        check_int("cross", cross, 1)
        check_int("main", main, 1)
        super().__init__()
        self.cross = ConvBNAct(in_channels, cross, 1, act=act)
        self.main = ConvBNAct(in_channels, main, 1, act=act)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return self.cross(x), self.main(x)


class ResidualNet(nn.Module):
    """stem -> stages -> global average pool -> 1x1 conv classifier with bias -> (N, num_classes).

    Built by ``resnet50()``, ``cspresnet50()``, ... from a ``NetSpec``; ``spec`` keeps the data.
    """

    def __init__(self, spec: NetSpec, stem: nn.Module, stages: list[nn.Module], channels: int,
                 num_classes: int, in_channels: int) -> None:
        super().__init__()
        self.spec, self.in_channels, self.min_image_size = spec, in_channels, MIN_IMAGE_SIZE
        self.stem = stem
        self.stages = nn.Sequential(*stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Conv2d(channels, num_classes, 1)
        init_weights(self)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x: Tensor) -> Tensor:
        check_images(x, self.in_channels, self.min_image_size, self.classifier.weight.dtype)
        check_batch(x, self.training, *strided_feature_maps(self, x))
        return torch.flatten(self.classifier(self.pool(self.stages(self.stem(x)))), 1)


def _stem(spec: NetSpec, in_channels: int) -> tuple[nn.Sequential, int]:
    if spec.stem == "resnet":
        return nn.Sequential(ConvBNAct(in_channels, 64, 7, 2), nn.MaxPool2d(*spec.stem_pool)), 64
    return nn.Sequential(ConvBNAct(in_channels, 32, 3)), 32


def _block(spec: NetSpec, groups: int, c_in: int, st: StageSpec, stride: int = 1) -> nn.Module:
    if spec.block == "bottleneck":
        return ResidualBottleneck(c_in, st.hidden, st.out, stride, groups)
    return DarknetResidual(c_in, st.hidden, st.out)


def _down(groups: int, c_in: int, st: StageSpec) -> tuple[list[nn.Module], int]:
    """The 3x3 stride-2 conv that opens a stage, if ``st.down`` asks for one:
    (N, c_in, H, W) -> (N, st.down, H/2, W/2). Returns ``([conv] or [], channels after)``."""
    if not st.down:
        return [], c_in
    return [ConvBNAct(c_in, st.down, 3, 2, groups)], st.down


def _base_stage(spec: NetSpec, groups: int, c_in: int, st: StageSpec, n: int, s: int) -> nn.Module:
    """Base network: [down conv], then ``n`` residual blocks (ResNet: the first one strides)."""
    layers, c_in = _down(groups, c_in, st)
    stride = 2 if spec.block == "bottleneck" and s > 0 else 1
    for i in range(n):
        layers.append(_block(spec, groups, c_in if i == 0 else st.out, st,
                             stride if i == 0 else 1))
    return nn.Sequential(*layers)


def _csp_stage(spec: NetSpec, groups: int, c_in: int, st: StageSpec, n: int,
               fusion: str) -> tuple[nn.Module, int]:
    """CSP network: [down conv], then a ``CSPStage`` of ``n`` residual blocks on part 2."""
    layers, c_in = _down(groups, c_in, st)
    blocks = nn.Sequential(*(_block(spec, groups, st.main if i == 0 else st.out, st)
                             for i in range(n)))
    part2_transition = None if fusion == "first" else ConvBNAct(st.out, st.out, 1)
    concat = st.cross + st.out  # the transition keeps the blocks' width
    fusion_transition = None if fusion == "last" else ConvBNAct(concat, st.fusion, 1)
    layers.append(CSPStage(blocks, fusion, split=CrossSplit(c_in, st.cross, st.main, spec.split_act),
                           part2_transition=part2_transition,
                           fusion_transition=fusion_transition))
    return nn.Sequential(*layers), concat if fusion == "last" else st.fusion


def build(name: str, *, num_classes: int = 1000, in_channels: int = 3,
          repeats: tuple[int, ...] | None = None, cardinality: int | None = None,
          fusion: str = "csp", variant: str = "cfg") -> ResidualNet:
    """Build one of ``SPECS`` (``"resnet50"``, ..., ``"cspdarknet53"``) after checking every setting.

    repeats: residual blocks per stage (default the spec's); cardinality: groups of the 3x3 convs
    (ResNeXt only, default 32); fusion: "csp" (the cfgs'), "first" (no transition on part 2) or
    "last" (no 1x1 after the concatenation), CSP networks only; variant: "cfg" (the official
    cfgs', default) or "timm" (``TIMM_SPECS``: darknet53 and the three CSP networks).
    """
    spec = SPECS[check_choice("name", name, tuple(SPECS))]
    if check_choice("variant", variant, VARIANTS) == "timm":
        if name not in TIMM_SPECS:
            raise ValueError(f"variant='timm' exists for {', '.join(TIMM_SPECS)}; timm has no "
                             f"darknet-style {name}, use variant='cfg'")
        spec = TIMM_SPECS[name]
    num_classes = check_int("num_classes", num_classes, 1, 100_000)
    in_channels = check_int("in_channels", in_channels, 1, 64)
    repeats = spec.repeats if repeats is None else check_repeats(repeats)
    if len(repeats) != len(spec.stages):
        raise ValueError(f"repeats must list {len(spec.stages)} stages for {name}, got "
                         f"{len(repeats)}: {repeats!r}")
    groups = spec.groups
    if cardinality is not None:
        if spec.groups == 1:
            raise ValueError(f"cardinality applies to ResNeXt only; {name} has no grouped conv")
        narrowest = min(st.hidden for st in spec.stages)
        groups = check_int("cardinality", cardinality, 1, narrowest)
        if narrowest % groups:
            raise ValueError(f"cardinality must divide {narrowest} (the narrowest grouped conv "
                             f"of {name}), got {cardinality}")
    fusion = check_choice("fusion", fusion, FUSIONS)
    if fusion != "csp" and not spec.csp:
        raise ValueError(f"fusion={fusion!r} needs a CSP network; {name} has no CSP stage")

    stem, channels = _stem(spec, in_channels)
    stages = []
    for s, (st, n) in enumerate(zip(spec.stages, repeats)):
        if spec.csp:
            stage, channels = _csp_stage(spec, groups, channels, st, n, fusion)
        else:
            stage, channels = _base_stage(spec, groups, channels, st, n, s), st.out
        stages.append(stage)
    model = ResidualNet(spec, stem, stages, channels, num_classes, in_channels)
    for module in model.modules():  # one slope for the whole network (timm's differs)
        if isinstance(module, nn.LeakyReLU):
            module.negative_slope = spec.leaky_slope
    return model


def resnet50(*, num_classes: int = 1000, in_channels: int = 3,
             repeats: tuple[int, ...] = (3, 4, 6, 3)) -> ResidualNet:
    """ResNet-50 as cfg/resnet50.cfg builds it (no projection shortcuts, leaky ReLU)."""
    return build("resnet50", num_classes=num_classes, in_channels=in_channels, repeats=repeats)


def resnext50(*, num_classes: int = 1000, in_channels: int = 3,
              repeats: tuple[int, ...] = (3, 4, 6, 3), cardinality: int = 32) -> ResidualNet:
    """ResNeXt-50 (32 groups of 4 channels in the first stage's 3x3) as cfg/resnext50.cfg builds it."""
    return build("resnext50", num_classes=num_classes, in_channels=in_channels, repeats=repeats,
                 cardinality=cardinality)


def darknet53(*, num_classes: int = 1000, in_channels: int = 3,
              repeats: tuple[int, ...] = (1, 2, 8, 8, 4), variant: str = "cfg",
              weights: str | None = None, pretrained: bool = False) -> ResidualNet:
    """Darknet-53, YOLOv3's backbone, as cfg/darknet53.cfg builds it (``variant="timm"``: timm's).

    ``weights="timm"`` (or "DEFAULT", or timm's tag) downloads timm's ImageNet weights into
    ``variant="timm"`` (``cspnet_lib.models.weights``); ``pretrained=True`` points there.
    """
    return _build_or_published("darknet53", weights, pretrained, variant,
                               num_classes=num_classes, in_channels=in_channels, repeats=repeats)


def cspresnet50(*, num_classes: int = 1000, in_channels: int = 3,
                repeats: tuple[int, ...] = (3, 3, 5, 2), fusion: str = "csp",
                variant: str = "cfg", weights: str | None = None,
                pretrained: bool = False) -> ResidualNet:
    """CSPResNet-50 as cfg/csresnet50.cfg builds it (``variant="timm"``: timm's); ``repeats``
    counts the blocks on part 2; ``weights`` and ``pretrained`` as for ``darknet53``."""
    return _build_or_published("cspresnet50", weights, pretrained, variant,
                               num_classes=num_classes, in_channels=in_channels, repeats=repeats,
                               fusion=fusion)


def cspresnext50(*, num_classes: int = 1000, in_channels: int = 3,
                 repeats: tuple[int, ...] = (3, 3, 5, 2), cardinality: int = 32,
                 fusion: str = "csp", variant: str = "cfg", weights: str | None = None,
                 pretrained: bool = False) -> ResidualNet:
    """CSPResNeXt-50 as cfg/csresnext50.cfg builds it (``variant="timm"``: timm's); ``repeats``
    counts the blocks on part 2; ``weights`` and ``pretrained`` as for ``darknet53``."""
    return _build_or_published("cspresnext50", weights, pretrained, variant,
                               num_classes=num_classes, in_channels=in_channels, repeats=repeats,
                               cardinality=cardinality, fusion=fusion)


def cspdarknet53(*, num_classes: int = 1000, in_channels: int = 3,
                 repeats: tuple[int, ...] = (1, 2, 8, 8, 4), fusion: str = "csp",
                 variant: str = "cfg", weights: str | None = None,
                 pretrained: bool = False) -> ResidualNet:
    """CSPDarknet-53 (YOLOv4's backbone) as cfg/csdarknet53.cfg builds it (``variant="timm"``:
    timm's); ``weights`` and ``pretrained`` as for ``darknet53``."""
    return _build_or_published("cspdarknet53", weights, pretrained, variant,
                               num_classes=num_classes, in_channels=in_channels, repeats=repeats,
                               fusion=fusion)


def _build_or_published(name: str, weights: object, pretrained: object, variant: str,
                        **settings: object) -> ResidualNet:
    """``build(name, variant=variant, ...)``, or timm's network with its ImageNet weights when
    ``weights`` or ``pretrained`` asks for them (the weights come with timm's variant)."""
    if weights is not None or pretrained:
        return _published(name, weights, pretrained, **settings)
    return build(name, variant=variant, **settings)


def _published(name: str, weights: object, pretrained: object, **settings: object) -> ResidualNet:
    """timm's ``name`` with its ImageNet weights, converted (``weights.pretrained_model``)."""
    from .weights import pretrained_model, timm_defaults  # weights.py imports this module

    return pretrained_model(name, weights, settings, timm_defaults(name), pretrained)
