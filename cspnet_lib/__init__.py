"""cspnet_lib: CSPNet built on DenseNet, step by step, with the arithmetic to check it.

>>> from cspnet_lib import seed_cspdensenet, channel_plan, count_params
"""

from .beyond import (
    count_conv_weights,
    cspdarknet53,
    cspresnet50,
    cspresnext50,
    darknet53,
    resnet50,
    resnext50,
)
from .blocks import Bottleneck, DenseBlock, Transition, split_channels
from .csp_stage import CSPStage
from .cspdensenet import CSPDenseNet, seed_cspdensenet
from .densenet import DenseNet, densenet121, densenet169, densenet201
from .measure import TraceRow, count_model_params, measure_flops, shape_trace
from .plan import (
    CSPDENSENET_DEFAULTS,
    DENSENET_DEFAULTS,
    PlanRow,
    channel_plan,
    count_cio,
    count_flops,
    count_params,
    min_image_size,
)

__all__ = [
    "Bottleneck", "DenseBlock", "Transition", "split_channels", "CSPStage", "CSPDenseNet",
    "seed_cspdensenet", "DenseNet", "densenet121", "densenet169", "densenet201", "TraceRow",
    "count_model_params", "measure_flops", "shape_trace", "CSPDENSENET_DEFAULTS",
    "DENSENET_DEFAULTS", "PlanRow", "channel_plan", "count_cio", "count_flops", "count_params",
    "min_image_size",
    "resnet50", "cspresnet50", "resnext50", "cspresnext50", "darknet53", "cspdarknet53",
    "count_conv_weights",
]
