"""The FLOPs breakdown and the benchmark command.

Timings are never asserted (they depend on the machine and its load): the command is run on a
tiny setting and its output is checked for structure, and the breakdown is checked against
``count_flops`` and, component by component, against PyTorch's own ``FlopCounterMode``.

Nothing here times what chapter 6 already times under nbval (``make test`` runs both): the
chapter's bench run goes through the fresh timing process, ``time_by_layer`` and
``saved_activation_bytes`` at 224x224. The command below therefore times in one process
(``--processes 0``), and the bad options are checked in this process, where they fail before
any timing.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cspnet_lib import CSPDenseNet, DenseNet, count_flops
from cspnet_lib.blocks import Bottleneck, Transition
from cspnet_lib.bench import (
    MODELS, BenchModel, BenchResult, format_table, paired_ratio, run_bench, summarize,
    saved_activation_bytes, time_by_layer, train_step_memory_here,
)
from cspnet_lib.bench import main as bench_main
from cspnet_lib.plan import flops_breakdown

PARTS = ["stem", "bottleneck_1x1", "bottleneck_3x3", "transition", "first_transition",
         "second_transition", "head"]

# --------------------------------------------------------------------------- flops_breakdown

CONFIGS = [
    ("densenet", {}),
    ("densenet", {"growth_rate": 12}),
    ("cspdensenet", {}),
    ("cspdensenet", {"growth_rate": 32, "fusion": "first"}),
    ("cspdensenet", {"growth_rate": 32, "fusion": "last"}),
    ("cspdensenet", {"split_ratio": 0.3, "fusion": "last", "stem": "small", "in_channels": 1,
                     "num_classes": 10}),
]


@pytest.mark.parametrize("kind,config", CONFIGS)
def test_breakdown_sums_to_count_flops(kind, config):
    parts = flops_breakdown(kind, 224, **config)
    assert list(parts) == PARTS
    assert all(isinstance(v, int) and v >= 0 for v in parts.values())
    assert sum(parts.values()) == count_flops(kind, 224, **config)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["densenet", "cspdensenet"]), growth=st.integers(1, 40),
       repeats=st.lists(st.integers(1, 6), min_size=1, max_size=4),
       split=st.sampled_from([0.25, 0.5, 0.7]), fusion=st.sampled_from(["csp", "first", "last"]),
       size=st.integers(16, 96))
def test_breakdown_sums_for_any_settings(kind, growth, repeats, split, fusion, size):
    config = {"growth_rate": growth, "repeats": tuple(repeats)}
    if kind == "cspdensenet":
        config.update(split_ratio=split, fusion=fusion)
    try:
        total = count_flops(kind, size, **config)
    except ValueError:
        assume(False)  # settings the plan rejects (image too small, empty part)
    assert sum(flops_breakdown(kind, size, **config).values()) == total


def _component(model: nn.Module, name: str, module: nn.Module) -> str:
    """Which component a conv or linear layer is, read from the built model's structure."""
    if isinstance(module, nn.Linear):
        return "head"
    parent = model.get_submodule(name.rsplit(".", 1)[0])
    if isinstance(parent, Bottleneck):
        return {"conv1": "bottleneck_1x1", "conv2": "bottleneck_3x3"}[name.rsplit(".", 1)[1]]
    if isinstance(parent, Transition):
        if isinstance(model, DenseNet):
            return "transition"
        return "first_transition" if ".part2_transition." in f".{name}." else "second_transition"
    assert name.endswith("conv0"), name
    return "stem"


@pytest.mark.parametrize("kind,config", [
    ("densenet", {"growth_rate": 12}),
    ("cspdensenet", {"fusion": "csp"}),
    ("cspdensenet", {"fusion": "first"}),
    ("cspdensenet", {"fusion": "last", "split_ratio": 0.4}),
])
def test_breakdown_matches_flop_counter_per_component(kind, config):
    torch.manual_seed(0)
    model = (DenseNet if kind == "densenet" else CSPDenseNet)(**config).eval()
    size = 64
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        model(torch.zeros(1, 3, size, size))
    per_module = counter.get_flop_counts()
    measured = dict.fromkeys(PARTS, 0)
    prefix = type(model).__name__
    for name, module in model.named_modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            flops = sum(per_module.get(f"{prefix}.{name}", {}).values())
            assert flops > 0, name
            measured[_component(model, name, module)] += flops
    assert measured == flops_breakdown(kind, size, **config)


def test_breakdown_csp_variants_have_their_own_transitions():
    dense = flops_breakdown("densenet")
    assert dense["first_transition"] == dense["second_transition"] == 0 < dense["transition"]
    first = flops_breakdown("cspdensenet", fusion="first")
    assert first["first_transition"] == first["transition"] == 0 < first["second_transition"]
    last = flops_breakdown("cspdensenet", fusion="last")
    assert last["second_transition"] == last["transition"] == 0 < last["first_transition"]


def test_breakdown_rejects_bad_settings():
    with pytest.raises(ValueError, match="kind"):
        flops_breakdown("resnet")
    with pytest.raises(ValueError, match="image_size"):
        flops_breakdown("densenet", image_size=8)
    with pytest.raises(TypeError, match="growth"):
        flops_breakdown("densenet", growth=12)


# --------------------------------------------------------------------------- statistics


def test_summarize_and_paired_ratio():
    assert summarize([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    # per-round ratios 2, 0.5, 1 -> median 1, although the medians' ratio would be 2/2 = 1 too
    assert paired_ratio([2.0, 1.0, 3.0], [1.0, 2.0, 3.0]) == {"median": 1.0, "min": 0.5, "max": 2.0}


# --------------------------------------------------------------------------- the command

TINY = ["--models", "cspdensenet-k12", "--image-size", "32", "--batch", "1", "2", "--rounds", "2",
        "--warmup", "1", "--threads", "1", "--processes", "0"]


def test_command_prints_every_column(tmp_path):
    """The real command, end to end: its table, JSON and PNG, and one memory process per model."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "cspnet_lib.bench", *TINY, "--json", "out.json", "--png", "out.png"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar when stderr is not a terminal, no warnings
    lines = done.stdout.splitlines()
    header = lines[0]
    for column in ["model", "baseline", "params", "GFLOPs", "CIO (M)", "latency b1 ms [min-max]",
                   "latency b2 ms [min-max]", "throughput b2 img/s", "GFLOP/s", "train step b2 MB"]:
        assert column in header, column
    # a ratio column "x" after params, GFLOPs, CIO, both latencies, throughput, train step
    assert len(re.findall(r"(?<=\s)x(?=\s|$)", header)) == 7
    names = [line.split()[0] for line in lines[2:4]]
    assert names == ["densenet-k12", "cspdensenet-k12"]  # the baseline is added
    assert "1 torch thread," in lines[4] and "in one process, 2 interleaved rounds" in lines[4]

    data = json.loads((tmp_path / "out.json").read_text())
    result = BenchResult.from_json(json.dumps(data))
    assert [r["name"] for r in result.rows] == names
    for row in result.rows:
        assert all(len(result.samples[row["name"]][b]) == 2 for b in (1, 2))  # one per round
        for key in ("latency_b1", "latency_b2"):
            stats = row[key]
            assert 0 < stats["min"] <= stats["median"] <= stats["max"] < math.inf
        assert row["train_step_bytes"] > 0
    base, csp = result.rows
    assert base["flops_ratio"] is None and csp["flops_ratio"] == csp["flops"] / base["flops"]
    assert 0 < csp["latency_b1_ratio"]["median"] < math.inf
    assert csp["train_step_bytes_ratio"] == csp["train_step_bytes"] / base["train_step_bytes"]
    assert result.machine["threads"] == 1 and result.settings["rounds"] == 2
    assert result.settings["processes"] == 0 and result.settings["train_batch"] == 2
    assert (tmp_path / "out.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert format_table(result).splitlines()[0] == header


@pytest.mark.parametrize("options,message", [
    ("--image-size 8", "image_size=8 is too small"),
    ("--rounds 0", "rounds must be an int between 1"),
    ("--processes -1", "processes must be an int between 0"),
    ("--batch 0", "batches"),
    ("--models resnet50", "invalid choice"),
])
def test_command_rejects_bad_options(capsys, options, message):
    with pytest.raises(SystemExit) as exit_info:
        bench_main([*TINY, *options.split()])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_run_bench_rejects_bad_arguments():
    with pytest.raises(ValueError, match="models"):
        run_bench("densenet121")
    with pytest.raises(ValueError, match="model must be one of"):
        run_bench(["densenet-121"])
    with pytest.raises(ValueError, match="repeat"):
        run_bench(["densenet-k12", "densenet-k12"])
    with pytest.raises(ValueError, match="batches"):
        run_bench(["densenet-k12"], batches=[])
    with pytest.raises(TypeError, match="threads"):
        run_bench(["densenet-k12"], threads=1.5)
    orphan = BenchModel("mine", "cspdensenet", {}, baseline="nowhere")
    with pytest.raises(ValueError, match="baseline 'nowhere'"):
        run_bench([orphan])


def test_run_bench_in_process_custom_model():
    """A BenchModel of one's own (as the book's split-ratio sweep uses), without memory."""
    mine = BenchModel("split-0.3", "cspdensenet", {"split_ratio": 0.3}, baseline="densenet-k12")
    threads_before = torch.get_num_threads()
    result = run_bench([mine], batches=[1], image_size=32, rounds=2, warmup=0, processes=0,
                       threads=1, memory=False, progress=False)
    assert [r["name"] for r in result.rows] == ["densenet-k12", "split-0.3"]
    assert all(len(times) == 2 for times in result.samples["split-0.3"].values())
    assert result.rows[1]["train_step_bytes"] is None
    assert "-" in format_table(result).splitlines()[3].split()  # memory column left empty
    assert torch.get_num_threads() == threads_before  # the thread count is restored


def test_every_model_builds_its_plan():
    for model in MODELS.values():
        assert model.baseline is None or MODELS[model.baseline].kind == "densenet"
        assert model.baseline is None or (MODELS[model.baseline].config["growth_rate"]
                                          == model.config["growth_rate"])


def test_time_by_layer_and_memory_structure():
    torch.manual_seed(0)
    model = CSPDenseNet(repeats=(2, 2), num_classes=10)
    parts = time_by_layer(model, torch.randn(1, 3, 32, 32), rounds=2)
    assert set(parts) == {"conv 1x1", "conv 3x3", "conv other", "batch norm + ReLU", "pooling",
                          "linear", "concatenation + rest", "total"}
    assert all(v >= 0 and math.isfinite(v) for v in parts.values())
    mem = train_step_memory_here(MODELS["densenet-k12"], batch=2, image_size=32, threads=1)
    assert mem["step_bytes"] >= 0 and mem["peak_bytes"] >= mem["before_bytes"] > 0


def test_saved_activation_bytes_counts_what_autograd_keeps():
    # A conv saves its input (and its weight, a parameter: not counted); ReLU saves its output.
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    x = torch.randn(2, 3, 8, 8, requires_grad=True)
    assert saved_activation_bytes(model, x) == 4 * (2 * 3 * 8 * 8 + 2 * 4 * 6 * 6)
    model.eval()
    saved_activation_bytes(model, x)
    assert not model.training  # the mode is restored
    with pytest.raises(TypeError):
        saved_activation_bytes(model, "image")


def test_saved_run_ships_with_the_package(tmp_path):
    """Chapter 6's full run is package data, so a Colab install (pip, no repository) has it."""
    from importlib import resources

    from cspnet_lib.bench import SAVED_RUN, saved_run

    assert (resources.files("cspnet_lib") / "saved" / SAVED_RUN).is_file()
    run = saved_run()
    assert run.settings["image_size"] == 224 and len(run.rows) == len(run.samples)
    mine = tmp_path / "mine.json"
    mine.write_text(run.to_json(), encoding="utf-8")
    assert saved_run(mine) == run          # a reader's own --json output reads the same way
    with pytest.raises(ValueError, match="path must name a JSON file"):
        saved_run(tmp_path / "missing.json")


def test_saved_run_reads_and_writes_the_same_json():
    """Rows are dataclasses now; the file chapter 6 reads keeps its flat keys, byte for byte."""
    from importlib import resources

    from cspnet_lib.bench import SAVED_RUN, BenchRow, saved_run

    text = (resources.files("cspnet_lib") / "saved" / SAVED_RUN).read_text(encoding="utf-8")
    run = saved_run()
    assert run.to_json() + "\n" == text
    row = run.rows[1]
    assert isinstance(row, BenchRow) and row.baseline == "densenet121"
    assert row["latency_b16_ratio"] == row.latency_ratio[16]      # the flat name still reads
    assert row["flops_ratio"] == row.flops_ratio == row.flops / run.rows[0].flops
    assert BenchRow.from_flat(row.flat()) == row
