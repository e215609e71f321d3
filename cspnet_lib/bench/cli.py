"""``python -m cspnet_lib.bench``: DenseNet and CSPDenseNet side by side, measured honestly.

One table, one row per model: parameters, FLOPs and CIO (from the closed form in ``plan.py``),
CPU latency at each batch size, throughput, achieved GFLOP/s, and the peak memory of one training
step. Each CSP model is compared with the DenseNet of the same growth rate (its *baseline*).
How the timings and the memory are taken: ``timing.py`` and ``memory.py``.
"""

from __future__ import annotations

import argparse
from typing import Sequence

from .models import DEFAULT_MODELS, MODELS
from .report import format_table, plot_bench
from .run import run_bench


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cspnet_lib.bench",
        description="DenseNet and CSPDenseNet side by side: parameters, FLOPs, CIO, CPU latency, "
                    "throughput, achieved GFLOP/s and the peak memory of one training step.",
        epilog="Models: " + ", ".join(f"{n} (vs {m.baseline})" if m.baseline else n
                                      for n, m in MODELS.items()))
    parser.add_argument("--models", nargs="+", default=list(DEFAULT_MODELS), choices=list(MODELS),
                        metavar="NAME", help="models to compare (their baselines are added); "
                        "default: %(default)s")
    parser.add_argument("--batch", nargs="+", type=int, default=[1, 16], metavar="N",
                        help="batch sizes to time; default: %(default)s")
    parser.add_argument("--image-size", type=int, default=224, help="default: %(default)s")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds; default: %(default)s")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds; default: %(default)s")
    parser.add_argument("--processes", type=int, default=3,
                        help="fresh processes that each time all rounds, pooled (0: time in this "
                             "process); default: %(default)s")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads; default: torch's current setting")
    parser.add_argument("--train-batch", type=int, default=None,
                        help="batch of the training step whose memory is measured; default: the largest --batch")
    parser.add_argument("--no-memory", action="store_true", help="skip the training-memory processes")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--json", metavar="PATH", help="also write every number and raw timing as JSON")
    parser.add_argument("--png", metavar="PATH", help="also draw the ratios to the baseline as a PNG")
    args = parser.parse_args(argv)
    try:
        result = run_bench(args.models, batches=args.batch, image_size=args.image_size,
                           rounds=args.rounds, warmup=args.warmup, processes=args.processes,
                           threads=args.threads,
                           memory=not args.no_memory, train_batch=args.train_batch)
    except (ValueError, TypeError) as error:
        parser.error(str(error))
    print(format_table(result, markdown=args.markdown))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(result.to_json() + "\n")
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        plot_bench(result).savefig(args.png, dpi=120)
    return 0


