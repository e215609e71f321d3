"""Two fixes to HTML that extensions write, found by axe-core in the rendered pages.

- docutils writes a bibliography as ``<div role="list">`` around ``<div role="doc-biblioentry">``
  entries. ``doc-biblioentry`` is deprecated in ARIA and is not a list item, so axe reports a
  critical ``aria-required-children`` and a screen reader finds an empty list: each entry
  becomes a ``listitem``.
- myst-nb's "Show code cell source" toggle is ``<summary aria-label="Toggle hidden content">``:
  a name that differs from the words on screen (axe ``label-content-name-mismatch``; a
  speech-input user says "show code cell source" and nothing answers). Without the aria-label
  the visible words are the name.

Both are exact strings those writers emit (docutils 0.21, myst-nb 1.4); if a new version changes
them, the axe test in tests/test_book_pages.py says so. Listed in _config.yml (local_extensions).
"""

from __future__ import annotations

from typing import Any

REPLACEMENTS = {
    'role="doc-biblioentry"': 'role="listitem"',
    '<summary aria-label="Toggle hidden content">': "<summary>",
}


def _rewrite(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    body = context.get("body")
    if body:
        for old, new in REPLACEMENTS.items():
            body = body.replace(old, new)
        context["body"] = body


def setup(app: Any) -> dict:
    app.connect("html-page-context", _rewrite)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
