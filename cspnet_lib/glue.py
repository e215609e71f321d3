"""``glue`` for the notebooks: myst-nb's where it is installed, a plain stand-in elsewhere.

In the book, ``glue(name, value)`` hands a computed number to the prose ({glue:text}`name`).
myst-nb is a book-building dependency, not one of this library's, so in Colab it is absent:
there the stand-in simply shows the value (unless ``display=False``), and the notebook runs.

``glue_values`` hands over many at once, so a chapter's hidden cell reads as one dictionary of
named numbers instead of a run of ``glue(...)`` lines.
"""

from __future__ import annotations

from typing import Any, Mapping

try:
    from myst_nb import glue
except ImportError:  # Colab and other plain Jupyter installs

    def glue(name: str, variable: Any, display: bool = True) -> None:
        """Show ``variable`` if ``display``; the book's prose is not built here, so ``name`` is unused."""
        if display:
            from IPython.display import display as show

            show(variable)


def glue_values(values: Mapping[str, Any]) -> None:
    """``glue(name, value, display=False)`` for every item of ``values``, in order.

    Round floats to the precision the prose shows before passing them in (the book's tests
    check that a glued float equals its rounded value).
    """
    if not isinstance(values, Mapping):
        raise TypeError(f"values must be a mapping of glue names to values, got {type(values).__name__}")
    for name in values:
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"glue names must be identifiers like 'flops_saving', got {name!r}")
    for name, value in values.items():
        glue(name, value, display=False)


__all__ = ["glue", "glue_values"]
