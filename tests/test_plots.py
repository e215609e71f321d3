"""plots.py: each function returns a Figure drawn from the numbers it is given, and rejects bad input."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from cspnet_lib.readable import COLUMN_PX, MIN_TEXT_PX, png_width_px, text_sizes_px

from cspnet_lib import channel_plan
from cspnet_lib.diagrams import draw_fusion_variants, draw_stage
from cspnet_lib.plots import (
    channel_growth,
    channel_trace,
    fusion_comparison,
    layer_costs,
    similarity_by_budget,
    similarity_heatmaps,
    split_cost,
    split_picture,
)

# DenseNet-121's first dense block, as the DenseNet paper's Table 1 gives it: 64 channels in,
# growth rate 32, six bottlenecks, 256 channels out.
DENSENET121_BLOCK1 = [64, 96, 128, 160, 192, 224, 256]


@pytest.fixture(autouse=True)
def close_figures():
    """Every function opens a pyplot figure: close them all after each test."""
    yield
    plt.close("all")


def texts(fig: Figure) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


def test_channel_growth_labels_every_bar_with_the_plan_total():
    fig = channel_growth(channel_plan("densenet"), stage=0)
    assert isinstance(fig, Figure)
    assert texts(fig) == [str(c) for c in DENSENET121_BLOCK1]
    bars = fig.axes[0].patches
    assert max(b.get_y() + b.get_height() for b in bars) == DENSENET121_BLOCK1[-1]


def test_channel_growth_reads_part_2_in_a_csp_stage():
    # The reference CSPDenseNet: stage 0's block reads 32 channels and ends at 104 (facts.md).
    fig = channel_growth(channel_plan("cspdensenet"), stage=0)
    assert texts(fig) == ["32", "44", "56", "68", "80", "92", "104"]


def test_layer_costs_draws_one_line_per_stage_with_the_plan_values():
    rows = channel_plan("densenet", repeats=(2, 3), stem="small", image_size=8)
    fig = layer_costs(rows)
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    params = [line.get_ydata() for line in fig.axes[0].lines]
    assert [len(p) for p in params] == [2, 3]
    assert list(np.concatenate(params)) == [r.params for r in rows if r.step == "bottleneck"]


def test_similarity_heatmaps_one_panel_per_matrix_and_a_colorbar():
    names = ["direct", "bottleneck 1", "bottleneck 2"]
    matrix = torch.tensor([[1.0, 0.25, -0.5], [0.25, 1.0, 0.0], [-0.5, 0.0, 1.0]])
    fig = similarity_heatmaps([matrix, matrix.numpy()], names, ["init", "trained"])
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 3  # two heatmaps and the colour bar
    assert ".25" in texts(fig) and "-.50" in texts(fig)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["direct", "H1", "H2"]


def test_similarity_heatmaps_never_show_minus_zero():
    matrix = np.array([[1.0, -0.004], [-0.004, 1.0]])
    assert sorted(texts(similarity_heatmaps([matrix], ["a", "b"], ["t"]))) == [".00", ".00", "1.00", "1.00"]


def test_similarity_by_budget_draws_seeds_and_their_mean():
    fig = similarity_by_budget([0, 1, 3], {"block 1": [[0.0, 0.1, 0.2], [0.0, 0.3, 0.4]],
                                           "control": [0.0, 0.0, 0.0]})
    lines = fig.axes[0].lines
    means = [line for line in lines if line.get_label() == "block 1"]
    assert list(means[0].get_ydata()) == pytest.approx([0.0, 0.2, 0.3])
    assert len(lines) == 2 + 1 + 1 + 1 + 1  # two seeds + mean, one seed + mean, the zero line


def test_split_cost_one_panel_per_metric():
    fig = split_cost([0.25, 0.5], {"parameters": [1, 2], "FLOPs": [3, 4]},
                     {"parameters": 3, "FLOPs": 5}, title="stage 0")
    assert len(fig.axes) == 2
    assert list(fig.axes[1].lines[0].get_ydata()) == [3, 4]


def test_split_picture_gives_part_1_the_extra_channel():
    fig = split_picture([6, 7], 0.5)
    assert "C = 6: 3 + 3" in texts(fig) and "C = 7: 4 + 3" in texts(fig)
    assert len(fig.axes[0].patches) == 13


def test_channel_trace_follows_the_plan():
    rows = channel_plan("cspdensenet")
    fig = channel_trace(rows)
    solid = [line for line in fig.axes[0].lines if line.get_linestyle() == "-"]
    stage0 = [r.channels for r in rows if r.stage == 0
              and r.step in ("part2", "bottleneck", "first_transition")]
    assert list(solid[0].get_ydata()) == stage0          # 32, 44, ..., 104, then 83
    assert stage0[0] == 32 and stage0[-1] == 83
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()][0] == "stage 0, 56x56"


COSTS = {"(b) CSP": {"FLOPs": -12.0, "CIO": -8.0}, "(c) first": {"FLOPs": -14.0, "CIO": -9.0}}
SIMILARITY = {"(a) plain": {"all": [0.1, 0.3]}, "(b) CSP": {"all": [0.2, 0.2]}}


def test_fusion_comparison_draws_every_change_and_the_spread_over_seeds():
    fig = fusion_comparison(COSTS, SIMILARITY, paper=("(b) CSP", -13))
    left, right = fig.axes
    heights = sorted(round(p.get_height(), 6) for p in left.patches)
    assert heights == [-14.0, -12.0, -9.0, -8.0]
    star = [line for line in left.lines if line.get_marker() == "*"][0]
    assert list(star.get_ydata()) == [-13]
    flops_bar = [p for p in left.patches if round(p.get_height(), 6) == -12.0][0]
    assert star.get_xdata()[0] == pytest.approx(flops_bar.get_x() + flops_bar.get_width() / 2)
    means = right.lines[0].get_ydata()
    assert list(means) == pytest.approx([0.2, 0.2])
    low, high = right.get_ylim()
    assert low < 0 < 0.3 < high < 0.5          # zoomed on the values and 0, not -1 to 1


def test_fusion_comparison_puts_every_published_change_beside_its_cost():
    fig = fusion_comparison(COSTS, SIMILARITY, paper={"(b) CSP": -13, "(c) first": -26},
                            paper_cost="CIO")
    left = fig.axes[0]
    star = [line for line in left.lines if line.get_marker() == "*"][0]
    cio_bars = sorted((p for p in left.patches if round(p.get_height()) in (-8, -9)),
                      key=lambda p: p.get_x())
    assert list(star.get_ydata()) == [-13, -26]
    assert list(star.get_xdata()) == pytest.approx([p.get_x() + p.get_width() / 2
                                                    for p in cio_bars])
    with pytest.raises(ValueError, match="paper_cost must be one of the costs"):
        fusion_comparison(COSTS, SIMILARITY, paper={"(b) CSP": -13}, paper_cost="params")


# --- readable on the page: every figure the book shows ------------------------------------------

NAMES9 = ["bypass (part 1)", "direct"] + [f"bottleneck {i}" for i in range(1, 8)]
MATRIX9 = np.clip(np.random.default_rng(0).normal(0, 0.3, (9, 9)), -1, 1)
FIGURES = {   # each as the chapters call it, at the largest size they use
    "channel_growth": lambda: channel_growth(channel_plan("densenet"), stage=0),
    "layer_costs": lambda: layer_costs(channel_plan("densenet")),
    "similarity_heatmaps, 2x2": lambda: similarity_heatmaps([MATRIX9] * 4, NAMES9, list("abcd"), ncols=2),
    "similarity_heatmaps, one": lambda: similarity_heatmaps([MATRIX9], NAMES9, ["CSPDenseNet"]),
    "similarity_by_budget": lambda: similarity_by_budget([0, 10, 43], {
        "block 0, real loss": np.zeros((2, 3)), "control: block 1, random probe": np.ones((2, 3))}),
    "split_cost": lambda: split_cost([0.25, 0.5], {"parameters": [1, 2], "FLOPs": [3, 4]},
                                     {"parameters": 3, "FLOPs": 5}, title="stage 0"),
    "split_picture": lambda: split_picture([6, 7]),
    "channel_trace": lambda: channel_trace(channel_plan("cspdensenet")),
    "fusion_comparison": lambda: fusion_comparison(COSTS, SIMILARITY, paper=("(b) CSP", -13)),
    "draw_stage": lambda: draw_stage("cspdensenet", fusion="last").figure,
    "draw_fusion_variants": lambda: draw_fusion_variants(stage=0),
}


@pytest.mark.parametrize("name", FIGURES)
def test_figure_text_is_readable_in_the_book_column(name):
    """No text below MIN_TEXT_PX once the PNG is shrunk to the chapter column (issue: readers
    on every screen). The sizes come from the figure itself: font size x dpi x shrink."""
    sizes = text_sizes_px(FIGURES[name]())
    assert sizes, "the figure draws no text"
    assert sizes[0][0] >= MIN_TEXT_PX, f"{sizes[0][1]!r} is {sizes[0][0]:.1f} px on the page"


def test_text_size_follows_the_shrink_to_the_column():
    fig = plt.figure(figsize=(2 * COLUMN_PX / 100, 2), dpi=100)   # about twice the column
    fig.add_subplot().plot([0, 1])                                 # fills the width
    fig.text(0.5, 0.5, "x", fontsize=72)
    shrink = COLUMN_PX / png_width_px(fig)
    assert 0.4 < shrink < 0.8   # the tight box trims some of the margins
    sizes = dict((text, size) for size, text in text_sizes_px(fig))
    assert sizes["x"] == pytest.approx(72 * 100 / 72 * shrink)     # 72 pt at 100 dpi = 100 px
    assert sizes["0.0"] == pytest.approx(10 * 100 / 72 * shrink)   # a tick label, 10 pt


def test_text_sizes_px_rejects_what_is_not_a_figure_or_a_width():
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        text_sizes_px("figure")
    with pytest.raises(ValueError, match="column_px must be a positive width"):
        text_sizes_px(plt.figure(), column_px=0)


@pytest.mark.parametrize("call,error,words", [
    (lambda: channel_growth("plan"), TypeError, "rows must be a non-empty list of PlanRow"),
    (lambda: channel_growth([]), TypeError, "rows must be a non-empty list of PlanRow"),
    (lambda: channel_growth(channel_plan("densenet"), stage=4), ValueError, "stage must be an int between 0 and 3, got 4"),
    (lambda: layer_costs([1, 2]), TypeError, "rows must be a non-empty list of PlanRow"),
    (lambda: similarity_heatmaps([torch.ones(2, 3)], ["a", "b"], ["t"]), ValueError, "matrix must be a square"),
    (lambda: similarity_heatmaps([torch.eye(2)], ["a"], ["t"]), ValueError, "names must list one label per row"),
    (lambda: similarity_heatmaps([torch.eye(2)], ["a", "b"], ["t", "u"]), ValueError, "titles must give one title per matrix"),
    (lambda: similarity_heatmaps([[1.0]], ["a"], ["t"]), TypeError, "each matrix must be a (P, P) tensor"),
    (lambda: similarity_by_budget([0, 1], {"a": [0.0, 1.0, 2.0]}), ValueError, "must be shaped (seeds, 2)"),
    (lambda: similarity_by_budget([0, 1], {}), TypeError, "series must be a non-empty dict"),
    (lambda: split_cost([0.5, 1.0], {"p": [1, 2]}, {"p": 1}), ValueError, "split_ratio must satisfy 0 < value < 1"),
    (lambda: split_cost([0.25, 0.5], {"p": [1, 2]}, {"q": 1}), ValueError, "same metric names"),
    (lambda: split_cost([0.25, 0.5], {"p": [1]}, {"p": 1}), ValueError, "one value per ratio (2)"),
    (lambda: split_picture([6, 1]), ValueError, "channel_counts[1] must be an int between 2 and 64"),
    (lambda: split_picture([6.0]), TypeError, "channel_counts[0] must be an int"),
    (lambda: split_picture([6], split_ratio=0), ValueError, "split_ratio must satisfy 0 < value < 1"),
    (lambda: channel_trace(channel_plan("densenet")), ValueError, "channel_plan('cspdensenet'"),
    (lambda: fusion_comparison({}, SIMILARITY), TypeError, "cost_changes must be a non-empty dict"),
    (lambda: fusion_comparison(COSTS, {"a": {"all": [1]}, "b": {"own": [1]}}), ValueError, "same similarity measures"),
    (lambda: fusion_comparison(COSTS, SIMILARITY, paper=("(z)", -1)), ValueError, "paper names variant '(z)'"),
])
def test_bad_input_gets_a_clear_error(call, error, words):
    plt.close("all")
    with pytest.raises(error) as info:
        call()
    assert words in str(info.value)
    assert plt.get_fignums() == []  # checked before anything is drawn
