"""Training: the book's small seeded loop, and ``python -m cspnet_lib.train`` for real runs.

    loop.py         ``train_classifier``, ``evaluate``, ``TrainResult``: the seeded loop the
                    chapters call (same numbers on every run, one process)
    cli.py          the command line: ``python -m cspnet_lib.train --model NAME --data DATA``
    registry.py     the networks and the data sets by name, with ``--set key=value`` settings
    runner.py       one training run, one process or many (DistributedDataParallel)
    distributed.py  torchrun's environment: process group, rank, all-reduce
    checkpoint.py   atomic checkpoints with every state a resumed run needs

Only ``loop``'s names are imported here, so ``import cspnet_lib.train`` stays light.
"""

from __future__ import annotations

from .loop import TrainResult, evaluate, train_classifier

__all__ = ["TrainResult", "evaluate", "train_classifier"]
