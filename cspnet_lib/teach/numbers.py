"""The small arithmetic the chapters' cells share: a percent change and a percent share.

Plain Python on plain numbers (no numpy), so a notebook cell reads the same with any of them.
A mean is the standard library's ``statistics.mean`` (also importable from here, as before).
"""

from __future__ import annotations

from statistics import mean

__all__ = ["mean", "pct", "percent_of"]


def pct(new: float, old: float) -> float:
    """Percent change from ``old`` to ``new``: 100 * (new / old - 1); -10.0 is 10% less."""
    if old == 0:
        raise ValueError(f"old must not be 0 (a change in percent of nothing), got {old!r}")
    return 100 * (new / old - 1)


def percent_of(part: float, whole: float) -> float:
    """``part`` as a percentage of ``whole``: 100 * part / whole."""
    if whole == 0:
        raise ValueError(f"whole must not be 0, got {whole!r}")
    return 100 * part / whole
