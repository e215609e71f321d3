"""Checking a reader's settings before anything is built.

Every public function of ``cspnet_lib`` calls these first, so a typo gives one clear sentence
(which parameter, which value, what is allowed) instead of a stack trace from deep inside torch.
A wrong *type* raises ``TypeError``; a value of the right type outside its range raises
``ValueError``. Torch-free on purpose: the plan, the sliders and the models share them.
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterable, Sequence

FUSIONS = ("csp", "first", "last")
"""The CSP fusion strategies: Figure 3 (b), (c) and (d) of the CSPNet paper."""

STEMS = ("imagenet", "small")
"""``"imagenet"``: 7x7 stride-2 conv and 3x3 stride-2 max pool (4x smaller).
``"small"``: one 3x3 stride-1 conv, no pooling, for 8x8 digits or 32x32 CIFAR images."""


class ImageTooSmall(ValueError):
    """An ``image_size`` that some downsampling of the network would shrink to nothing: a
    ``ValueError`` that ``min_image_size`` can tell from every other one."""


def check_int(name: str, value: Any, minimum: int = 1, maximum: int | None = None) -> int:
    """Return ``value`` if it is an int in ``[minimum, maximum]``, else raise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if value < minimum or (maximum is not None and value > maximum):
        allowed = f">= {minimum}" if maximum is None else f"between {minimum} and {maximum}"
        raise ValueError(f"{name} must be an int {allowed}, got {value}")
    return value


def check_fraction(name: str, value: Any, *, include_one: bool = True) -> float:
    """Return ``value`` as a float if it lies in ``(0, 1]`` (or ``(0, 1)``), else raise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    upper_ok = value <= 1.0 if include_one else value < 1.0
    if math.isnan(value) or not (0.0 < value and upper_ok):
        interval = "0 < value <= 1" if include_one else "0 < value < 1"
        raise ValueError(f"{name} must satisfy {interval}, got {value}")
    return value


def check_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_repeats(value: Any, maximum: int = 128) -> tuple[int, ...]:
    """Return the bottlenecks per dense block as a tuple, e.g. ``(6, 12, 24, 16)``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(f"repeats must be a sequence of ints such as (6, 12, 24, 16), got {value!r}")
    repeats = tuple(value)
    if not 1 <= len(repeats) <= 8:
        raise ValueError(f"repeats must list between 1 and 8 stages, got {len(repeats)}: {repeats!r}")
    for i, n in enumerate(repeats):
        check_int(f"repeats[{i}]", n, minimum=1, maximum=maximum)
    return repeats


def closest_name(name: str, allowed: Iterable[str]) -> str | None:
    """The allowed name a typo most likely meant, or None.

    A name that starts the other (``growth`` for ``growth_rate``), else the nearest by edit
    distance if at most a third of the typo's letters differ (``fusoin`` for ``fusion``). Kept
    simple on purpose: ``book/explorer/plan.js`` ports it line by line.
    """
    names = sorted(allowed)
    for candidate in names:
        if candidate.startswith(name) or name.startswith(candidate):
            return candidate
    best, best_distance = None, max(1, len(name) // 3) + 1
    for candidate in names:
        distance = edit_distance(name, candidate)
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance: the fewest insertions, deletions and substitutions from a to b."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def check_unknown(kind: str, config: dict, allowed: Iterable[str]) -> None:
    """Reject keywords a constructor does not take (a typo such as ``growth=12``), naming the
    setting it most likely meant."""
    allowed = list(allowed)
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        named = []
        for name in unknown:
            guess = closest_name(name, allowed)
            named.append(name if guess is None else f"{name} (did you mean {guess}?)")
        raise TypeError(
            f"{kind} got unknown setting(s) {', '.join(named)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )


# --- will it fit? -------------------------------------------------------------------------------

def memory_bytes() -> int | None:
    """This machine's physical memory in bytes, or None where the OS does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def memory_size(n_bytes: float) -> str:
    """``1.2 GB``, ``34.5 MB``: a size in bytes for a sentence."""
    return f"{n_bytes / 1e9:,.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:,.1f} MB"


def check_fits(what: str, n_bytes: int, suggestion: str, share: float = 0.5) -> None:
    """Refuse, before anything is allocated, what needs more than ``share`` of this machine's memory."""
    total = memory_bytes()
    if total is not None and n_bytes > share * total:
        raise ValueError(
            f"{what} would need about {memory_size(n_bytes)}, more than "
            f"{'half' if share == 0.5 else f'{share:.0%}'} of this machine's "
            f"{memory_size(total)}; {suggestion}"
        )
