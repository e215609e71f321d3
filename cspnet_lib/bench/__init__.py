"""``python -m cspnet_lib.bench``: DenseNet and CSPDenseNet side by side, measured honestly.

The package, one job per module:

- ``models``: the registry of models (``MODELS``), each with its baseline DenseNet;
- ``timing``: CPU latency, interleaved rounds in fresh processes, medians and paired ratios;
- ``memory``: the peak memory of one training step, in a fresh process per model;
- ``child``: the one protocol both run their fresh processes with;
- ``run``: ``run_bench``, which measures and compares;
- ``result``: ``BenchRow``, ``BenchResult`` and the saved run chapter 6 shows;
- ``report``: the tables and the chart; ``cli``: ``python -m cspnet_lib.bench``'s options.

Run ``python -m cspnet_lib.bench --help`` for the options.
"""

from ..measure.instruments import saved_activation_bytes, time_by_layer
from .cli import main
from .memory import train_step_memory, train_step_memory_here
from .models import DEFAULT_MODELS, MODELS, BenchModel, resolve_models
from .report import COLUMNS, format_table, plot_bench, table_note, table_rows, tables_by_question
from .result import SAVED_RUN, BenchResult, BenchRow, saved_run
from .run import machine_info, run_bench
from .timing import paired_ratio, summarize, time_in_fresh_processes, time_models

__all__ = [
    "BenchModel", "BenchResult", "BenchRow", "COLUMNS", "DEFAULT_MODELS", "MODELS", "SAVED_RUN",
    "format_table", "machine_info", "main", "paired_ratio", "plot_bench", "resolve_models",
    "run_bench", "saved_activation_bytes", "saved_run", "summarize", "table_note", "table_rows",
    "tables_by_question", "time_by_layer", "time_in_fresh_processes", "time_models",
    "train_step_memory", "train_step_memory_here",
]
