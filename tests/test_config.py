"""Each family's settings are written once (config.py) and every builder reads them from there."""

from __future__ import annotations

import dataclasses

import pytest

from cspnet_lib import CSPDENSENET_DEFAULTS, DENSENET_DEFAULTS, CSPDenseNet, DenseNet
from cspnet_lib import seed_cspdensenet
from cspnet_lib.config import CSPDenseNetConfig, DenseNetConfig, make_config
from cspnet_lib.plan import build_plan, channel_plan, head_channels, min_image_size


def test_defaults_are_the_dataclasses():
    assert DENSENET_DEFAULTS == dataclasses.asdict(DenseNetConfig())
    assert CSPDENSENET_DEFAULTS == dataclasses.asdict(CSPDenseNetConfig())
    assert channel_plan("cspdensenet") == channel_plan("cspdensenet", **CSPDENSENET_DEFAULTS)


def test_seed_model_and_default_model_cannot_drift():
    assert seed_cspdensenet().config == CSPDenseNet().config == CSPDenseNetConfig()
    assert DenseNet().config == DenseNetConfig()


def test_config_and_overrides():
    config = CSPDenseNetConfig(growth_rate=8, repeats=[2, 2], num_classes=10)
    assert config.repeats == (2, 2)                       # normalised once, when made
    model = CSPDenseNet(config, fusion="last")
    assert model.config == dataclasses.replace(config, fusion="last")
    assert CSPDenseNet(growth_rate=8, repeats=(2, 2), num_classes=10).config == config
    with pytest.raises(TypeError, match="config must be a CSPDenseNetConfig"):
        CSPDenseNet(DenseNetConfig())
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.growth_rate = 4  # type: ignore[misc]


def test_config_checks_itself():
    with pytest.raises(ValueError, match="split_ratio must satisfy 0 < value < 1, got 1.0"):
        CSPDenseNetConfig(split_ratio=1.0)
    with pytest.raises(ValueError, match="fusion must be one of"):
        make_config("cspdensenet", {"fusion": "fuse"})
    with pytest.raises(TypeError, match="did you mean growth_rate"):
        make_config("densenet", {"growth": 12})
    with pytest.raises(TypeError, match="densenet got unknown setting.s. channel_pooling;"):
        DenseNet(channel_pooling=0.5)  # a CSP setting DenseNet does not take


def test_config_reads_like_the_old_settings_dict():
    model = CSPDenseNet(growth_rate=8, repeats=(2, 2), num_classes=10)
    assert model.config["repeats"] == (2, 2)
    assert CSPDenseNet(**model.config).config == model.config


@pytest.mark.parametrize("config", [DenseNetConfig(growth_rate=4, repeats=(2, 2), stem="small"),
                                    CSPDenseNetConfig(growth_rate=4, repeats=(2, 3))])
def test_build_plan_is_what_the_model_is_built_from(config):
    size, plan = build_plan(config)
    assert size == min_image_size(config.kind, **config.as_dict())
    assert plan == channel_plan(config.kind, size, **config.as_dict())
    model = (DenseNet if config.kind == "densenet" else CSPDenseNet)(config)
    assert model.min_image_size == size
    assert model.classifier.in_features == head_channels(plan)   # the head reads this plan
    with pytest.raises(TypeError, match="config must be a DenseNetConfig or CSPDenseNetConfig, "
                                        "got dict"):
        build_plan(config.as_dict())
