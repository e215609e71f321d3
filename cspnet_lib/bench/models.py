"""The models ``python -m cspnet_lib.bench`` knows, by name, each with the DenseNet it is compared with."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from torch import nn

from ..settings import check_choice


@dataclass(frozen=True)
class BenchModel:
    """A model to benchmark: ``kind`` and ``config`` as ``channel_plan`` takes them, and the name
    of the model it is compared with (``None`` for a baseline)."""

    name: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    baseline: str | None = None

    def build(self) -> nn.Module:
        """The model, built from the plan (random weights; timings do not depend on them)."""
        from ..models.cspdensenet import CSPDenseNet
        from ..models.densenet import DenseNet

        return DenseNet(**self.config) if self.kind == "densenet" else CSPDenseNet(**self.config)


def _csp(name: str, growth: int, fusion: str, baseline: str) -> BenchModel:
    return BenchModel(name, "cspdensenet", {"growth_rate": growth, "fusion": fusion}, baseline)


MODELS: dict[str, BenchModel] = {m.name: m for m in [
    BenchModel("densenet121", "densenet", {"growth_rate": 32}),
    _csp("cspdensenet-k32", 32, "csp", "densenet121"),
    _csp("cspdensenet-k32-first", 32, "first", "densenet121"),
    _csp("cspdensenet-k32-last", 32, "last", "densenet121"),
    BenchModel("densenet-k12", "densenet", {"growth_rate": 12}),
    _csp("cspdensenet-k12", 12, "csp", "densenet-k12"),
    _csp("cspdensenet-k12-first", 12, "first", "densenet-k12"),
    _csp("cspdensenet-k12-last", 12, "last", "densenet-k12"),
]}
"""Every model the command knows. ``-k32`` models have DenseNet-121's growth rate 32 and blocks
(6, 12, 24, 16); ``-k12`` is the reference configuration (growth 12) of the book."""

DEFAULT_MODELS = ("densenet121", "cspdensenet-k32", "cspdensenet-k32-first", "cspdensenet-k32-last",
                  "densenet-k12", "cspdensenet-k12")


def resolve_models(models: Sequence[str | BenchModel]) -> list[BenchModel]:
    """Look names up in ``MODELS`` and add any missing baseline in front of its first user."""
    if isinstance(models, (str, BenchModel)) or not models:
        raise ValueError(f"models must be a non-empty list of names or BenchModels, got {models!r}")
    picked = [m if isinstance(m, BenchModel) else MODELS[check_choice("model", m, tuple(MODELS))]
              for m in models]
    names = {m.name for m in picked}
    if len(names) != len(picked):
        raise ValueError(f"models must not repeat a name, got {[m.name for m in picked]}")
    out: list[BenchModel] = []
    for m in picked:
        if m.baseline is not None and m.baseline not in names:
            if m.baseline not in MODELS:
                raise ValueError(f"model {m.name!r} has baseline {m.baseline!r}, which is neither "
                                 f"among the models nor one of {', '.join(MODELS)}")
            out.append(MODELS[m.baseline])
            names.add(m.baseline)
        out.append(m)
    return out
