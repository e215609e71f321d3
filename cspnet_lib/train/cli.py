"""``python -m cspnet_lib.train --model NAME --data DATA``: the book's networks on real data.

One process on the CPU or one GPU; the same command under ``torchrun --nproc_per_node=N``
trains with DistributedDataParallel (see ``runner.py``). Anything wrong with the input (an
unknown model or data set, a bad ``--set``, a missing folder, ``--resume`` without a
checkpoint, an ``--out`` that already holds a run) is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Sequence

import torch

from . import checkpoint
from .distributed import World, leave_world, setup_world
from .registry import (DATA_NAMES, MODEL_NAMES, TrainData, InputError, build_model, load_data,
                       parse_settings)
from .runner import TrainOptions, run_config, run_training, test_metrics

RUN_FILES = ("config.json", "metrics.jsonl", "checkpoint.pt", "best.pt")
"""What ``--out`` holds; ``--overwrite`` deletes these, and only these."""


def build_parser() -> argparse.ArgumentParser:
    """The command line's options."""
    p = argparse.ArgumentParser(
        prog="python -m cspnet_lib.train",
        description="Train one of the book's networks; under torchrun, on many processes (DDP).",
        epilog=f"Models: {', '.join(MODEL_NAMES)}. TrainData: {', '.join(DATA_NAMES)}.")
    a = p.add_argument
    a("--model", default="cspdensenet", metavar="NAME", help="default: %(default)s")
    a("--data", default="digits", help="digits (offline), cifar10, imagefolder:PATH; "
      "default: %(default)s")
    a("--set", nargs="+", default=[], metavar="KEY=VALUE", dest="settings",
      help="model settings, e.g. --set fusion=last repeats=2,2 growth_rate=4")
    a("--epochs", type=int, default=4, help="default: %(default)s")
    a("--batch-size", type=int, default=128, help="per process; default: %(default)s")
    a("--lr", type=float, default=2e-2, help="Adam's learning rate for the effective batch "
      "(per process x processes x --grad-accum), cosine to 0; default: %(default)s")
    a("--weight-decay", type=float, default=1e-4, help="default: %(default)s")
    a("--seed", type=int, default=0, help="default: %(default)s")
    a("--out", metavar="DIR", help="write config.json, metrics.jsonl, checkpoint.pt, best.pt")
    a("--resume", action="store_true", help="continue from DIR/checkpoint.pt")
    a("--overwrite", action="store_true", help="replace a run already in --out")
    a("--eval-only", action="store_true", help="only report the test accuracy of --weights")
    a("--weights", metavar="FILE|NAME", help="a .pt file (best.pt, checkpoint.pt, a state "
      "dict) or a published name such as DEFAULT")
    a("--amp", action="store_true", help="mixed precision: bf16 where supported, else fp16")
    a("--channels-last", action="store_true", help="NHWC memory layout (faster on GPUs)")
    a("--compile", action="store_true", help="torch.compile the model")
    a("--grad-accum", type=int, default=1, metavar="N", help="batches per optimizer step")
    a("--workers", type=int, default=0, help="data loader processes; default: %(default)s")
    a("--limit", type=int, metavar="N", help="use only the first N training and test images")
    a("--freeze-bn", action="store_true", help="batch norm uses its running statistics while "
      "the rest trains (fine-tuning; makes N processes equal to one)")
    a("--device", choices=("cpu", "cuda"), help="default: cuda where available")
    return p


def check_numbers(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse numbers no run can use, with argparse's one line and exit code 2."""
    for name in ("epochs", "batch_size", "grad_accum"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.workers < 0 or (args.limit is not None and args.limit < 2):
        p.error("--workers must be >= 0 and --limit >= 2")
    if not args.lr > 0 or not 0 <= args.weight_decay < 1 or args.seed < 0:
        p.error("--lr must be > 0, --weight-decay in [0, 1), --seed >= 0")
    if args.resume and args.overwrite:
        p.error("--resume and --overwrite exclude each other")
    if args.resume and not args.out:
        p.error("--resume needs --out DIR (where the checkpoint is)")
    if args.eval_only and not args.weights:
        p.error("--eval-only needs --weights")


def prepare_out(p: argparse.ArgumentParser, args: argparse.Namespace) -> dict[str, Any] | None:
    """Check ``--out`` against ``--resume``/``--overwrite``; the checkpoint to resume from."""
    if not args.out or args.eval_only:
        return None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        p.error(f"--out {out} exists and is not a folder")
    present = [name for name in RUN_FILES if (out / name).exists()]
    if args.resume:
        try:
            return checkpoint.load_checkpoint(out / "checkpoint.pt")
        except checkpoint.CheckpointError as error:
            p.error(f"--resume: {error}")
    if present and not args.overwrite:
        p.error(f"--out {out} already holds a run ({', '.join(present)}); use --resume to "
                f"continue it or --overwrite to replace it")
    return None


def load_weights(net: torch.nn.Module, path: str) -> None:
    """Load a state dict, or the ``"model"`` entry of best.pt / checkpoint.pt, into ``net``."""
    state = checkpoint.load_checkpoint(path)
    try:
        net.load_state_dict(state["model"])
    except RuntimeError as error:
        raise InputError(f"--weights {path} does not fit this model: "
                         f"{str(error).splitlines()[0]}") from error


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line, check everything, then train (or evaluate)."""
    p = build_parser()
    args = p.parse_args(argv)
    check_numbers(p, args)
    try:
        settings = parse_settings(args.settings)
        data = load_data(args.data, model=args.model, settings=settings, limit=args.limit)
        is_file = args.weights is not None and Path(args.weights).is_file()
        torch.manual_seed(args.seed)  # the same initial weights in every process
        net = build_model(args.model, settings, data,
                          weights=None if is_file else args.weights)
        if is_file:
            load_weights(net, args.weights)
    except (InputError, checkpoint.CheckpointError) as error:
        p.error(str(error))
    resume_state = prepare_out(p, args)
    world = setup_world(args.device)
    options = TrainOptions(args.model, args.data, settings, args.epochs, args.batch_size, args.lr,
                      args.weight_decay, args.seed, args.out, args.resume, args.amp,
                      args.channels_last, args.compile, args.grad_accum, args.workers,
                      args.freeze_bn)
    try:
        if args.eval_only:
            return evaluate_only(net, data, world, options)
        if args.out and world.main:
            start_out(Path(args.out), options, data, world, resume_state)
        return run_training(options, data, net, world, resume_state)
    except ValueError as error:
        p.error(str(error))
    finally:
        leave_world(world)
    return 0


def start_out(out: Path, options: TrainOptions, data: TrainData, world: World,
              resume_state: dict[str, Any] | None) -> None:
    """Write config.json; on --resume keep only the metrics lines of the epochs the checkpoint
    holds (an epoch whose line was written after the checkpoint is run again)."""
    out.mkdir(parents=True, exist_ok=True)
    if resume_state is None:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
    else:
        metrics = out / "metrics.jsonl"
        lines = metrics.read_text(encoding="utf-8").splitlines(keepends=True) \
            if metrics.exists() else []
        metrics.write_text("".join(lines[:resume_state["epoch"]]), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(run_config(options, data, world), indent=2)
                                     + "\n", encoding="utf-8")


def evaluate_only(net: torch.nn.Module, data: TrainData, world: World,
                  options: TrainOptions) -> int:
    """Print the test loss and accuracy of the loaded weights."""
    net.to(world.device)
    loss, accuracy = test_metrics(net, data, world, options.batch_size, False, options.amp)
    if world.main:
        print(f"{options.model} on {data.name}: test accuracy {accuracy:.2%}, test loss "
              f"{loss:.4f} ({len(data.test)} images)")
    return 0


__all__ = ["RUN_FILES", "build_parser", "main"]
