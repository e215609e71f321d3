"""Check that installed packages still have their pinned versions: ``python scripts/check_pins.py FILE``.

FILE lists ``name==version`` pins, one a line (``#`` starts a comment), as
``tests/colab_runtime.txt`` does. ``make test-colab`` runs this after ``pip install .`` over those
packages: if a bound in ``pyproject.toml`` does not admit one of the pinned versions, pip has
replaced it, and this fails naming the package, the pinned and the installed version. A local
version label (``2.13.0+cpu``) counts as its release (``2.13.0``).
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def read_pins(path: Path) -> dict[str, str]:
    """``{name: version}`` from a file of ``name==version`` lines."""
    pins = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, wanted = line.partition("==")
        if not sep or not name.strip() or not wanted.strip():
            raise ValueError(f"{path}, line {number}: pins must look like 'name==1.2.3', got {line!r}")
        pins[name.strip()] = wanted.strip()
    return pins


def changed(pins: dict[str, str]) -> list[str]:
    """One sentence per pin that the installed package no longer matches."""
    problems = []
    for name, wanted in pins.items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            problems.append(f"{name}: pinned {wanted}, not installed")
            continue
        if installed.split("+")[0] != wanted:
            problems.append(f"{name}: pinned {wanted}, installed {installed} "
                            f"(does a bound in pyproject.toml exclude {wanted}?)")
    return problems


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    pins = read_pins(Path(sys.argv[1]))
    problems = changed(pins)
    for problem in problems:
        print(f"check_pins: {problem}", file=sys.stderr)
    print(f"check_pins: {len(pins) - len(problems)} of {len(pins)} pinned versions kept")
    sys.exit(1 if problems else 0)
