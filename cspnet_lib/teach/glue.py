"""``glue`` for the notebooks: myst-nb's where it is installed, a plain stand-in elsewhere.

In the book, ``glue(name, value)`` hands a computed number to the prose ({glue:text}`name`).
myst-nb is a book-building dependency, not one of this library's, so in Colab it is absent:
there the stand-in shows the value, and the notebook runs. With ``display=True`` it displays the
value itself; with ``display=False`` (a number meant for the prose only) it prints one compact line
``name = value``, so a reader can set their own run beside the book's number in the Colab
edition's text.

``glue_values`` hands over many at once, so a chapter's hidden cell reads as one dictionary of
named numbers instead of a run of ``glue(...)`` lines.
"""

from __future__ import annotations

import numbers
from typing import Any, Mapping

try:
    from myst_nb import glue
except ImportError:  # Colab and other plain Jupyter installs

    def glue(name: str, variable: Any, display: bool = True) -> None:
        """Show ``variable`` if ``display``, else print ``name = value`` on one short line."""
        if display:
            from IPython.display import display as show

            show(variable)
        else:
            print(f"{name} = {compact(variable)}")


def compact(value: Any, width: int = 80) -> str:
    """``value`` on one line of at most ``width`` characters, as the stand-in ``glue`` prints it.

    Markdown and other IPython display objects show their text (``Markdown("1 epoch")`` gives
    ``1 epoch``), strings and numbers (numpy's too) as ``str`` shows them, anything else its
    ``repr``. Runs of white space become one space.
    """
    data = getattr(value, "data", None)
    if isinstance(value, (str, numbers.Number)):
        text = str(value)
    elif type(value).__module__.startswith("IPython") and isinstance(data, str):
        text = data
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "\u2026"


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


__all__ = ["compact", "glue", "glue_values"]
