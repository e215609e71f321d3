"""The book's colours for the parts of a stage and for each network, chosen once.

The stage diagrams (chapters 2, 3 and 7), the split picture, the split-cost curves, chapter 7's
bars by role and the channel explorer draw with these, so a part of a stage has one colour
wherever it is drawn. Charts of many unrelated series (one line per stage, chapter 6's FLOPs
breakdown) use matplotlib's tab10 cycle instead.

``FILL``: a box's fill, by what the box holds (chapters 2-3's dense stages and chapter 7's residual
stages alike); ``EDGE``: a box's outline; ``HALVES_EDGE``: the outline of a step that halves the
height and width (a 2x2 average pool, a 3x3 stride-2 convolution); ``ROLE_BARS``: chapter 7's
bars of FLOPs by role; ``MODEL``: DenseNet's blue and CSPDenseNet's orange.
"""

from __future__ import annotations

HALVES = "#fbd9b5"  # the fill of a step that halves height and width

FILL = {"io": "#eeeeee", "split": "#e8e1f2", "bypass": "#f6ecc8", "block": "#d5ecd4",
        "transition": "#d6e4f5", "pool": HALVES, "down": HALVES}
EDGE = "#555555"
HALVES_EDGE = "#c25e00"

MODEL = {"densenet": "#1f77b4", "cspdensenet": "#d95f02"}
"""A line of each network, in the split-cost curves and the explorer (``explorer.css``: the same)."""

ROLE_BARS = ("#bbbbbb", HALVES, FILL["split"], "#8cc084", "#9dbfe6", "#4f7fbf", EDGE)
"""Stacked bars by role (``measure.roles.ROLES``: stem, down, split, blocks, transition, fusion,
classifier): the boxes' colours where they read as bars, darker where a pale fill would not."""

__all__ = ["EDGE", "FILL", "HALVES", "HALVES_EDGE", "MODEL", "ROLE_BARS"]
