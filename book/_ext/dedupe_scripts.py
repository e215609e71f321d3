"""Drop the second copy of inline scripts that Sphinx 7.4 writes twice into every page.

Extensions that add an inline script (``app.add_js_file(None, body=...)``) once the HTML builder
exists (sphinx-thebe, sphinx-togglebutton) get it stored under the file name ``None``; Sphinx 7.4's
``prepare_writing`` re-adds every registered script under the name ``''`` and so misses the
duplicate. In the browser, sphinx-thebe's second ``const THEBE_JS_URL = ...`` then throws
"Identifier 'THEBE_JS_URL' has already been declared". Listed in _config.yml (local_extensions).
"""

from __future__ import annotations

from typing import Any


def _dedupe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    seen: set = set()
    unique = []
    for js in context.get("script_files", []):
        attrs = getattr(js, "attributes", {})
        key = (getattr(js, "filename", js) or "", tuple(sorted(attrs.items())))
        if key not in seen:
            seen.add(key)
            unique.append(js)
    context["script_files"] = unique  # a new list: the builder's own stays untouched


def setup(app: Any) -> dict:
    # Late priority: after myst-nb adds a page's widget scripts in the same event.
    app.connect("html-page-context", _dedupe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
