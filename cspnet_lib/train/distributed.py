"""torchrun's environment: one process per device, each told its rank in environment variables.

``torchrun --nproc_per_node=N`` starts N copies of the same command with ``RANK``,
``LOCAL_RANK`` and ``WORLD_SIZE`` set (and ``MASTER_ADDR``/``MASTER_PORT`` for the rendezvous).
Without them this is a single process and nothing here talks to anyone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class World:
    """Who this process is: ``rank`` of ``size`` processes, on ``device``."""

    rank: int
    size: int
    local_rank: int
    device: torch.device

    @property
    def main(self) -> bool:
        """Rank 0: the one process that prints and writes files."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


def setup_world(device: str | None = None) -> World:
    """Join torchrun's process group if there is one: nccl on CUDA, gloo on CPU, automatically.

    ``device``: ``"cpu"`` or ``"cuda"``; default CUDA where available. Each process takes the GPU
    of its ``LOCAL_RANK``."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    kind = device or ("cuda" if torch.cuda.is_available() else "cpu")
    where = torch.device(kind, local_rank) if kind == "cuda" else torch.device(kind)
    if kind == "cuda":
        torch.cuda.set_device(where)
    if size > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if kind == "cuda" else "gloo")
    return World(rank, size, local_rank, where)


def all_sum(values: list[float], world: World) -> list[float]:
    """The sums of ``values`` over all processes (the values themselves in one process)."""
    if not world.distributed:
        return list(values)
    tensor = torch.tensor(values, dtype=torch.float64,
                          device=world.device if world.device.type == "cuda" else "cpu")
    dist.all_reduce(tensor)
    return tensor.tolist()


def any_true(flag: bool, world: World) -> bool:
    """True if ``flag`` is true in any process: every rank stops at the same step."""
    return all_sum([float(flag)], world)[0] > 0


def leave_world(world: World) -> None:
    """Leave the process group (lets torchrun's processes exit cleanly)."""
    if world.distributed and dist.is_initialized():
        dist.destroy_process_group()


__all__ = ["World", "all_sum", "any_true", "leave_world", "setup_world"]
