"""How large a figure's text is on the book's page, in CSS pixels.

A notebook shows a matplotlib figure as a PNG saved at ``fig.dpi`` with a tight bounding box.
The page draws that PNG at its own size, or shrinks it to the width of the text column when it
is wider. So one point of font size becomes ``dpi / 72`` pixels, times the shrink factor:

    text_px = fontsize_pt * dpi / 72 * min(1, column_px / png_width_px)

The book's floor is ``MIN_TEXT_PX`` at the desktop column (``COLUMN_PX``, the content column of a
1366-pixel-wide window). ``tests/test_plots.py`` holds every figure function of the library to it.
"""

from __future__ import annotations

from matplotlib.figure import Figure

COLUMN_PX = 757      # the chapter column of sphinx-book-theme at a 1366 px wide window
MIN_TEXT_PX = 9.0    # the smallest text a reader should have to read on the page
TIGHT_PAD_IN = 0.1   # matplotlib's default pad_inches around a tight bounding box


def png_width_px(fig: Figure) -> float:
    """Width in pixels of the PNG a notebook stores for ``fig`` (tight bounding box)."""
    fig.canvas.draw()
    box = fig.get_tightbbox(fig.canvas.get_renderer())   # in inches
    return (box.width + 2 * TIGHT_PAD_IN) * fig.dpi


def text_sizes_px(fig: Figure, column_px: float = COLUMN_PX) -> list[tuple[float, str]]:
    """(size on the page in px, text) of every text the figure draws, smallest first.

    Only what is drawn counts: the figure is rendered once and every call to the renderer's
    ``draw_text`` is recorded (the tick labels of a hidden axis, for example, are never drawn).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if isinstance(column_px, bool) or not isinstance(column_px, (int, float)) or not column_px > 0:
        raise ValueError(f"column_px must be a positive width in pixels, got {column_px!r}")
    shrink = min(1.0, column_px / png_width_px(fig))
    renderer = fig.canvas.get_renderer()
    drawn: list[tuple[float, str]] = []
    draw_text = renderer.draw_text

    def record(gc, x, y, text, prop, *args, **kwargs):  # the renderer's own signature
        if text.strip():
            drawn.append((prop.get_size_in_points() * fig.dpi / 72 * shrink, text))
        return draw_text(gc, x, y, text, prop, *args, **kwargs)

    renderer.draw_text = record
    try:
        fig.draw(renderer)
    finally:
        del renderer.draw_text   # back to the class's method
    return sorted(drawn)


def smallest_text_px(fig: Figure, column_px: float = COLUMN_PX) -> float:
    """Size on the page, in px, of the smallest text of ``fig`` (``inf`` if it has none)."""
    sizes = text_sizes_px(fig, column_px)
    return sizes[0][0] if sizes else float("inf")


__all__ = ["COLUMN_PX", "MIN_TEXT_PX", "png_width_px", "smallest_text_px", "text_sizes_px"]
