"""teach/palette.py: one set of colours for every figure, diagram and the explorer."""

import re
from pathlib import Path

from cspnet_lib.teach import diagrams, palette, plots, residual_plots, widgets

CSS = Path(__file__).resolve().parents[1] / "book" / "explorer" / "explorer.css"


def test_figures_and_diagrams_draw_with_the_palette():
    assert diagrams.FILL is palette.FILL and residual_plots.COLOURS is palette.FILL
    assert diagrams.DOWNSAMPLE_EDGE == palette.HALVES_EDGE
    assert set(plots.PART_COLORS.values()) == {palette.FILL["bypass"], palette.FILL["block"]}
    assert widgets.COLORS is palette.MODEL
    assert palette.FILL["pool"] == palette.FILL["down"] == palette.HALVES  # both halve H and W


def test_the_explorer_css_draws_each_network_in_its_palette_colour():
    css = CSS.read_text(encoding="utf-8")
    for kind, colour in palette.MODEL.items():
        assert re.search(rf"--cspx-{kind}:\s*{colour};", css), (kind, colour)
