"""Real weights: torchvision's DenseNets and timm's CSPNets, converted to and from this library.

The book's networks are torchvision's and timm's networks, weight for weight, so their ImageNet
weights run in the book's own code:

    >>> ours = from_timm(timm.create_model("cspdarknet53", pretrained=True))   # and back:
    >>> theirs = to_timm(ours)                    # same logits, within float rounding

Every mapping is written down as data, one ``Rule`` per module, built from the network's
``NetSpec``; nothing is matched by comparing shapes:

- ``Rename``: the same conv + batch norm (or any tensors) under another name
  (timm's ``stages.1.blocks.0.conv1`` is our ``stages.1.1.block.0.reduce``);
- ``Split``: timm's ``conv_exp``, one 1x1 conv to cross + main channels that timm slices in
  half, is our ``CrossSplit``'s two 1x1 convs stacked: its first rows are ``cross`` (part 1,
  which bypasses the blocks), the rest ``main`` (part 2). timm concatenates [part 1, part 2]
  as we do, so no channel is permuted;
- ``LinearToConv``: timm's classifier is a ``Linear`` (out, in); ours a 1x1 conv (out, in, 1, 1).

The rules and their application live in ``state_rules.py``; this module imports torchvision
and timm, converts whole networks both ways, and downloads published weights.
torchvision's DenseNet needs no rule at all: ``densenet.py`` uses torchvision's module names.
A state_dict with a missing, extra or differently shaped tensor raises ``ValueError`` naming the
key, before any weight is copied.

``pretrained_model`` is what ``densenet121(weights="DEFAULT")`` and
``cspdarknet53(weights="timm")`` call: download through torchvision or timm, then convert.
"""

from __future__ import annotations

import importlib
import importlib.util
import socket
import sys
import urllib.parse
from contextlib import contextmanager
from types import ModuleType
from typing import Any, Iterator, Mapping

import torch
from torch import Tensor, nn

from .residual_nets import TIMM_SPECS, NetSpec, ResidualNet, build
from .csp_stage import CSPStage
from .densenet import DenseNet
from ..plan import check_config

from .state_rules import (CONV_BN, TIMM_BLOCK, TIMM_STAGE, LinearToConv, Rename, Rule,  # noqa: F401
                          Split, convert, empty, identity_rules, load_exactly, timm_rules)


# --- importing torchvision and timm ------------------------------------------------------------

INSTALL = {"torchvision": "pip install torchvision (Colab has it)",
           "timm": "pip install timm (Colab has it)"}


def import_torchvision() -> ModuleType:
    """``import torchvision``, or ImportError saying how to install it.

    A CUDA build of torchvision beside a CPU-only torch (PyPI's only Linux wheel of torchvision
    0.28 next to ``torch==2.13.0+cpu``) fails to load its compiled detection operators, and
    its import then stops at ``register_fake("torchvision::nms")`` (pytorch/vision#9085). The
    models and their weights' metadata are pure Python; in that case we declare the two operator
    schemas it registers fakes for (nothing in this book runs them) and import it again.
    """
    _require("torchvision")
    try:
        return importlib.import_module("torchvision")
    except RuntimeError as err:
        if "torchvision::nms" not in str(err):
            raise
    for name in [m for m in sys.modules if m == "torchvision" or m.startswith("torchvision.")]:
        del sys.modules[name]
    library = torch.library.Library("torchvision", "FRAGMENT")  # kept alive by torch
    for op in ("nms", "qnms"):
        library.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _LIBRARIES.append(library)
    return importlib.import_module("torchvision")


_LIBRARIES: list[Any] = []


def import_timm() -> ModuleType:
    """``import timm`` (after torchvision, which it imports if installed), or ImportError."""
    _require("timm")
    if importlib.util.find_spec("torchvision") is not None:
        import_torchvision()
    return importlib.import_module("timm")


def _require(package: str) -> None:
    if importlib.util.find_spec(package) is None:
        raise ImportError(f"{package} is not installed: {INSTALL[package]}, or install this "
                          f"library with its extra, pip install 'cspnet_lib[weights]'")


# --- torchvision <-> ours ----------------------------------------------------------------------

def from_torchvision(model: nn.Module) -> DenseNet:
    """torchvision's DenseNet (densenet121/169/201, any weights) -> ours, weights loaded."""
    tv = import_torchvision()
    if not isinstance(model, tv.models.DenseNet):
        raise ValueError(f"model must be torchvision's DenseNet (torchvision.models.densenet121, "
                         f"169 or 201), got {type(model).__module__}.{type(model).__name__}")
    f = model.features
    repeats = tuple(len(m) for name, m in f.named_children() if name.startswith("denseblock"))
    growth = f.denseblock1.denselayer1.conv2.out_channels
    ours = empty(lambda: DenseNet(
        growth_rate=growth, repeats=repeats, stem_channels=f.conv0.out_channels,
        bottleneck_width=f.denseblock1.denselayer1.conv1.out_channels // growth,
        num_classes=model.classifier.out_features, in_channels=f.conv0.in_channels), model)
    whose = f"torchvision's DenseNet with blocks {repeats}"
    state = convert(model.state_dict(), identity_rules(list(ours.state_dict())), to="ours",
                    whose=whose)
    return load_exactly(ours, state, whose).train(model.training)


def to_torchvision(model: DenseNet) -> nn.Module:
    """Ours -> torchvision's DenseNet, weights loaded. torchvision's has 3 input channels, the
    ImageNet stem and compression 0.5; other settings raise ValueError."""
    tv = import_torchvision()
    if not isinstance(model, DenseNet):
        raise ValueError(f"model must be cspnet_lib's DenseNet (densenet121/169/201), got "
                         f"{type(model).__name__}")
    c = model.config
    for name, allowed in (("compression", 0.5), ("stem", "imagenet"), ("in_channels", 3)):
        if c[name] != allowed:
            raise ValueError(f"torchvision's DenseNet has {name}={allowed!r}; this model has "
                             f"{name}={c[name]!r}")
    theirs = empty(lambda: tv.models.DenseNet(
        growth_rate=c["growth_rate"], block_config=c["repeats"],
        num_init_features=c["stem_channels"], bn_size=c["bottleneck_width"],
        num_classes=c["num_classes"]), model)
    whose = f"torchvision's DenseNet with blocks {c['repeats']}"
    state = convert(model.state_dict(), identity_rules(list(theirs.state_dict())), to="theirs",
                    whose=whose)
    return load_exactly(theirs, state, whose).train(model.training)


# --- timm <-> ours -----------------------------------------------------------------------------

def from_timm(model: nn.Module) -> ResidualNet:
    """timm's darknet53, cspdarknet53, cspresnet50 or cspresnext50 -> ours (``variant="timm"``),
    weights loaded."""
    timm = import_timm()
    if not isinstance(model, timm.models.cspnet.CspNet):
        raise ValueError(f"model must be timm's CspNet ({', '.join(TIMM_SPECS)}), got "
                         f"{type(model).__module__}.{type(model).__name__}")
    name = getattr(model, "pretrained_cfg", {}).get("architecture")
    if name not in TIMM_SPECS:
        raise ValueError(f"timm's {name!r} has no counterpart here; from_timm takes "
                         f"{', '.join(TIMM_SPECS)}")
    spec = TIMM_SPECS[name]
    acts = {(type(m).__name__, getattr(m, "negative_slope", None)) for m in model.modules()
            if type(m).__module__ == "torch.nn.modules.activation"}
    if acts != {("LeakyReLU", spec.leaky_slope)}:
        raise ValueError(f"timm's {name} was built with activations {sorted(acts)}; its "
                         f"weights here need LeakyReLU({spec.leaky_slope}) throughout")
    if model.num_classes < 1:
        raise ValueError(f"timm's {name} has no classifier (num_classes=0); build it with one")
    ours = empty(lambda: build(name, variant="timm", num_classes=model.num_classes,
                               in_channels=model.in_chans), model)
    whose = f"timm's {name}"
    state = convert(model.state_dict(), timm_rules(spec), to="ours", whose=whose)
    return load_exactly(ours, state, f"cspnet_lib's {name} (variant='timm')").train(model.training)


def to_timm(model: ResidualNet) -> nn.Module:
    """Ours (built with ``variant="timm"`` and its default repeats and fusion) -> timm's."""
    timm = import_timm()
    if not isinstance(model, ResidualNet):
        raise ValueError(f"model must be one of cspnet_lib's {', '.join(TIMM_SPECS)}, got "
                         f"{type(model).__name__}")
    spec = model.spec
    if spec.variant != "timm":
        raise ValueError(f"model is {spec.name} with variant={spec.variant!r}; timm's network "
                         f"differs (see cspnet_lib.models.residual_nets.TIMM_SPECS): build it with variant='timm'")
    stages = [stage[-1] if isinstance(stage[-1], CSPStage) else stage for stage in model.stages]
    fusions = {s.fusion for s in stages if isinstance(s, CSPStage)}
    if fusions - {"csp"}:
        raise ValueError(f"timm's {spec.name} has fusion='csp'; this model has {fusions}")
    repeats = tuple(len(s.block) if isinstance(s, CSPStage) else len(s) - 1 for s in stages)
    if repeats != spec.repeats:
        raise ValueError(f"timm's {spec.name} has repeats={spec.repeats}; this model has "
                         f"repeats={repeats}")
    theirs = empty(lambda: timm.create_model(spec.name, pretrained=False,
                                             num_classes=model.classifier.out_channels,
                                             in_chans=model.in_channels), model)
    whose = f"cspnet_lib's {spec.name} (variant='timm')"
    state = convert(model.state_dict(), timm_rules(spec), to="theirs", whose=whose)
    return load_exactly(theirs, state, f"timm's {spec.name}").train(model.training)


# --- weights= ----------------------------------------------------------------------------------

PUBLISHED = {
    "densenet121": ("torchvision", "DenseNet121_Weights", "IMAGENET1K_V1"),
    "densenet169": ("torchvision", "DenseNet169_Weights", "IMAGENET1K_V1"),
    "densenet201": ("torchvision", "DenseNet201_Weights", "IMAGENET1K_V1"),
    "darknet53": ("timm", "darknet53", "c2ns_in1k"),
    "cspdarknet53": ("timm", "cspdarknet53", "ra_in1k"),
    "cspresnet50": ("timm", "cspresnet50", "ra_in1k"),
    "cspresnext50": ("timm", "cspresnext50", "ra_in1k"),
}
"""Where each network's ImageNet weights are published: package, model or enum, tag."""

DOWNLOAD_TIMEOUT = 20.0
"""Seconds a stalled connection may stay silent before the download gives up."""

PROBE_TIMEOUT = 5.0
"""Seconds to wait for the weights' server to answer before calling this machine offline."""


class WeightsUnavailable(RuntimeError):
    """The published weights could not be downloaded (offline, or the server refused)."""


def weight_names(name: str) -> tuple[str, ...]:
    """What ``weights=`` accepts for ``name``: "DEFAULT", the tag, and "timm" for timm's."""
    package, _, tag = PUBLISHED[name]
    return ("DEFAULT", tag) + (("timm",) if package == "timm" else ())


def weights_host(name: str) -> str:
    """The server ``name``'s published weights come from: torchvision's download site, or the
    Hugging Face Hub that timm 1.0 downloads from (read from the packages, not written here)."""
    package, model_name, tag = PUBLISHED[name]
    if package == "torchvision":
        url = getattr(import_torchvision().models, model_name)[tag].url
    else:
        cfg = import_timm().models.get_pretrained_cfg(f"{model_name}.{tag}")
        if cfg.hf_hub_id:
            from huggingface_hub import constants  # timm's own dependency

            url = constants.ENDPOINT
        else:
            url = cfg.url
    return urllib.parse.urlparse(url).hostname or url


def check_reachable(host: str, timeout: float = PROBE_TIMEOUT) -> None:
    """Raise ``WeightsUnavailable`` unless ``host`` accepts a connection within ``timeout`` s.

    A quick check before the download: offline, timm's hub client would otherwise retry for
    most of a minute. (So weights already in a local cache also need the network here.)"""
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
    except OSError as err:
        raise WeightsUnavailable(
            f"cannot reach {host} ({err}): this machine seems offline. Run where the internet "
            f"is reachable, e.g. the chapter's Colab edition") from err


@contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def pretrained_model(name: str, weights: Any, settings: Mapping[str, Any],
                     defaults: Mapping[str, Any], pretrained: Any = False) -> nn.Module:
    """Build ``name`` with its published ImageNet weights (``weights="DEFAULT"``, ...).

    ``settings``: what the caller asked for besides the weights; they must equal ``defaults``
    (the published network's), since the weights fit nothing else. Downloads through torchvision
    or timm (a stalled connection gives up after ``DOWNLOAD_TIMEOUT`` seconds), then converts;
    either the whole network loads or an error is raised.
    """
    if pretrained:
        raise ValueError(f"pretrained={pretrained!r} is not supported; ask for the weights "
                         f"by name, as torchvision does: {name}(weights='DEFAULT')")
    if name not in PUBLISHED:
        raise ValueError(f"no published weights for {name}; weights= works for "
                         f"{', '.join(PUBLISHED)}")
    package, model_name, tag = PUBLISHED[name]
    if weights not in weight_names(name):
        raise ValueError(f"weights must be one of {', '.join(map(repr, weight_names(name)))} "
                         f"for {name}; got {weights!r}")
    for key, value in settings.items():
        if key not in defaults:
            raise ValueError(f"{name} takes no setting {key!r}; it has {', '.join(defaults)}")
        if value != defaults[key]:
            raise ValueError(f"weights={weights!r} loads the published {name}, which has "
                             f"{key}={defaults[key]!r}; got {key}={value!r}. Load it, then "
                             f"change the model")
    module = import_torchvision() if package == "torchvision" else import_timm()
    check_reachable(weights_host(name))
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT):
            if package == "torchvision":
                enum = getattr(module.models, model_name)[tag]
                theirs = getattr(module.models, name)(weights=enum)
            else:
                theirs = module.create_model(f"{model_name}.{tag}", pretrained=True)
    except Exception as err:  # network errors differ by package: urllib, httpx, hub's own
        raise WeightsUnavailable(
            f"could not download {package}'s {model_name} {tag} weights ({type(err).__name__}: "
            f"{err}). This machine seems offline; run where the internet is reachable, e.g. "
            f"the chapter's Colab edition") from err
    return (from_torchvision(theirs) if package == "torchvision" else from_timm(theirs)).eval()


def densenet_defaults(repeats: tuple[int, ...]) -> dict[str, Any]:
    """The published DenseNet's settings: growth 32, ``repeats``, the rest DenseNet's defaults."""
    return check_config("densenet", {"growth_rate": 32, "repeats": repeats})


def timm_defaults(name: str) -> dict[str, Any]:
    """The published timm network's settings, as the builders of ``residual_nets`` take them."""
    spec = TIMM_SPECS[name]
    return {"num_classes": 1000, "in_channels": 3, "repeats": spec.repeats, "fusion": "csp",
            "cardinality": spec.groups if spec.groups > 1 else None}
