"""``python -m cspnet_lib.train``: 1 process vs 2 under torchrun, SIGTERM and --resume, bad input.

Every run is a tiny CSPDenseNet (growth 4, two stages of two bottlenecks) on 256 digits, one
thread per process, so the whole file takes seconds of CPU, not minutes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest
import torch

from cspnet_lib.train import checkpoint, runner
from cspnet_lib.train.cli import main

ROOT = Path(__file__).resolve().parents[1]
TINY = ["--set", "repeats=2,2", "growth_rate=4", "--limit", "256", "--freeze-bn"]
EPOCHS = ["--epochs", "2"]
TIMING = ("images_per_s", "seconds")
DDP_TOLERANCE = 1e-5
"""Largest absolute difference allowed between the weights of 1 and 2 processes after 16 Adam
steps (2 epochs of 8; the gradients are summed in another order): about 6e-7 on this CPU. The
gap grows with the steps (8e-3 after 32 steps here): where a gradient is near 0, Adam divides it
by its own small running size, so a last-bit difference can move a weight by up to lr."""


def env() -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "cspnet_lib.train", *TINY, *args]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env(), capture_output=True, text=True, timeout=300)


def weights(out: Path) -> dict[str, torch.Tensor]:
    return checkpoint.load_checkpoint(out / "checkpoint.pt")["model"]


def metrics(out: Path, timing: bool = False) -> list[dict]:
    lines = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in line.items() if timing or k not in TIMING} for line in lines]


def start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=cwd, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(process: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = process.communicate(timeout=300)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def sigterm_after_first_epoch(process: subprocess.Popen, out: Path) -> None:
    """Send SIGTERM as soon as the run has written its first metrics line."""
    metrics_file, deadline = out / "metrics.jsonl", time.monotonic() + 300
    while process.poll() is None and time.monotonic() < deadline:
        if metrics_file.exists() and metrics_file.read_text().count("\n") >= 1:
            process.send_signal(signal.SIGTERM)
            return
        time.sleep(0.01)


@contextmanager
def one_thread_here() -> Iterator[None]:
    """Run ``main`` in this process as the subprocesses run (one thread), then put back the
    thread count, the random generators and the signal handlers it changes."""
    threads, rng = torch.get_num_threads(), checkpoint.rng_states()
    handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        checkpoint.set_rng_states(rng)
        for number, handler in handlers.items():
            signal.signal(number, handler)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[Path, subprocess.Popen]]:
    """Three runs started at once (they spend most of their time importing torch): an
    uninterrupted one with batch 32, the same on 2 processes of batch 16 under torchrun, and
    the first one again, stopped by SIGTERM after its first epoch."""
    root = tmp_path_factory.mktemp("runs")
    one = ["--batch-size", "32", *EPOCHS, "--out"]
    started = {
        "reference": start(command(*one, str(root / "reference")), root),
        "ddp": start([sys.executable, "-m", "torch.distributed.run", "--standalone",
                      "--nproc_per_node=2", "-m", "cspnet_lib.train", *TINY, "--batch-size", "16",
                      *EPOCHS, "--out", str(root / "ddp")], root),
        "killed": start(command(*one, str(root / "killed")), root),
    }
    watcher = threading.Thread(target=sigterm_after_first_epoch,
                               args=(started["killed"], root / "killed"), daemon=True)
    watcher.start()
    return {name: (root / name, process) for name, process in started.items()}


@pytest.fixture(scope="module")
def reference(runs) -> Path:
    """The uninterrupted 1-process run: what the others must reproduce."""
    out, process = runs["reference"]
    done = finish(process)
    assert done.returncode == 0, done.stderr
    return out


def test_run_writes_its_files(reference):
    assert sorted(p.name for p in reference.iterdir()) == sorted(
        ["best.pt", "checkpoint.pt", "config.json", "metrics.jsonl"])
    config = json.loads((reference / "config.json").read_text())
    assert config["world_size"] == 1 and config["effective_batch"] == 32
    assert config["options"]["settings"] == {"repeats": [2, 2], "growth_rate": 4}
    assert config["versions"]["torch"] == torch.__version__
    lines = metrics(reference, timing=True)
    assert [line["epoch"] for line in lines] == [1, 2]
    assert set(lines[0]) == {"epoch", "train_loss", "test_loss", "test_accuracy", "lr", *TIMING}
    assert lines[-1]["lr"] == 0.0  # the cosine ends at 0
    best = checkpoint.load_checkpoint(reference / "best.pt")
    assert best["test_accuracy"] == max(line["test_accuracy"] for line in lines)


def test_two_processes_equal_one_with_twice_the_batch(reference, runs):
    """torchrun, 2 gloo processes of batch 16 == 1 process of batch 32, batch norm frozen
    (with batch norm training, each process normalises by its own 16 images' statistics)."""
    out, process = runs["ddp"]
    done = finish(process)
    assert done.returncode == 0, done.stderr
    assert "2 process(es)" in done.stdout
    assert "effective batch 32 = 16 per process x 2" in done.stdout
    assert done.stdout.count("epoch 1/2") == 1  # only rank 0 prints
    assert json.loads((out / "config.json").read_text())["world_size"] == 2
    ours, theirs = weights(out), weights(reference)
    assert ours.keys() == theirs.keys()
    gap = max(float((ours[k].double() - theirs[k].double()).abs().max()) for k in ours)
    assert gap < DDP_TOLERANCE, gap
    for a, b in zip(metrics(out), metrics(reference), strict=True):
        assert a == pytest.approx(b, rel=1e-4, abs=1e-6)


def test_sigterm_then_resume_ends_where_the_uninterrupted_run_ends(reference, runs, capsys):
    out, process = runs["killed"]
    stopped = finish(process)
    assert stopped.returncode == 0, stopped.stderr
    assert "SIGTERM: checkpoint saved" in stopped.stdout and "done" not in stopped.stdout
    assert len(metrics(out)) < 2

    with one_thread_here():  # resumed in this process: no second start-up of torch
        assert main([*TINY, "--batch-size", "32", *EPOCHS, "--out", str(out), "--resume"]) == 0
    assert "resumed at epoch" in capsys.readouterr().out
    assert metrics(out) == metrics(reference)  # every field but the timings, exactly
    ours, theirs = weights(out), weights(reference)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)


def test_a_truncated_checkpoint_is_refused_and_kept(reference, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    for name in ("config.json", "metrics.jsonl", "checkpoint.pt"):
        (out / name).write_bytes((reference / name).read_bytes())
    whole = (out / "checkpoint.pt").read_bytes()
    (out / "checkpoint.pt").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SystemExit) as stop:
        main([*TINY, "--out", str(out), "--resume"])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "damaged" in err.splitlines()[-1] and "Traceback" not in err
    assert (out / "checkpoint.pt").read_bytes() == whole[: len(whole) // 2]  # left as it was
    assert (out / "metrics.jsonl").read_bytes() == (reference / "metrics.jsonl").read_bytes()


def test_a_failed_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint.pt"
    checkpoint.save_atomic({"model": {"w": torch.ones(3)}}, path)

    def full_disk(state, f):
        f.write(b"PK\x03\x04 half a zip")
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError):
        checkpoint.save_atomic({"model": {"w": torch.zeros(3)}}, path)
    assert torch.equal(checkpoint.load_checkpoint(path)["model"]["w"], torch.ones(3))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.pt"]


@pytest.mark.parametrize("args,message", [
    (["--model", "densenet12"], "unknown model 'densenet12'"),
    (["--data", "mnist"], "unknown data 'mnist'"),
    (["--set", "growth_rate"], "--set takes key=value"),
    (["--set", "growht_rate=4"], "did you mean growth_rate"),
    (["--set", "fusion=middle"], "fusion"),
    (["--data", "imagefolder:no/such/folder"], "missing: no/such/folder/train"),
    (["--resume", "--out", "{tmp}/empty"], "no checkpoint at"),
    (["--out", "{tmp}/taken"], "already holds a run"),
    (["--epochs", "0"], "--epochs must be at least 1"),
])
def test_bad_input_is_one_line_and_exit_code_2(args, message, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "metrics.jsonl").write_text("")
    with pytest.raises(SystemExit) as stop:
        main([a.replace("{tmp}", str(tmp_path)) for a in args])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("python -m cspnet_lib.train: error: ") and message in err[-1]
    assert all(line.startswith(("usage:", " ")) for line in err[:-1])  # argparse's usage
    assert (tmp_path / "taken" / "metrics.jsonl").read_text() == ""  # nothing overwritten


def test_eval_only_scores_saved_weights(reference, capsys):
    assert main([*TINY, "--eval-only", "--weights", str(reference / "best.pt")]) == 0
    accuracy = checkpoint.load_checkpoint(reference / "best.pt")["test_accuracy"]
    assert f"test accuracy {accuracy:.2%}" in capsys.readouterr().out


class StopAtRead(runner.Stop):
    """A stop request that arrives on the 12th check: after batch 4 of epoch 2 (8 per epoch),
    so the run stops mid-epoch, where a signal can land but not on cue."""

    reads = 0

    @property
    def requested(self) -> bool:
        self.reads += 1
        return self.reads >= 12

    @requested.setter
    def requested(self, value: bool) -> None:
        pass


def test_a_stop_mid_epoch_resumes_from_that_batch(reference, tmp_path, capsys, monkeypatch):
    out = tmp_path / "run"
    args = [*TINY, "--batch-size", "32", *EPOCHS, "--out", str(out)]
    with one_thread_here():
        monkeypatch.setattr(runner, "Stop", StopAtRead)
        assert main(args) == 0
        assert ": checkpoint saved at epoch 2, batch 4" in capsys.readouterr().out
        assert checkpoint.load_checkpoint(out / "checkpoint.pt")["batch"] == 4
        monkeypatch.undo()
        assert main([*args, "--resume"]) == 0
    assert "resumed at epoch 2, batch 4" in capsys.readouterr().out
    assert metrics(out) == metrics(reference)
    ours, theirs = weights(out), weights(reference)
    assert all(torch.equal(ours[k], theirs[k]) for k in theirs)


def test_accumulating_two_batches_of_16_equals_one_of_32(reference, tmp_path, capsys):
    out = tmp_path / "run"
    with one_thread_here():
        assert main([*TINY, "--batch-size", "16", "--grad-accum", "2", *EPOCHS,
                     "--out", str(out)]) == 0
    assert "effective batch 32 = 16 per process x 1 x 2 accumulated" in capsys.readouterr().out
    ours, theirs = weights(out), weights(reference)
    gap = max(float((ours[k].double() - theirs[k].double()).abs().max()) for k in ours)
    assert gap < DDP_TOLERANCE, gap  # about 4e-7 on this CPU
