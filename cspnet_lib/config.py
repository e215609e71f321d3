"""Each network family's settings, written once: a frozen dataclass per family, checked once.

``DenseNetConfig()`` is DenseNet-121 (Huang et al. 2017) as torchvision builds it;
``CSPDenseNetConfig()`` is the reference CSPDenseNet whose shape trace the book reproduces.
The models take one (``CSPDenseNet(config)``) or keywords that override its defaults
(``CSPDenseNet(growth_rate=32)``); ``channel_plan`` and the sliders fill in the same defaults, and
a test holds ``book/explorer/plan.js``'s copy to them. Torch-free, like the plan.

A config checks itself when it is made: a wrong type raises ``TypeError``, a value out of range
``ValueError`` naming the setting, its value and what is allowed; ``from_settings`` also rejects
a misspelt keyword, naming the setting it most likely meant.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Mapping, TypeVar

from .settings import (FUSIONS, STEMS, check_choice, check_fraction, check_int, check_repeats,
                       check_unknown)

C = TypeVar("C", bound="_Config")


class _Config:
    """What every family's config shares: the conversions to and from keywords."""

    kind: ClassVar[str]

    def _set(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)  # frozen: normalise once, in __post_init__

    def as_dict(self) -> dict[str, Any]:
        """The settings as keywords, in the order the class lists them."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    # Read like the settings dict the models kept before: config["repeats"], Model(**config).
    def keys(self) -> list[str]:
        return [f.name for f in fields(self)]

    def __getitem__(self, name: str) -> Any:
        if name not in self.keys():
            raise KeyError(name)
        return getattr(self, name)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """The default settings as keywords (``DENSENET_DEFAULTS``, ``CSPDENSENET_DEFAULTS``)."""
        return {f.name: f.default for f in fields(cls)}

    @classmethod
    def with_overrides(cls: type[C], config: C | None, overrides: Mapping[str, Any]) -> C:
        """``config`` (default: the defaults) with some settings replaced, checked again.

        What a model's ``__init__(config=None, **overrides)`` does with its arguments."""
        if config is not None and not isinstance(config, cls):
            raise TypeError(f"config must be a {cls.__name__} or None, got {type(config).__name__}")
        base = {} if config is None else config.as_dict()
        return cls.from_settings({**base, **overrides})

    @classmethod
    def from_settings(cls: type[C], settings: Mapping[str, Any]) -> C:
        """A config from keywords, the defaults filling the rest; rejects unknown keywords."""
        check_unknown(cls.kind, settings, [f.name for f in fields(cls)])
        return cls(**settings)


@dataclass(frozen=True)
class _DenseSettings(_Config):
    """The settings DenseNet and CSPDenseNet share, and their checks (see ``DenseNetConfig``)."""

    growth_rate: int = 32
    repeats: tuple[int, ...] = (6, 12, 24, 16)
    compression: float = 0.5
    stem_channels: int = 64
    bottleneck_width: int = 4
    num_classes: int = 1000
    in_channels: int = 3
    stem: str = "imagenet"

    def __post_init__(self) -> None:
        # The order of the checks is the order of the first error a reader sees (and plan.js's).
        self._set("growth_rate", check_int("growth_rate", self.growth_rate, 1, 1024))
        self._set("repeats", check_repeats(self.repeats))
        self._set("compression", check_fraction("compression", self.compression))
        self._set("stem_channels", check_int("stem_channels", self.stem_channels, 1, 4096))
        self._set("bottleneck_width", check_int("bottleneck_width", self.bottleneck_width, 1, 64))
        self._set("num_classes", check_int("num_classes", self.num_classes, 1, 100_000))
        self._set("in_channels", check_int("in_channels", self.in_channels, 1, 64))
        self._set("stem", check_choice("stem", self.stem, STEMS))


@dataclass(frozen=True)
class DenseNetConfig(_DenseSettings):
    """DenseNet-BC: growth rate ``k``, bottlenecks per dense block, the transitions'
    compression, the stem's width, the bottleneck's width (``width * k`` channels inside), the
    classes, the input channels and the stem's kind. Defaults: DenseNet-121."""

    kind: ClassVar[str] = "densenet"


@dataclass(frozen=True)
class CSPDenseNetConfig(_DenseSettings):
    """DenseNet's settings (with growth rate 12) plus CSPNet's: ``channel_pooling`` (the share of
    channels the transition on part 2 keeps), ``split_ratio`` (the share of channels in part 2)
    and ``fusion`` (``"csp"``, ``"first"`` or ``"last"``). Defaults: the book's reference model."""

    kind: ClassVar[str] = "cspdensenet"
    growth_rate: int = 12
    channel_pooling: float = 0.8
    split_ratio: float = 0.5
    fusion: str = "csp"

    def __post_init__(self) -> None:
        super().__post_init__()
        self._set("channel_pooling", check_fraction("channel_pooling", self.channel_pooling))
        self._set("split_ratio", check_fraction("split_ratio", self.split_ratio, include_one=False))
        self._set("fusion", check_choice("fusion", self.fusion, FUSIONS))


CONFIGS: dict[str, type[DenseNetConfig] | type[CSPDenseNetConfig]] = {
    "densenet": DenseNetConfig, "cspdensenet": CSPDenseNetConfig}
"""The config class of each kind ``channel_plan`` takes."""

KINDS = tuple(CONFIGS)

DENSENET_DEFAULTS: dict[str, Any] = DenseNetConfig.defaults()
"""DenseNet-121 (Huang et al. 2017), as in torchvision."""

CSPDENSENET_DEFAULTS: dict[str, Any] = CSPDenseNetConfig.defaults()
"""The reference CSPDenseNet whose shape trace the book reproduces."""


def make_config(kind: str, settings: Mapping[str, Any]) -> DenseNetConfig | CSPDenseNetConfig:
    """The checked config of ``kind`` (``"densenet"`` or ``"cspdensenet"``) from keywords."""
    return CONFIGS[check_choice("kind", kind, KINDS)].from_settings(settings)


__all__ = ["CONFIGS", "CSPDENSENET_DEFAULTS", "CSPDenseNetConfig", "DENSENET_DEFAULTS",
           "DenseNetConfig", "KINDS", "make_config"]
