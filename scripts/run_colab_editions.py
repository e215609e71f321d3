"""Run the Colab editions as Colab would: ``python scripts/run_colab_editions.py [colab/NN_*.ipynb ...]``.

``make test-colab`` calls this with the Python of ``.venv-colab``, an environment built like a
Colab runtime: Colab's ipywidgets 7.7.1 and IPython 7, the package installed as the setup cell
installs it (no myst-nb, no jupyter-book). Each edition runs top to bottom in a fresh kernel of that Python,
in an empty folder (Colab's ``/content`` holds no copy of the repository), and fails on:

* any cell that raises, or a cell that runs longer than ``--timeout`` seconds;
* a kernel that is not the one Colab would have: myst-nb importable, or ``cspnet_lib`` imported
  from this checkout instead of the installed package;
* a chapter that calls ``channel_explorer`` but displays no widget.

Nothing is written back: the editions stay without outputs. Prints seconds per chapter, the
total, the versions the kernel ran with, and the first line of anything a cell wrote to stderr
(a warning a Colab reader would see; not a failure).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError

ROOT = Path(__file__).resolve().parents[1]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PROBE_TAG = "run-colab-editions-probe"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of IPython's tracebacks

# Appended to every edition in memory: what the kernel ran with, as one JSON line.
PROBE = """\
import importlib.util, json, sys
import cspnet_lib, ipywidgets, IPython, torch
print(json.dumps({"python": sys.version.split()[0], "torch": torch.__version__,
                  "ipywidgets": ipywidgets.__version__, "IPython": IPython.__version__,
                  "cspnet_lib": cspnet_lib.__file__,
                  "myst_nb": importlib.util.find_spec("myst_nb") is not None}))
"""


@dataclass
class Run:
    """One edition's run: how long it took, what its kernel reported, and what went wrong."""

    name: str
    seconds: float
    versions: dict
    widgets: int
    problems: list[str]
    stderr: list[str]


def _text(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source


def run_edition(path: Path, timeout: int) -> Run:
    """Execute one edition in a fresh kernel, in an empty working folder."""
    nb = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell(PROBE, metadata={"tags": [PROBE_TAG]})
    nb.cells.append(probe)
    problems: list[str] = []
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="colab-content-") as content:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": content}})
        try:
            client.execute()
        except CellTimeoutError as error:
            problems.append(f"a cell ran longer than {timeout} s: {str(error).splitlines()[0]}")
        except CellExecutionError as error:
            problems.append("a cell raised:\n" + ANSI.sub("", str(error))[-3000:])
    seconds = time.perf_counter() - start

    printed = "".join(o.get("text", "") for o in probe.get("outputs", []) if o.get("name") == "stdout")
    versions: dict = json.loads(printed.strip().splitlines()[-1]) if printed.strip() else {}
    if not problems:
        if not versions:
            problems.append("the version probe printed nothing")
        elif versions["myst_nb"]:
            problems.append("myst_nb is importable: Colab has no myst-nb")
        elif Path(versions["cspnet_lib"]).resolve().parent == ROOT / "cspnet_lib":
            problems.append(f"cspnet_lib came from this checkout ({versions['cspnet_lib']}), "
                            "not from the installed package")

    widgets = sum(WIDGET_VIEW in output.get("data", {})
                  for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)
    calls_explorer = any("channel_explorer(" in _text(cell.source) for cell in nb.cells
                         if cell.cell_type == "code" and PROBE_TAG not in cell.metadata.get("tags", []))
    if not problems and calls_explorer and not widgets:
        problems.append("channel_explorer was called but no widget was displayed")
    stderr = [f"cell {index}: {output['text'].strip().splitlines()[0]}"
              for index, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for output in cell.outputs if output.get("name") == "stderr" and output["text"].strip()]
    return Run(path.name, seconds, versions, widgets, problems, stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("editions", nargs="*", type=Path,
                        help="editions to run (default: every colab/NN_*.ipynb)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds one cell may run (default 900)")
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {args.timeout}")
    paths = args.editions or sorted((ROOT / "colab").glob("[0-9][0-9]_*.ipynb"))
    if not paths:
        raise ValueError("editions: no colab/NN_*.ipynb found; run `make colab` first")

    runs = []
    for path in paths:
        run = run_edition(path, args.timeout)
        status = "ok" if not run.problems else "FAILED"
        shown = f", {run.widgets} widget(s) shown" if run.widgets else ""
        print(f"{run.name:<32} {run.seconds:6.0f} s  {status}{shown}", flush=True)
        for problem in run.problems:
            print("    " + problem.replace("\n", "\n    "), flush=True)
        for line in run.stderr:
            print(f"    stderr, {line}", flush=True)
        runs.append(run)

    total = sum(r.seconds for r in runs)
    print(f"{'total':<32} {total:6.0f} s")
    versions = next((r.versions for r in runs if r.versions), {})
    if versions:
        print("kernel: " + ", ".join(f"{k} {versions[k]}" for k in ("python", "torch", "ipywidgets", "IPython")))
    failed = [r.name for r in runs if r.problems]
    if failed:
        print(f"{len(failed)} of {len(runs)} editions failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
