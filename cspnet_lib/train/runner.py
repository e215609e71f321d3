"""One training run of ``python -m cspnet_lib.train``, in one process or in many under torchrun.

Every process builds the same model from the same seed, reads its own share of every epoch's
shuffled images (``DistributedSampler``: process r of N takes images r, r + N, r + 2N, ... of
the epoch's order) and runs the same training step. ``DistributedDataParallel`` averages the
gradients over the processes during ``backward()``, in buckets, while the rest of the backward
pass runs, so every process applies the same update and the weights never drift apart. With
per-process batch b on N processes, one step sees the same N*b images as one process with
batch N*b: the same step, except for batch norm, whose statistics are per process.
"""

from __future__ import annotations

import json
import platform
import signal
import sys
import time
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset
from torch.utils.data.distributed import DistributedSampler

from . import checkpoint
from .distributed import World, all_sum, any_true
from .registry import TrainData


@dataclass
class TrainOptions:
    """Every setting of a run (the command line's options, see ``cli.py``)."""

    model: str = "cspdensenet"
    data: str = "digits"
    settings: dict[str, Any] = field(default_factory=dict)
    epochs: int = 4
    batch_size: int = 128
    lr: float = 2e-2
    weight_decay: float = 1e-4
    seed: int = 0
    out: str | None = None
    resume: bool = False
    amp: bool = False
    channels_last: bool = False
    compile: bool = False
    grad_accum: int = 1
    workers: int = 0
    freeze_bn: bool = False


class Stop:
    """Set by SIGTERM or Ctrl-C; the loop checks it at every step boundary."""

    def __init__(self) -> None:
        self.requested = False
        self.signal = ""

    def __call__(self, signum: int, frame: Any) -> None:
        self.requested, self.signal = True, signal.Signals(signum).name

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self)
        signal.signal(signal.SIGINT, self)


def set_train_mode(model: nn.Module, freeze_bn: bool) -> None:
    """Training mode; with ``freeze_bn`` batch norm keeps using its running statistics."""
    model.train()
    if freeze_bn:
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.eval()


def autocast(device: torch.device, enabled: bool) -> Any:
    """bf16 autocast where the device supports it (CPU, recent GPUs), else fp16 on CUDA."""
    if not enabled:
        return nullcontext()
    if device.type == "cuda" and not torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.float16)
    return torch.autocast(device.type, dtype=torch.bfloat16)


@torch.no_grad()
def test_metrics(model: nn.Module, data: TrainData, world: World, batch_size: int,
                 channels_last: bool, amp: bool) -> tuple[float, float]:
    """Test loss and accuracy, each process scoring test images rank, rank + N, ... (summed)."""
    model.eval()
    share = Subset(data.test, range(world.rank, len(data.test), world.size))
    loss = correct = count = 0.0
    for x, y in DataLoader(share, batch_size=batch_size):
        x, y = x.to(world.device), y.to(world.device)
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(world.device, amp):
            logits = model(x)
        loss += float(F.cross_entropy(logits.float(), y, reduction="sum"))
        correct += float((logits.argmax(1) == y).sum())
        count += len(y)
    loss, correct, count = all_sum([loss, correct, count], world)
    return loss / count, correct / count


def batches(loader: DataLoader, skip: int, bar: bool = False,
            label: str = "") -> Iterator[tuple[int, Any]]:
    """The loader's batches numbered from 0, the first ``skip`` passed over (a resumed epoch);
    ``bar``: show tqdm's progress bar (rank 0, on a terminal)."""
    if bar:
        from tqdm import tqdm

        loader = tqdm(loader, desc=label, leave=False, initial=0)
    for i, batch in enumerate(loader):
        if i >= skip:
            yield i, batch


def run_training(options: TrainOptions, data: TrainData, net: nn.Module, world: World,
        resume_state: dict[str, Any] | None = None) -> int:
    """Train ``net`` on ``data`` as ``options`` says; returns the exit code (0)."""
    o, out = options, Path(options.out) if options.out else None
    say = print if world.main else (lambda *a, **k: None)
    net.to(world.device)
    if o.channels_last:
        net.to(memory_format=torch.channels_last)
    model: nn.Module = torch.compile(net) if o.compile else net
    if world.distributed:
        model = DistributedDataParallel(
            model, device_ids=[world.local_rank] if world.device.type == "cuda" else None)
    sampler = DistributedSampler(data.train, num_replicas=world.size, rank=world.rank,
                                 shuffle=True, seed=o.seed)
    loader = DataLoader(data.train, batch_size=o.batch_size, sampler=sampler, drop_last=True,
                        num_workers=o.workers, pin_memory=world.device.type == "cuda",
                        persistent_workers=o.workers > 0)
    if len(loader) < o.grad_accum:
        raise ValueError(f"{len(data.train)} training images make {len(loader)} batches of "
                         f"{o.batch_size} per process, fewer than --grad-accum {o.grad_accum}")
    steps_per_epoch = len(loader) // o.grad_accum
    optimizer = torch.optim.Adam(net.parameters(), lr=o.lr, weight_decay=o.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, o.epochs * steps_per_epoch)
    fp16 = o.amp and world.device.type == "cuda" and not torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=fp16)
    effective = o.batch_size * world.size * o.grad_accum
    say(f"{o.model} on {data.name}: {len(data.train)} training, {len(data.test)} test images of "
        f"{data.image_size}x{data.image_size}; {world.size} process(es) on {world.device.type}; "
        f"effective batch {effective} = {o.batch_size} per process x {world.size} x "
        f"{o.grad_accum} accumulated; lr {o.lr:g} for the effective batch")

    epoch, skip, sums, best = 0, 0, [0.0, 0.0], -1.0
    if resume_state is not None:
        net.load_state_dict(resume_state["model"])
        optimizer.load_state_dict(resume_state["optimizer"])
        schedule.load_state_dict(resume_state["scheduler"])
        scaler.load_state_dict(resume_state["scaler"])
        epoch, skip, sums = resume_state["epoch"], resume_state["batch"], resume_state["sums"]
        best = resume_state["best_accuracy"]
        checkpoint.set_rng_states(resume_state["rng"])
        say(f"resumed at epoch {epoch + 1}, batch {skip}")

    def state(batch: int) -> dict[str, Any]:
        return {"model": net.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": schedule.state_dict(), "scaler": scaler.state_dict(),
                "epoch": epoch, "batch": batch, "sums": sums, "best_accuracy": best,
                "rng": checkpoint.rng_states(), "options": asdict(o), "world_size": world.size}

    stop = Stop()
    stop.install()
    while epoch < o.epochs:
        start, images = time.perf_counter(), 0
        sampler.set_epoch(epoch)  # a new order every epoch, the same one in every process
        set_train_mode(model, o.freeze_bn)
        bar = world.main and sys.stderr.isatty()
        for i, (x, y) in batches(loader, skip, bar, f"epoch {epoch + 1}/{o.epochs}"):
            if i >= steps_per_epoch * o.grad_accum:
                break  # a batch left over from --grad-accum would leak into the next epoch's step
            x, y = x.to(world.device, non_blocking=True), y.to(world.device, non_blocking=True)
            if o.channels_last:
                x = x.contiguous(memory_format=torch.channels_last)
            last = (i + 1) % o.grad_accum == 0
            sync = nullcontext() if last or not world.distributed else model.no_sync()
            with sync:  # DDP all-reduces the gradients only on the last accumulated batch
                with autocast(world.device, o.amp):
                    loss = F.cross_entropy(model(x), y)
                scaler.scale(loss / o.grad_accum).backward()
            sums[0] += float(loss.detach()) * len(y)
            sums[1] += len(y)
            images += len(y)
            if last:
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad(set_to_none=True)
                schedule.step()
                if i + 1 < len(loader) and any_true(stop.requested, world):
                    if out and world.main:
                        checkpoint.save_atomic(state(i + 1), out / "checkpoint.pt")
                    say(f"{stop.signal or 'stop'}: checkpoint saved at epoch {epoch + 1}, batch "
                        f"{i + 1}; continue with --resume")
                    return 0
        seconds = time.perf_counter() - start
        train_loss_sum, train_count, images = all_sum([*sums, float(images)], world)
        scorer = model.module if world.distributed else model  # no DDP: shards may differ in size
        test_loss, accuracy = test_metrics(scorer, data, world, o.batch_size, o.channels_last,
                                           o.amp)
        line = {"epoch": epoch + 1, "train_loss": train_loss_sum / train_count,
                "test_loss": test_loss, "test_accuracy": accuracy,
                "lr": schedule.get_last_lr()[0], "images_per_s": images / seconds,
                "seconds": seconds}
        epoch, skip, sums = epoch + 1, 0, [0.0, 0.0]
        improved = accuracy > best
        best = max(best, accuracy)
        say(f"epoch {line['epoch']}/{o.epochs}: train loss {line['train_loss']:.4f}, test loss "
            f"{test_loss:.4f}, accuracy {accuracy:.2%}, lr {line['lr']:.3g}, "
            f"{line['images_per_s']:.0f} images/s, {seconds:.1f} s")
        if out and world.main:
            with open(out / "metrics.jsonl", "a", encoding="utf-8") as f:
                f.write(json.dumps(line) + "\n")
            if improved:
                checkpoint.save_atomic({"model": net.state_dict(), "epoch": epoch,
                                        "test_accuracy": accuracy, "options": asdict(o)},
                                       out / "best.pt")
            checkpoint.save_atomic(state(0), out / "checkpoint.pt")
        if epoch < o.epochs and any_true(stop.requested, world):
            say(f"{stop.signal}: checkpoint saved after epoch {epoch}; continue with --resume")
            return 0
    say(f"done: best test accuracy {best:.2%}")
    return 0


def run_config(options: TrainOptions, data: TrainData, world: World) -> dict[str, Any]:
    """What ``config.json`` records: every setting, the versions, the world size."""
    try:
        from importlib.metadata import version
        library = version("cspnet_lib")
    except Exception:  # run from a checkout that is not installed
        library = "unknown"
    return {"options": asdict(options), "world_size": world.size, "device": world.device.type,
            "effective_batch": options.batch_size * world.size * options.grad_accum,
            "train_images": len(data.train), "test_images": len(data.test),
            "image_size": data.image_size, "versions": {
                "cspnet_lib": library, "torch": torch.__version__,
                "python": platform.python_version()}, "argv": sys.argv[1:]}


__all__ = ["TrainOptions", "run_config", "run_training", "set_train_mode", "test_metrics"]
