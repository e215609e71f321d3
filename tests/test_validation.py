"""Bad settings give one clear sentence (parameter, value, what is allowed), never a torch error."""

import functools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from cspnet_lib import (
    Bottleneck,
    CSPDenseNet,
    DenseBlock,
    DenseNet,
    Transition,
    channel_plan,
    cspdarknet53,
    cspresnet50,
    count_flops,
    count_params,
    measure_flops,
    min_image_size,
    seed_cspdensenet,
    shape_trace,
    split_channels,
)

BAD_SETTINGS = [  # keywords, error type, words the message must contain
    (dict(growth_rate=0), ValueError, ["growth_rate", "0", "between 1 and 1024"]),
    (dict(growth_rate=-3), ValueError, ["growth_rate", "-3"]),
    (dict(growth_rate=12.5), TypeError, ["growth_rate", "12.5", "int"]),
    (dict(growth_rate=True), TypeError, ["growth_rate", "True"]),
    (dict(growth_rate="12"), TypeError, ["growth_rate", "'12'"]),
    (dict(repeats=()), ValueError, ["repeats", "between 1 and 8"]),
    (dict(repeats=(6, 0, 24)), ValueError, ["repeats[1]", "0"]),
    (dict(repeats=(6, 2.5)), TypeError, ["repeats[1]", "2.5"]),
    (dict(repeats=6), TypeError, ["repeats", "6"]),
    (dict(repeats="6,12"), TypeError, ["repeats"]),
    (dict(repeats=(1,) * 9), ValueError, ["repeats", "9"]),
    (dict(compression=0), ValueError, ["compression", "0", "0 < value <= 1"]),
    (dict(compression=1.5), ValueError, ["compression", "1.5"]),
    (dict(compression=math.nan), ValueError, ["compression", "nan"]),
    (dict(compression="half"), TypeError, ["compression", "'half'"]),
    (dict(stem_channels=0), ValueError, ["stem_channels", "0"]),
    (dict(num_classes=0), ValueError, ["num_classes", "0"]),
    (dict(in_channels=0), ValueError, ["in_channels", "0"]),
    (dict(bottleneck_width=0), ValueError, ["bottleneck_width", "0"]),
    (dict(stem="tiny"), ValueError, ["stem", "'tiny'", "'imagenet'", "'small'"]),
    (dict(growth=12), TypeError, ["growth"]),
]
CSP_ONLY = [
    (dict(split_ratio=0), ValueError, ["split_ratio", "0 < value < 1"]),
    (dict(split_ratio=1.0), ValueError, ["split_ratio", "1.0"]),
    (dict(channel_pooling=0), ValueError, ["channel_pooling", "0"]),
    (dict(channel_pooling=2), ValueError, ["channel_pooling", "2"]),
    (dict(fusion="middle"), ValueError, ["fusion", "'middle'", "'csp'", "'first'", "'last'"]),
    (dict(fusion=None), ValueError, ["fusion", "None"]),
    # arithmetic that leaves a stage with no channels
    (dict(stem_channels=1), ValueError, ["stage 0", "0 channels", "part2"]),
    (dict(stem_channels=8, split_ratio=0.1), ValueError, ["stage 0", "0 channels"]),
    (dict(growth_rate=1, repeats=(1, 1), stem_channels=2, channel_pooling=0.3), ValueError, ["0 channels"]),
]


def check_message(error: Exception, words: list[str]) -> None:
    for word in words:
        assert word in str(error), f"{word!r} missing from: {error}"


@pytest.mark.parametrize("kind, builder", [("densenet", DenseNet), ("cspdensenet", CSPDenseNet)])
@pytest.mark.parametrize("config, error, words", BAD_SETTINGS, ids=str)
def test_bad_settings_raise_a_clear_error_everywhere(kind, builder, config, error, words):
    for call in (lambda: builder(**config), lambda: channel_plan(kind, **config),
                 lambda: count_params(kind, **config), lambda: count_flops(kind, **config)):
        with pytest.raises(error) as caught:
            call()
        check_message(caught.value, words)


@pytest.mark.parametrize("config, error, words", CSP_ONLY, ids=str)
def test_bad_csp_settings_raise_a_clear_error(config, error, words):
    for call in (lambda: CSPDenseNet(**config), lambda: channel_plan("cspdensenet", **config)):
        with pytest.raises(error) as caught:
            call()
        check_message(caught.value, words)


def test_densenet_rejects_csp_settings():
    with pytest.raises(TypeError, match="split_ratio"):
        DenseNet(split_ratio=0.5)


@pytest.mark.parametrize("image_size, error, words", [
    (0, ValueError, ["image_size", "0"]),
    (28, ValueError, ["image_size=28", "too small", "stage 2"]),
    (224.0, TypeError, ["image_size", "224.0"]),
])
def test_bad_image_sizes(image_size, error, words):
    with pytest.raises(error) as caught:
        channel_plan("cspdensenet", image_size)
    check_message(caught.value, words)


def test_min_image_size_is_the_boundary():
    for kind in ("densenet", "cspdensenet"):
        for config in (dict(), dict(stem="small"), dict(repeats=(2, 2))):
            smallest = min_image_size(kind, **config)
            channel_plan(kind, smallest, **config)
            with pytest.raises(ValueError, match="too small"):
                channel_plan(kind, smallest - 1, **config)
    assert min_image_size("cspdensenet") == 29  # 29 -> 15 -> 8 after the stem -> 4 -> 2 -> 1
    assert min_image_size("densenet", stem="small", repeats=(1, 1, 1)) == 4


BAD_INPUTS = [  # (what the reader passes, error type, words the message must contain)
    (torch.zeros(1, 1, 224, 224), ValueError, ["1 channels", "in_channels=3"]),
    (torch.zeros(1, 3, 16, 16), ValueError, ["16x16", "at least 29x29"]),
    (torch.zeros(3, 224, 224), ValueError, ["(3, 224, 224)", "batch dimension", "x.unsqueeze(0)"]),
    (torch.zeros(224, 224), ValueError, ["(N, 3, H, W)", "(224, 224)"]),
    (torch.zeros(1, 3, 64, 64, dtype=torch.float64), TypeError,
     ["torch.float64", "torch.float32", "x.float()"]),
    (torch.zeros(1, 3, 64, 64, dtype=torch.uint8), TypeError, ["torch.uint8", "x.float() / 255"]),
    (np.zeros((1, 3, 64, 64), dtype=np.float32), TypeError,
     ["ndarray", "torch.from_numpy(x).float()"]),
    ([[1.0]], TypeError, ["torch.Tensor", "list"]),
    (torch.full((1, 3, 64, 64), math.nan), ValueError, ["NaN"]),
    (torch.full((1, 3, 64, 64), math.inf), ValueError, ["infinite"]),
]


@functools.cache
def built(name: str) -> torch.nn.Module:
    """One model per network for the input checks (building cspdarknet53 takes a moment)."""
    builders = {"cspdensenet": seed_cspdensenet, "densenet": lambda: DenseNet(growth_rate=12),
                "cspdarknet53": lambda: cspdarknet53(repeats=(1, 1, 1, 1, 1))}
    return builders[name]().eval()


@pytest.mark.parametrize("x, error, words", BAD_INPUTS,
                         ids=lambda v: type(v).__name__ if not isinstance(v, torch.Tensor)
                         else f"{tuple(v.shape)}-{v.dtype}")
@pytest.mark.parametrize("name", ["cspdensenet", "densenet", "cspdarknet53"])
def test_a_model_rejects_an_input_it_cannot_take(name, x, error, words):
    model = built(name)
    if "at least 29x29" in words:  # each network has its own smallest size
        words = ["16x16", f"at least {model.min_image_size}x{model.min_image_size}"]
    with pytest.raises(error) as caught:
        model(x)
    check_message(caught.value, words)


@pytest.mark.parametrize("build", [seed_cspdensenet, lambda: DenseNet(growth_rate=12),
                                   lambda: cspresnet50(repeats=(1, 1, 1, 1))],
                         ids=["cspdensenet", "densenet", "cspresnet50"])
def test_batch_norm_in_training_needs_more_than_one_value(build):
    """One 32x32 image leaves every network here a 1x1 last feature map: batch norm cannot
    train on one value per channel. Two images, or eval mode, are fine."""
    model = build()
    with pytest.raises(ValueError) as caught:
        model.train()(torch.randn(1, 3, 32, 32))
    check_message(caught.value, ["training mode", "1x1", "batch of 2", "model.eval()"])
    assert model.train()(torch.randn(2, 3, 32, 32)).shape[0] == 2
    assert model.eval()(torch.randn(1, 3, 32, 32)).shape[0] == 1
    model.train()(torch.randn(1, 3, 64, 64))  # 2x2 values per channel: batch norm copes


def test_settings_too_large_to_build_are_refused_before_allocating():
    """429,855,936,952 parameters (1.7 TB) is refused with the count, whatever the machine."""
    config = dict(growth_rate=1024, repeats=(128,) * 5)
    expected = count_params("cspdensenet", **config)
    with pytest.raises(ValueError) as caught:
        CSPDenseNet(**config)
    check_message(caught.value, [f"{expected:,} parameters", "GB", "lower growth_rate",
                                 "count_params()"])
    with pytest.raises(ValueError, match="parameters"):
        DenseNet(**config)


def test_a_batch_too_large_for_memory_is_refused_before_running():
    model = DenseNet(growth_rate=12, repeats=(2, 2)).train()
    with pytest.raises(ValueError) as caught:
        model(torch.zeros(1, 3, 32, 32).expand(1 << 22, 3, 32, 32))  # a view: no memory
    check_message(caught.value, ["4194304 images of 32x32", "GB", "smaller batch"])


def test_parameter_count_does_not_depend_on_the_image_size():
    config = dict(repeats=(128,) * 8, growth_rate=4)  # 8 stages: 224x224 would be too small
    assert count_params("densenet", **config) == count_params("densenet", 4096, **config)
    with pytest.raises(ValueError, match="image_size=224 is too small"):
        count_flops("densenet", 224, **config)


@pytest.mark.parametrize("typo, meant", [("growth", "growth_rate"), ("fusoin", "fusion"),
                                         ("compresion", "compression"), ("splitratio", "split_ratio")])
def test_a_typo_names_the_setting_it_most_likely_meant(typo, meant):
    for call in (lambda: CSPDenseNet(**{typo: 12}), lambda: channel_plan("cspdensenet", **{typo: 12})):
        with pytest.raises(TypeError) as caught:
            call()
        check_message(caught.value, [typo, f"did you mean {meant}?", "allowed:"])
    with pytest.raises(TypeError) as caught:
        CSPDenseNet(xyz=1)
    assert "did you mean" not in str(caught.value) and "xyz" in str(caught.value)


def test_blocks_and_helpers_check_their_arguments():
    with pytest.raises(ValueError, match="growth_rate"):
        Bottleneck(16, 0)
    with pytest.raises(ValueError, match="repeats"):
        DenseBlock(16, 0, 12)
    with pytest.raises(ValueError, match="out_channels"):
        Transition(16, 0)
    with pytest.raises(ValueError, match="split_ratio"):
        split_channels(torch.zeros(1, 4, 2, 2), 1.5)
    with pytest.raises(ValueError, match="each part needs at least one channel"):
        split_channels(torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"\(N, C, \.\.\.\)"):
        split_channels(torch.zeros(4))
    with pytest.raises(TypeError, match="nn.Module"):
        measure_flops("densenet121")
    with pytest.raises(ValueError, match="image_size"):
        measure_flops(seed_cspdensenet(), image_size=0)
    with pytest.raises(TypeError, match="Tensor"):
        shape_trace(seed_cspdensenet(), [1, 2, 3])
    with pytest.raises(ValueError, match="kind"):
        channel_plan("resnet")


def test_split_channels_gives_part_one_the_extra_channel():
    x = torch.arange(7.0).reshape(1, 7, 1, 1)
    part1, part2 = split_channels(x)
    assert (part1.shape[1], part2.shape[1]) == (4, 3)
    assert torch.equal(torch.cat([part1, part2], 1), x)
    part1, part2 = split_channels(torch.zeros(2, 10, 3, 3), 0.25)
    assert (part1.shape[1], part2.shape[1]) == (8, 2)


anything = st.one_of(st.none(), st.booleans(), st.integers(-5, 300), st.floats(allow_nan=True),
                     st.text(max_size=3), st.lists(st.integers(-2, 5), max_size=5))


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(["densenet", "cspdensenet"]),
    config=st.fixed_dictionaries({}, optional={
        "growth_rate": st.one_of(st.integers(-2, 20), anything),
        "repeats": st.one_of(st.lists(st.integers(-1, 3), max_size=5), anything),
        "compression": st.one_of(st.floats(-0.5, 1.5), anything),
        "channel_pooling": st.one_of(st.floats(-0.5, 1.5), anything),
        "split_ratio": st.one_of(st.floats(-0.5, 1.5), anything),
        "fusion": st.one_of(st.sampled_from(["csp", "first", "last", "x"]), anything),
        "stem_channels": st.one_of(st.integers(-1, 40), anything),
        "stem": st.sampled_from(["imagenet", "small", "big"]),
        "num_classes": st.one_of(st.integers(-1, 10), anything),
    }),
    image_size=st.integers(1, 80),
)
def test_random_settings_build_and_run_or_raise_a_clear_error(kind, config, image_size):
    """Anything a reader might type: it builds and runs, or raises ValueError / TypeError."""
    if kind == "densenet":
        config = {k: v for k, v in config.items() if k not in ("channel_pooling", "split_ratio", "fusion")}
    config.setdefault("repeats", (1, 2))
    config.setdefault("growth_rate", 4)
    builder = DenseNet if kind == "densenet" else CSPDenseNet
    try:
        model = builder(**config)
    except (ValueError, TypeError):
        return
    try:
        logits = model(torch.randn(2, model.in_channels, image_size, image_size))
    except ValueError as error:
        assert "pixels" in str(error)
        return
    assert logits.shape == (2, model.classifier.out_features)
