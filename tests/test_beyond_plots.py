"""Chapter 7's figures (beyond_plots.py) and the FLOPs and CIO by role (beyond.py).

The stage diagrams are drawn from real modules on the meta device. Nothing may be cut: every
text stays inside its box and every box inside the figure, and the text stays readable.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import FancyBboxPatch  # noqa: E402

import cspnet_lib as lib  # noqa: E402
from cspnet_lib.beyond import ROLES, cio_by_role, flops_by_role, roles  # noqa: E402
from cspnet_lib.beyond_plots import flops_by_role_bars, stage_graph, stage_pair_figure  # noqa: E402
from cspnet_lib.cio import measure_cio  # noqa: E402
from cspnet_lib.readable import MIN_TEXT_PX, smallest_text_px  # noqa: E402

PAIRS = [("resnet50", "cspresnet50", 1), ("resnext50", "cspresnext50", 1),
         ("darknet53", "cspdarknet53", 2)]


@pytest.fixture(scope="module")
def meta():
    with torch.device("meta"):
        return {n: getattr(lib, n)() for base, csp, _ in PAIRS for n in (base, csp)}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_stage_graph_of_a_csp_stage_follows_the_paper(meta):
    boxes, edges = stage_graph(meta["cspresnet50"].stages[1])
    assert list(boxes) == ["input", "down", "cross", "main", "blocks", "transition", "concat",
                           "fusion"]
    assert boxes["cross"].column == "left" and boxes["main"].column == "right"
    assert boxes["down"].halves and not boxes["blocks"].halves
    assert ("cross", "concat") in edges and ("transition", "concat") in edges
    assert boxes["concat"].text == "concatenate: 512 channels"
    assert boxes["blocks"].text.startswith("3 \u00d7 residual blocks")


def test_stage_graph_of_a_base_stage_marks_the_striding_block(meta):
    boxes, edges = stage_graph(meta["resnet50"].stages[1])
    assert list(boxes) == ["input", "blocks", "output"] and boxes["blocks"].halves
    assert edges == [("input", "blocks"), ("blocks", "output")]
    with pytest.raises(TypeError):
        stage_graph(torch.nn.Sequential())


@pytest.mark.parametrize("base, csp, s", PAIRS)
def test_stage_pair_figure_cuts_nothing_and_stays_readable(meta, base, csp, s):
    fig = stage_pair_figure([meta[base].stages[s], meta[csp].stages[s]], [base, csp])
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == len(stage_graph(meta[base].stages[s])[0]) + len(
        stage_graph(meta[csp].stages[s])[0])
    for patch in boxes:   # every box inside the figure
        e = patch.get_window_extent(renderer)
        assert canvas.x0 <= e.x0 and e.x1 <= canvas.x1 and canvas.y0 <= e.y0 and e.y1 <= canvas.y1
    for text in fig.axes[0].texts:   # every box label inside one box
        t = text.get_window_extent(renderer)
        if text.get_fontweight() == "bold" or not text.get_text():
            continue  # a panel title, or an arrow
        assert any(e.x0 <= t.x0 and t.x1 <= e.x1 and e.y0 <= t.y0 and t.y1 <= e.y1
                   for e in (p.get_window_extent(renderer) for p in boxes)), text.get_text()
    assert smallest_text_px(fig) >= MIN_TEXT_PX


def test_stage_pair_figure_needs_one_title_per_stage(meta):
    with pytest.raises(ValueError, match="one title per stage"):
        stage_pair_figure([meta["resnet50"].stages[1]], [])


def test_flops_and_cio_by_role_add_up_to_the_whole_network(meta):
    model = meta["cspresnext50"]
    flops = flops_by_role(model)
    assert list(flops) == list(ROLES)
    with torch.device("meta"):
        assert sum(flops.values()) == lib.measure_flops(model, 256)
    assert flops["split"] > 0 and flops["fusion"] > 0
    cio = cio_by_role(model)
    assert sum(cio.values()) == measure_cio(model, 256)
    base = flops_by_role(meta["resnext50"])
    assert base["split"] == base["transition"] == base["fusion"] == 0
    assert set(roles(model).values()) == set(ROLES)
    with pytest.raises(TypeError):
        roles(torch.nn.Linear(2, 2))


def test_flops_by_role_figure_is_readable(meta):
    by_role = {n: flops_by_role(m) for n, m in meta.items()}
    fig = flops_by_role_bars(by_role, {n: sum(v.values()) / 1e9 for n, v in by_role.items()})
    assert smallest_text_px(fig) >= MIN_TEXT_PX
    assert len(fig.axes[0].patches) == len(by_role) * len(ROLES)
