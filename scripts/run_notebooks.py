"""Re-run chapters and store their outputs: ``python scripts/run_notebooks.py notebooks/04_*.ipynb``.

``make notebooks`` calls this for every chapter. Each notebook runs top to bottom in a fresh
kernel from the ``notebooks/`` folder (as nbval runs it), then two things are taken out again:

* the saved state of live ipywidgets (the channel explorer), which would only bloat the file and
  render a slider whose Python callback never runs: the rendered book uses the JavaScript
  explorer instead;
* the outputs of cells tagged ``remove-output`` (the same widget cells).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def strip_widgets(nb: nbformat.NotebookNode) -> None:
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        if cell.cell_type == "code" and "remove-output" in cell.metadata.get("tags", []):
            cell.outputs = []   # it ran (its execution_count stays): only the output goes


def run(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    strip_widgets(nb)
    path.write_text(nbformat.writes(nb) + "\n", encoding="utf-8")  # the committed layout
    return seconds


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for name in sys.argv[1:]:
        print(f"{name}: {run(Path(name)):.0f} s", flush=True)
