"""Checkpoints that survive a crash: written to a temporary file, then renamed over the old one.

``os.replace`` is atomic on one file system: a reader (or a resumed run) sees either the whole
previous checkpoint or the whole new one, never half of each. A file damaged some other way (a
full disk, a copy cut short) is refused by ``load`` with a message, not loaded in part.
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch


class CheckpointError(ValueError):
    """A checkpoint that is missing, damaged, or not one of ours."""


def rng_states() -> dict[str, Any]:
    """Every random generator a run draws from: Python's, NumPy's, torch's CPU and CUDA ones."""
    states = {"python": random.getstate(), "numpy": np.random.get_state(),
              "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    """Put back what ``rng_states`` saved."""
    random.setstate(states["python"])
    np.random.set_state(states["numpy"])
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def save_atomic(state: dict[str, Any], path: str | Path) -> None:
    """Write ``state`` with ``torch.save`` to ``path.tmp``, flush it to disk, then rename it."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as f:
            torch.save(state, f)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:  # a full disk, Ctrl-C: the previous checkpoint stays as it was
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by ``save_atomic``, on the CPU; ``CheckpointError`` if it is damaged."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # a truncated zip archive, an unpickling error, ...
        raise CheckpointError(f"{path} is damaged (truncated or not a checkpoint) and was not "
                              f"loaded: {type(error).__name__}: {str(error).splitlines()[0]}"
                              ) from error
    if isinstance(state, dict) and state and all(isinstance(v, torch.Tensor)
                                                 for v in state.values()):
        return {"model": state}  # a plain state dict
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(f"{path} holds no model state; not a checkpoint of this command")
    return state


__all__ = ["CheckpointError", "load_checkpoint", "rng_states", "save_atomic", "set_rng_states"]
