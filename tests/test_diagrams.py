"""The stage diagrams show the plan's numbers, mark the downsampling, and reject bad settings."""

from __future__ import annotations

import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from cspnet_lib.diagrams import (  # noqa: E402
    DOWNSAMPLE_EDGE,
    densenet_counterpart,
    draw_fusion_variants,
    draw_stage,
)
from cspnet_lib.plan import channel_plan, plan_by_stage  # noqa: E402

VARIANTS = [("densenet", {"growth_rate": 12}), ("cspdensenet", {"fusion": "csp"}),
            ("cspdensenet", {"fusion": "first"}), ("cspdensenet", {"fusion": "last"})]
IDS = ["densenet", "csp", "first", "last"]
STEP_TO_BOX = {"part1": "part1", "part2": "split", "dense": "dense", "transition": "transition",
               "first_transition": "first_transition", "concat": "concat",
               "second_transition": "second_transition"}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def box_texts(ax) -> dict[str, str]:
    """The text drawn on each box, keyed by the box's gid."""
    texts: dict[str, str] = {}
    for t in ax.texts:
        texts[t.get_gid()] = texts.get(t.get_gid(), "") + " " + t.get_text()
    return texts


def has_number(text: str, n: int) -> bool:
    return re.search(rf"(?<![\d.]){n}(?![\d.])", text) is not None


def boxes_by_key(ax) -> dict[str, FancyBboxPatch]:
    return {p.get_gid(): p for p in ax.patches if isinstance(p, FancyBboxPatch)}


# --- the reference CSPDenseNet, against the shape trace in facts.md (typed in, not computed) ---

REFERENCE = {  # stage: (input, part 1, part 2, dense block, first transition, concat, second)
    0: ((64, 56), 32, 32, 104, 83, 115, (57, 28)),
    1: ((57, 28), 29, 28, 172, 137, 166, (83, 14)),
    2: ((83, 14), 42, 41, 329, 263, 305, (152, 7)),
}


@pytest.mark.parametrize("stage", sorted(REFERENCE))
def test_reference_stage_shows_the_published_trace(stage):
    (c_in, size), part1, part2, dense, first, concat, (c_out, size_out) = REFERENCE[stage]
    texts = box_texts(draw_stage("cspdensenet", stage))
    assert has_number(texts["input"], c_in) and f"{size}\u00d7{size}" in texts["input"]
    assert has_number(texts["split"], part1) and has_number(texts["split"], part2)
    assert has_number(texts["part1"], part1)
    assert has_number(texts["dense"], dense)
    assert has_number(texts["first_transition"], first)
    assert has_number(texts["concat"], concat)
    assert has_number(texts["second_transition"], c_out)
    assert has_number(texts["output"], c_out) and f"{size_out}\u00d7{size_out}" in texts["output"]


def test_reference_last_stage_goes_to_the_head():
    texts = box_texts(draw_stage("cspdensenet", 3))
    assert "second_transition" not in texts
    assert has_number(texts["concat"], 290) and "7\u00d77" in texts["concat"]
    assert "head" in texts["output"]


# --- every variant, against its own plan rows ----------------------------------------------

@pytest.mark.parametrize(("kind", "config"), VARIANTS, ids=IDS)
@pytest.mark.parametrize("stage", [0, 1, 3])
def test_every_plan_row_is_on_its_box(kind, config, stage):
    rows = plan_by_stage(channel_plan(kind, **config))[stage]
    texts = box_texts(draw_stage(kind, stage, **config))
    checked = 0
    for step, row in rows.items():
        if step == "bottleneck":
            continue
        text = texts[STEP_TO_BOX[step]]
        assert has_number(text, row.channels), (step, row.channels, text)
        assert f"{row.size}\u00d7{row.size}" in text, (step, row.size, text)
        checked += 1
    assert checked == len(rows) - 1  # every row but the list of bottlenecks
    assert has_number(texts["dense"], len(rows["bottleneck"]))


DOWNSAMPLING = {  # which boxes halve the spatial size in a stage that is not the last one
    "densenet": {"transition"}, "csp": {"second_transition"}, "first": {"second_transition"},
    "last": {"first_transition", "part1_pool"},
}
ARROWS = {"densenet": 3, "csp": 8, "first": 7, "last": 8}


@pytest.mark.parametrize(("kind", "config"), VARIANTS, ids=IDS)
def test_downsampling_boxes_and_arrows(kind, config):
    name = config.get("fusion", "densenet")
    ax = draw_stage(kind, 0, **config)
    edges = {key: to_hex(p.get_edgecolor()) for key, p in boxes_by_key(ax).items()}
    orange = {key for key, edge in edges.items() if edge == DOWNSAMPLE_EDGE}
    assert orange == DOWNSAMPLING[name]
    assert sum(isinstance(p, FancyArrowPatch) for p in ax.patches) == ARROWS[name]
    last = draw_stage(kind, 3, **config)  # the last stage never downsamples
    edges = [to_hex(p.get_edgecolor()) for p in boxes_by_key(last).values()]
    assert DOWNSAMPLE_EDGE not in edges


def test_fusion_last_pools_part1_to_the_size_of_part2():
    rows = plan_by_stage(channel_plan("cspdensenet", fusion="last"))[0]
    text = box_texts(draw_stage("cspdensenet", 0, fusion="last"))["part1_pool"]
    assert has_number(text, rows["part1"].channels)
    assert "56\u00d756 \u2192 28\u00d728" in text
    assert rows["concat"].size == 28 and rows["first_transition"].size == 28


LARGE = dict(growth_rate=48, stem_channels=1024, repeats=(40, 40, 40, 40))


@pytest.mark.parametrize(("stage", "image_size", "config"), [(0, 224, {}), (3, 1024, LARGE),
                                                              (0, 1024, LARGE)])
def test_labels_fit_inside_their_boxes(stage, image_size, config):
    grid = draw_fusion_variants(stage, image_size, **config)
    single = draw_stage("cspdensenet", stage, image_size, fusion="last", **config).figure
    for fig in (grid, single):
        fig.canvas.draw()  # runs the constrained layout
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            boxes = {k: p.get_window_extent(renderer) for k, p in boxes_by_key(ax).items()}
            for t in ax.texts:
                inner, outer = t.get_window_extent(renderer), boxes[t.get_gid()]
                assert outer.x0 <= inner.x0 and inner.x1 <= outer.x1, (ax.get_title(), t.get_text())
                assert outer.y0 <= inner.y0 and inner.y1 <= outer.y1, (ax.get_title(), t.get_text())


def test_legend_lists_only_what_the_stage_has():
    dense = [t.get_text() for t in draw_stage("densenet", growth_rate=12).get_legend().get_texts()]
    assert not any("part 1" in t or "split" in t for t in dense)
    assert any("dense block" in t for t in dense) and any("avg pool" in t for t in dense)
    last = draw_stage("cspdensenet", 3, fusion="first").get_legend().get_texts()
    assert not any("avg pool" in t.get_text() for t in last)  # nothing halves in the last stage


def test_draws_on_a_given_axes():
    fig, ax = plt.subplots()
    assert draw_stage("cspdensenet", ax=ax, title="mine", legend=False) is ax
    assert ax.get_title() == "mine" and ax.get_legend() is None


# --- the 2x2 grid ------------------------------------------------------------------------------

def test_fusion_variants_grid_shows_each_plan():
    config = dict(growth_rate=16, repeats=(3, 4, 5), split_ratio=0.75, compression=0.6)
    fig = draw_fusion_variants(stage=1, image_size=128, **config)
    assert len(fig.axes) == 4
    titles = [ax.get_title() for ax in fig.axes]
    assert [t[:3] for t in titles] == ["(a)", "(b)", "(c)", "(d)"]
    plans = [channel_plan("densenet", 128, **densenet_counterpart(**config))] + [
        channel_plan("cspdensenet", 128, fusion=f, **config) for f in ("csp", "first", "last")]
    for ax, plan in zip(fig.axes, plans):
        texts = box_texts(ax)
        for step, row in plan_by_stage(plan)[1].items():
            if step != "bottleneck":
                assert has_number(texts[STEP_TO_BOX[step]], row.channels), (ax.get_title(), step)


def test_densenet_counterpart_keeps_the_shared_settings():
    dense = densenet_counterpart(growth_rate=12, split_ratio=0.25, fusion="last")
    assert dense["growth_rate"] == 12 and dense["compression"] == 0.5
    assert "split_ratio" not in dense and "fusion" not in dense


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(growth=st.integers(1, 48), repeats=st.lists(st.integers(1, 40), min_size=1, max_size=4),
       split=st.sampled_from([0.25, 0.5, 0.75]), fusion=st.sampled_from(["csp", "first", "last"]),
       data=st.data())
def test_any_valid_config_draws_its_plan(growth, repeats, split, fusion, data):
    config = dict(growth_rate=growth, repeats=tuple(repeats), split_ratio=split, fusion=fusion)
    stage = data.draw(st.integers(0, len(repeats) - 1))
    texts = box_texts(draw_stage("cspdensenet", stage, image_size=224, **config))
    for step, row in plan_by_stage(channel_plan("cspdensenet", **config))[stage].items():
        if step != "bottleneck":
            assert has_number(texts[STEP_TO_BOX[step]], row.channels)
    plt.close("all")


# --- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("call", "error", "name"), [
    (lambda: draw_stage("resnet"), ValueError, "kind"),
    (lambda: draw_stage("cspdensenet", stage=4), ValueError, "stage"),
    (lambda: draw_stage("cspdensenet", stage=-1), ValueError, "stage"),
    (lambda: draw_stage("cspdensenet", stage=1.0), TypeError, "stage"),
    (lambda: draw_stage("cspdensenet", image_size=0), ValueError, "image_size"),
    (lambda: draw_stage("cspdensenet", image_size=16), ValueError, "image_size"),
    (lambda: draw_stage("cspdensenet", fusion="middle"), ValueError, "fusion"),
    (lambda: draw_stage("cspdensenet", growth=12), TypeError, "growth"),
    (lambda: draw_stage("densenet", fusion="csp"), TypeError, "fusion"),
    (lambda: draw_stage("cspdensenet", ax="left"), TypeError, "ax"),
    (lambda: draw_stage("cspdensenet", title=3), TypeError, "title"),
    (lambda: draw_stage("cspdensenet", legend="yes"), TypeError, "legend"),
    (lambda: draw_fusion_variants(fusion="csp"), ValueError, "fusion"),
    (lambda: draw_fusion_variants(stage=9), ValueError, "stage"),
    (lambda: draw_fusion_variants(split_ratio=1.0), ValueError, "split_ratio"),
])
def test_bad_input_names_the_parameter(call, error, name):
    with pytest.raises(error, match=name):
        call()
