"""Tables for the book's pages: HTML that fits the text column, with a plain-text twin.

``html_table(header, rows)`` returns a ``Table``. Jupyter, Colab and the book show its HTML;
anything else (a terminal, nbval's comparison of stored outputs) sees its plain text. The HTML is
made to fit a narrow column: headers wrap between words, cells do not, numbers sit at the right,
and a cell given as a tuple or list of strings shows one string per line (a long value split
where it reads best, instead of a wide column). If a table is still wider than the screen (a
phone), it scrolls inside its own box, which the keyboard can reach.

Cell text is escaped: pass plain strings (Unicode is fine: "×", "→", "−"). A table whose
header and cells are HTML (``x<sub>1</sub>``, ``<code>``) says so with ``markup=True``: its HTML
is used as given, and its plain-text twin drops the tags.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Sequence

_NUMBER = re.compile(r"^[<>=≤~+\-−x×]*\d[\d,.]*%?$")  # 1,234  -10.5%  x0.93  <=512
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _lines(cell: Any) -> list[str]:
    if isinstance(cell, (list, tuple)):
        return [str(x) for x in cell]
    return [str(cell)]


def _numeric(cell: Any) -> bool:
    return bool(_NUMBER.match(_lines(cell)[0].strip().split(' ')[0]))


def _plain(markup: str) -> str:
    """The text of an HTML fragment: a line break as " / ", other tags dropped, entities read
    (``x<sub>1</sub>`` -> ``x1``)."""
    return html.unescape(_TAG.sub("", _BREAK.sub(" / ", markup)))


@dataclass(frozen=True)
class Table:
    """A table with a header row; ``_repr_html_`` for notebooks, ``str``/``repr`` as text."""

    header: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    caption: str = ""
    note: str = ""
    markup: bool = False

    def _html(self, text: str) -> str:
        return text if self.markup else html.escape(text)

    def _text(self, text: str) -> str:
        return _plain(text) if self.markup else text

    def _repr_html_(self) -> str:
        cell_style = "padding: 2px 8px; vertical-align: top"
        numeric = [all(_numeric(self._text(_lines(row[i])[0])) for row in self.rows
                       if _lines(row[i])[0].strip() not in ("", "-", "\u2014"))
                   for i in range(len(self.header))]

        def td(i: int, cell: Any) -> str:
            align = "right" if numeric[i] and i > 0 else "left"
            text = "<br>".join(self._html(x) for x in _lines(cell))
            return f'<td style="{cell_style}; text-align: {align}; white-space: nowrap">{text}</td>'

        head = "".join(
            f'<th style="{cell_style}; text-align: {"right" if numeric[i] and i > 0 else "left"}; '
            f'white-space: normal">{self._html(h)}</th>' for i, h in enumerate(self.header))
        body = "".join("<tr>" + "".join(td(i, c) for i, c in enumerate(row)) + "</tr>"
                       for row in self.rows)
        caption = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        label = html.escape(self.caption or ", ".join(map(self._text, self.header[:3])), quote=True)
        note = f"<p><small>{html.escape(self.note)}</small></p>" if self.note else ""
        return (f'<div class="cspnet-table" role="region" tabindex="0" aria-label="{label}" '
                f'style="overflow-x: auto; max-width: 100%">'
                f'<table style="font-size: 0.85em; width: auto; margin: 0">{caption}'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{note}")

    def __str__(self) -> str:
        flat = [[self._text(h) for h in self.header]] + [
            [" / ".join(map(self._text, _lines(c))) for c in row] for row in self.rows]
        widths = [max(len(r[i]) for r in flat) for i in range(len(self.header))]
        lines = ["  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in flat]
        lines.insert(1, "  ".join("-" * w for w in widths))
        top = [self.caption] if self.caption else []
        bottom = [self.note] if self.note else []
        return "\n".join(top + lines + bottom)

    __repr__ = __str__


def html_table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, caption: str = "",
               note: str = "", markup: bool = False) -> Table:
    """A ``Table`` of ``rows`` under ``header``; ``caption`` above it, ``note`` in small print below.

    Every row must have one cell per header entry. A cell is anything ``str`` can show, or a
    tuple/list of strings shown one per line. ``markup=True``: header and cells are HTML, used
    as given (caption and note are still plain text).
    """
    header = tuple(str(h) for h in header)
    if not header:
        raise ValueError("header must name at least one column")
    rows = tuple(tuple(row) for row in rows)
    for i, row in enumerate(rows):
        if len(row) != len(header):
            raise ValueError(f"row {i} has {len(row)} cells, the header {len(header)}: {row!r}")
    if not isinstance(markup, bool):
        raise ValueError(f"markup must be True or False, got {markup!r}")
    return Table(header, rows, str(caption), str(note), markup)


__all__ = ["Table", "html_table"]
