"""The two kinds of stored output, checked on the committed notebooks (no kernel needed).

nbval compares every stored output byte for byte, except in cells tagged ``nbval-ignore-output``.
So a notebook's code cells come in two kinds:

* *exact* cells (no tag): integers, shapes, closed-form counts, text; the same on every CPU;
* *floating* cells (``nbval-ignore-output``): anything trained, summed over random data in
  floating point, or timed. Their printout differs from one CPU to the next, so it is not
  compared; instead the cell itself or the code cell after it asserts, with a tolerance, exactly
  what the prose claims.

A glued float is stored as the number itself, so it must be the rounded number the page shows:
``{glue:text}`name:.1f``` means ``glue("name", round(value, 1))``.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
FLOATING = "nbval-ignore-output"
GLUE_MIME = "application/papermill.record/text/plain"
# {glue}`name`, {glue:text}`name:.1f`, {glue:any}`name` ...
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`([A-Za-z_][\w]*)(?::([^`]*))?`")


def load(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def code_cells(notebook: Path) -> list[dict]:
    return [c for c in load(notebook) if c["cell_type"] == "code"]


def asserts(code: str) -> bool:
    """Does this cell's code hold an ``assert`` statement (IPython magics stripped)?"""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    return any(isinstance(node, ast.Assert) for node in ast.walk(ast.parse("\n".join(lines))))


def kinds(notebook: Path) -> tuple[int, int]:
    """(exact, floating) code cells of a notebook: the numbers the closing notes report."""
    cells = code_cells(notebook)
    floating = sum(FLOATING in tags(c) for c in cells)
    return len(cells) - floating, floating


def decimals_of(spec: str | None) -> int:
    """How many decimals a glue format spec shows: ".1f" -> 1, ".0%" -> 2, "," or none -> 4."""
    match = re.search(r"\.(\d+)([f%eg]?)", spec or "")
    if not match:
        return 4
    digits = int(match.group(1))
    return digits + 2 if match.group(2) == "%" else digits


def glued_values(notebook: Path) -> dict[str, str]:
    values = {}
    for cell in code_cells(notebook):
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get(GLUE_MIME)
            if text is not None:
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                values[name] = "".join(text) if isinstance(text, list) else text
    return values


def test_the_classification_counts_every_code_cell():
    for notebook in NOTEBOOKS:
        exact, floating = kinds(notebook)
        assert exact + floating == len(code_cells(notebook)) and exact > 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_markers_are_tags_not_comments(notebook: Path):
    """nbval's markers live in the cell tags, out of the code the reader sees."""
    for cell in code_cells(notebook):
        assert "NBVAL_" not in source(cell), f"{notebook.name}: use the tag, not {source(cell)[:60]!r}"
        assert "nbval-skip" not in tags(cell), f"{notebook.name}: a skipped cell is never checked"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_every_floating_cell_is_followed_by_an_assertion(notebook: Path):
    cells = code_cells(notebook)
    for i, cell in enumerate(cells):
        if FLOATING not in tags(cell):
            continue
        if "channel_explorer(" in source(cell) and "remove-output" in tags(cell):
            continue  # a live widget: tests/test_widgets.py checks the function behind it
        following = source(cells[i + 1]) if i + 1 < len(cells) else ""
        assert asserts(source(cell)) or asserts(following), (
            f"{notebook.name}: floating cell {i} has no assertion in it or right after it:\n"
            f"{source(cell)[:300]}"
        )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[nb.name for nb in NOTEBOOKS])
def test_glued_floats_are_the_rounded_numbers_the_page_shows(notebook: Path):
    prose = "\n".join(source(c) for c in load(notebook) if c["cell_type"] == "markdown")
    shown: dict[str, int] = {}
    for name, spec in GLUE_ROLE.findall(prose):
        shown[name] = max(shown.get(name, 0), decimals_of(spec))
    for name, text in glued_values(notebook).items():
        try:
            value = float(text)
        except ValueError:
            continue  # a string or a Markdown snippet
        if re.fullmatch(r"-?\d+", text.strip()):
            continue  # an int is exact
        places = shown.get(name, 4)
        assert value == round(value, places), (
            f"{notebook.name}: glue {name!r} stores {text}; the page shows {places} decimals, "
            f"so glue round(value, {places})"
        )


def test_decimals_of_reads_format_specs():
    assert [decimals_of(s) for s in (".1f", ".0f", ",.0f", ".0%", ".3f", ",", None)] == [
        1, 0, 0, 2, 3, 4, 4]
