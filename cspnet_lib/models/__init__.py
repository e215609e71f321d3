"""The networks, built from ``torch.nn`` and the torch-free core (``plan``, ``config``, ``settings``).

- ``blocks``: ``Bottleneck``, ``DenseBlock``, ``Transition``, ``split_channels``, the stem;
- ``csp_stage``: ``CSPStage``, the cross-stage-partial stage around any block;
- ``densenet``, ``cspdensenet``: the two networks the book builds, read from the channel plan;
- ``residual``: ResNet's, ResNeXt's and Darknet's residual blocks as the darknet cfgs build them;
- ``residual_nets``: ResNet-50, ResNeXt-50, Darknet-53 and their CSP versions (chapter 7);
- ``residual_control``: a small residual network for the digits, chapter 1's control;
- ``weights``, ``state_rules``: torchvision's and timm's weights converted both ways (``weights=``);
- ``inputs``: the checks of what a model is given, before it runs.

May import: ``torch``, ``cspnet_lib.settings``, ``cspnet_lib.config``, ``cspnet_lib.plan``.
"""

from .blocks import Bottleneck, DenseBlock, Transition, split_channels
from .csp_stage import CSPStage
from .cspdensenet import CSPDenseNet, seed_cspdensenet
from .densenet import DenseNet, densenet121, densenet169, densenet201
from .residual import ConvBNAct, DarknetResidual, ResidualBottleneck, darknet_shortcut
from .residual_control import ResidualStack, residual_control
from .residual_nets import (SPECS, CrossSplit, NetSpec, ResidualNet, StageSpec, build,
                            cspdarknet53, cspresnet50, cspresnext50, darknet53, resnet50,
                            resnext50)

__all__ = [
    "Bottleneck", "CSPDenseNet", "CSPStage", "ConvBNAct", "CrossSplit", "DarknetResidual",
    "DenseBlock", "DenseNet", "NetSpec", "ResidualBottleneck", "ResidualNet", "SPECS",
    "StageSpec", "Transition", "build", "cspdarknet53", "cspresnet50", "cspresnext50",
    "darknet53", "darknet_shortcut", "densenet121", "densenet169", "densenet201", "resnet50",
    "resnext50", "seed_cspdensenet", "split_channels", "ResidualStack", "residual_control",
]
