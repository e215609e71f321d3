"""Every chapter is laid out the same way for the reader (checked on the committed notebooks).

* the learning goals come right after the title, as a ``## Learning goals`` heading followed by
  "After this chapter you can" and a list, never as a box or a bold line;
* every figure has a caption and an alt text that says what it shows (the book's pages would
  otherwise give a screen reader the PNG's file name);
* every figure is drawn by a function of ``cspnet_lib``, so ``tests/test_plots.py`` (and the
  tests beside it) can hold its text to the readable size of ``cspnet_lib.readable``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_notebook_outputs import NOTEBOOKS, code_cells, source
from test_notebook_outputs import load as cells

IDS = [nb.stem for nb in NOTEBOOKS]
GOALS = "## Learning goals\n\nAfter this chapter you can\n\n- "
DRAWS_BY_HAND = re.compile(r"\bplt\.(subplots|figure|plot|bar|barh|scatter|imshow)\(|\bfig\.add_subplot\(")


def figure_cells(notebook: Path) -> list[tuple[int, dict]]:
    """(code-cell number as nbval counts them, cell) of every code cell that shows an image."""
    return [(i, c) for i, c in enumerate(code_cells(notebook))
            if any(k.startswith("image/") for o in c.get("outputs", []) for k in o.get("data", {}))]


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_learning_goals_follow_the_title_in_one_style(notebook):
    markdown = [source(c) for c in cells(notebook) if c["cell_type"] == "markdown"]
    assert markdown[0].startswith("# "), "the first cell is the chapter's title"
    assert markdown[1].startswith(GOALS), f"the second markdown cell must start with {GOALS!r}"
    others = [m for m in markdown[2:] + [markdown[0]] if re.search("learning goals", m, re.I)]
    assert not others, "learning goals appear a second time, in another form"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_every_figure_has_a_caption_and_an_alt_text(notebook):
    for i, cell in figure_cells(notebook):
        options = cell["metadata"].get("mystnb", {})
        caption = options.get("figure", {}).get("caption", "")
        alt = options.get("image", {}).get("alt", "")
        assert len(caption) >= 20, f"code cell {i}: a figure needs mystnb.figure.caption"
        assert len(alt) >= 40, f"code cell {i}: a figure needs mystnb.image.alt saying what it shows"
        assert not re.search(r"\.(png|svg|jpe?g)\b|_images/", alt), f"code cell {i}: alt is a file name"
        images = sum(k.startswith("image/") for o in cell["outputs"] for k in o.get("data", {}))
        assert images == 1, f"code cell {i}: one figure per cell, so each gets its own caption"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=IDS)
def test_figures_are_drawn_by_the_library(notebook):
    for i, cell in figure_cells(notebook):
        assert not DRAWS_BY_HAND.search(source(cell)), (
            f"code cell {i} draws its figure by hand: move it into cspnet_lib, where a test "
            "checks that its text stays readable in the book's column")
