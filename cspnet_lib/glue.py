"""``glue`` for the notebooks: myst-nb's where it is installed, a plain stand-in elsewhere.

In the book, ``glue(name, value)`` hands a computed number to the prose ({glue:text}`name`).
myst-nb is a book-building dependency, not one of this library's, so in Colab it is absent:
there the stand-in simply shows the value (unless ``display=False``), and the notebook runs.
"""

from __future__ import annotations

from typing import Any

try:
    from myst_nb import glue
except ImportError:  # Colab and other plain Jupyter installs

    def glue(name: str, variable: Any, display: bool = True) -> None:
        """Show ``variable`` if ``display``; the book's prose is not built here, so ``name`` is unused."""
        if display:
            from IPython.display import display as show

            show(variable)


__all__ = ["glue"]
