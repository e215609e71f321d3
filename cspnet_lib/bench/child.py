"""Measurements in a fresh Python process: the parent's ``run_child`` and the child's ``main``.

A fresh process inherits no other model's allocations, kernel choices or memory layout. Both
measurements that need one (the timing rounds of ``timing.py`` and the training-step memory of
``memory.py``) use this one protocol: the parent runs

    python -c "from cspnet_lib.bench.child import main; main()" '{"job": "timing", ...}'

with the thread count fixed in the environment; the child runs the job, prints a line ``step``
after every unit of work (for the parent's progress bar) and, last, its result as one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from typing import Any, Callable

CHILD_CODE = "from cspnet_lib.bench.child import main; main()"
STEP = "step"


def child_env(threads: int) -> dict[str, str]:
    """This process's environment with OpenMP's and MKL's thread counts set to ``threads``."""
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}


def run_child(job: str, payload: dict[str, Any], threads: int, what: str,
              on_step: Callable[[], None] | None = None) -> Any:
    """Run ``job`` (``"timing"`` or ``"memory"``) on ``payload`` in a fresh Python process.

    ``on_step`` is called for every ``step`` line the child prints; returns the child's last
    line, parsed as JSON. Raises ``RuntimeError`` with the end of the child's stderr, naming
    ``what`` failed, if the child exits with an error."""
    arg = json.dumps({"job": job, "threads": threads, **payload})
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, "-c", CHILD_CODE, arg], stdout=subprocess.PIPE,
                                 stderr=err, text=True, env=child_env(threads))
        last = ""
        assert child.stdout is not None
        for line in child.stdout:
            if line.strip() == STEP:
                if on_step:
                    on_step()
            else:
                last = line
        if child.wait() != 0:
            err.seek(0)
            raise RuntimeError(f"{what} failed:\n{err.read()[-2000:]}")
    return json.loads(last)


def main(argv: list[str] | None = None) -> None:
    """The child's side: read the job from ``argv[0]`` (default ``sys.argv[1]``), print its result."""
    import torch

    from .memory import memory_job
    from .timing import timing_job

    task = json.loads((sys.argv[1:] if argv is None else argv)[0])
    torch.set_num_threads(task["threads"])
    torch.manual_seed(0)
    jobs = {"timing": timing_job, "memory": memory_job}
    result = jobs[task["job"]](task, lambda: print(STEP, flush=True))
    print(json.dumps(result), flush=True)
