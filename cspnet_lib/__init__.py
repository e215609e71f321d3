"""cspnet_lib: CSPNet built on DenseNet, step by step, with the arithmetic to check it.

>>> from cspnet_lib import seed_cspdensenet, channel_plan, count_params

The library in layers, each importing only from the layers below it:

    teach/      the book's figures, diagrams, explorer, tables, glue (matplotlib, ipywidgets),
                and the cells' small arithmetic (pct, percent_of)
    bench/      ``python -m cspnet_lib.bench``: latency, memory, the side-by-side table
    train/, data.py     the seeded training loop, offline data, ``python -m cspnet_lib.train``
    measure/    measuring built models: FLOPs, shapes, CIO, gradients, chapter 6's instruments
    models/     the networks (torch)
    plan.py, config.py, settings.py    the torch-free core: channel arithmetic, settings, checks

Every public name of every module imports from here: the core, the models and the measuring
tools at once, the rest (matplotlib's teaching aids, the bench, training) on first use (PEP 562).
The first edition's flat module paths (``cspnet_lib.plots``, ``cspnet_lib.beyond``, ...) still
import: see ``_moved.py``.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from . import _moved
from .config import (CSPDENSENET_DEFAULTS, DENSENET_DEFAULTS, CSPDenseNetConfig, DenseNetConfig,
                     make_config)
from .measure import *  # noqa: F403
from .measure import __all__ as _measure_names
from .models import *  # noqa: F403
from .models import __all__ as _model_names
from .plan import (BREAKDOWN_PARTS, PlanRow, channel_plan, count_cio, count_flops, count_params,
                   flops_breakdown, head_channels, min_image_size, plan_by_stage, split_sizes)

_moved.install()

LAZY_MODULES = ("teach.numbers", "teach.glue", "teach.tables", "teach.plots", "teach.diagrams", "teach.widgets",
                "teach.readable", "teach.bench_plots", "teach.residual_plots", "bench", "train",
                "data")
"""Searched first, in this order, for a name not imported above, then every other module; each
imported on first use. Where two modules share a name (``compact`` of ``glue`` and of
``widgets``), the first one wins."""


def _search_order() -> list[str]:
    rest = sorted(m.name.removeprefix(__name__ + ".") for m in
                  pkgutil.walk_packages(__path__, __name__ + ".")
                  if not m.name.rsplit(".", 1)[-1].startswith("_"))
    return [*LAZY_MODULES, *(m for m in rest if m not in LAZY_MODULES)]


def __getattr__(name: str) -> Any:
    if name in _moved.MOVED:  # cspnet_lib.plots without an import statement
        return importlib.import_module(f"{__name__}.{name}")
    for module_name in _search_order():
        module = importlib.import_module(f"{__name__}.{module_name}")
        if name in _moved.public_names(module):
            value = getattr(module, name)
            globals()[name] = value  # found once, then an ordinary attribute
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    *_model_names, *_measure_names, "BREAKDOWN_PARTS", "CSPDENSENET_DEFAULTS",
    "CSPDenseNetConfig", "DENSENET_DEFAULTS", "DenseNetConfig", "PlanRow", "channel_plan",
    "count_cio", "count_flops", "count_params", "flops_breakdown", "head_channels", "make_config",
    "min_image_size", "plan_by_stage", "split_sizes",
]
