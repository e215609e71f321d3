"""Chapter 6's figures (bench_plots.py, bench.plot_bench) and the bench's tables by question.

Every figure is drawn from small made-up numbers and must keep its smallest text at or above
the book's floor (``readable.MIN_TEXT_PX``) once shown in the desktop column.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from cspnet_lib.bench import BenchResult, plot_bench, tables_by_question  # noqa: E402
from cspnet_lib.bench_plots import (  # noqa: E402
    accuracy_by_seed,
    flops_breakdown_bars,
    flops_vs_latency,
    gflops_per_second,
    split_ratio_curves,
)
from cspnet_lib.plan import BREAKDOWN_PARTS  # noqa: E402
from cspnet_lib.readable import COLUMN_PX, MIN_TEXT_PX, png_width_px, smallest_text_px  # noqa: E402
from cspnet_lib.tables import html_table  # noqa: E402

MODELS = ["densenet121", "cspdensenet-k32", "cspdensenet-k32-first", "cspdensenet-k32-last"]


def q(median, low, high):
    return {"median": median, "min": low, "max": high}


def small_result() -> BenchResult:
    """A made-up two-model run in BenchResult's layout (batch 1 and 16, memory measured)."""
    def row(name, baseline, ratio):
        r = {"name": name, "baseline": baseline, "params": int(8e6 * ratio),
             "flops": 5.7e9 * ratio, "cio": 2.2e7 * ratio, "throughput": 16 / (1.0 * ratio),
             "gflops_per_s": 90.0, "train_step_bytes": 2e9 * ratio, "train_step_exact": True}
        for b, t in ((1, 0.078), (16, 1.05)):
            r[f"latency_b{b}"] = q(t * ratio, 0.9 * t * ratio, 1.1 * t * ratio)
            r[f"latency_b{b}_ratio"] = q(ratio, ratio - 0.05, ratio + 0.05) if baseline else None
        for key in ("params", "flops", "cio", "throughput", "train_step_bytes"):
            r[f"{key}_ratio"] = ratio if baseline else None
        return r

    rows = [row("densenet121", None, 1.0), row("cspdensenet-k32-first", "densenet121", 0.9)]
    return BenchResult(rows, {}, {"batches": [1, 16], "image_size": 224, "train_batch": 16},
                       {"threads": 2})


FIGURES = {
    "flops_breakdown_bars": lambda: flops_breakdown_bars(
        {m: {p: 1e8 * (i + 1) for i, p in enumerate(BREAKDOWN_PARTS)} for m in MODELS},
        BREAKDOWN_PARTS),
    "split_ratio_curves": lambda: split_ratio_curves(
        [0.1, 0.5, 0.9], {f"growth {g}, relative to DenseNet-{g}":
                          {"parameters": [0.8, 0.9, 1.0], "FLOPs": [0.9, 1.0, 1.1],
                           "CIO": [0.9, 0.95, 1.0]} for g in (32, 12)}),
    "flops_vs_latency": lambda: flops_vs_latency(
        [(m, 0.9 + 0.02 * i, q(0.95, 0.9, 1.0)) for i, m in enumerate(MODELS[1:] * 2)]),
    "gflops_per_second": lambda: gflops_per_second({m: 50.0 + 10 * i for i, m in enumerate(MODELS)}),
    "accuracy_by_seed": lambda: accuracy_by_seed(
        {"DenseNet": [97.1, 97.8, 98.0], "CSP (fusion first)": [96.9, 97.3, 97.6]}),
    "plot_bench": lambda: plot_bench(small_result()),
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_keeps_its_text_readable_in_the_column(name):
    fig = FIGURES[name]()
    assert smallest_text_px(fig) >= MIN_TEXT_PX, f"{name}: {smallest_text_px(fig):.1f} px"


@pytest.mark.parametrize("name", FIGURES)
def test_every_figure_fits_the_column_without_shrinking(name):
    assert png_width_px(FIGURES[name]()) <= COLUMN_PX


def test_flops_breakdown_stacks_every_part_of_every_model():
    fig = FIGURES["flops_breakdown_bars"]()
    assert len(fig.axes[0].patches) == len(MODELS) * len(BREAKDOWN_PARTS)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == list(BREAKDOWN_PARTS)


def test_split_ratio_curves_rejects_a_curve_of_the_wrong_length():
    with pytest.raises(ValueError, match="2 values for 3 ratios"):
        split_ratio_curves([0.1, 0.5, 0.9], {"growth 32": {"FLOPs": [1.0, 1.1]}})


def test_figures_reject_empty_input():
    for call in (lambda: gflops_per_second({}), lambda: flops_vs_latency([]),
                 lambda: accuracy_by_seed({"a": [97.0]})):
        with pytest.raises(ValueError):
            call()


def test_bench_tables_by_question_fit_in_few_columns():
    tables = tables_by_question(small_result())
    assert list(tables) == ["counts", "latency", "memory"]
    for header, rows in tables.values():
        assert len(header) <= 7 and all(len(r) == len(header) for r in rows)
        html_table(header, rows)  # every row fits its header
    header, rows = tables["latency"]
    assert rows[0][0] == ("densenet121", "(baseline)")
    assert rows[1][1] == ("70.2", "(63.2\u201377.2)") and rows[1][2] == "\u00d70.90"
    assert tables["memory"][1][1][1] == "1,717"


def test_split_ratio_curves_names_the_width_on_its_x_axis():
    fig = split_ratio_curves([0.25, 0.5], {"growth 32": {"FLOPs": [0.8, 0.9]}},
                             xlabel="channel pooling")
    try:
        assert fig.axes[0].get_xlabel() == "channel pooling"
    finally:
        plt.close(fig)
