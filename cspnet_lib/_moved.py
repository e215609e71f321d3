"""Where the first edition's modules went, so that their old import paths keep working.

The library was flat; it is now grouped by layer (``models``, ``measure``, ``bench``, ``teach``).
Readers' code and the committed notebooks import the old paths, e.g. ``from cspnet_lib.plots
import channel_growth`` or ``import cspnet_lib.beyond``. ``MOVED`` maps each old module to its
new home; a finder on ``sys.meta_path`` answers an import of an old name with the new module
itself (the very same module object, so ``cspnet_lib.plots is cspnet_lib.teach.plots``). An old
module whose contents went to several new ones (``beyond``: the residual networks, and the
measurements by role) becomes one module object holding the public names of all of them.

This file is the only place that knows the old layout: no stub file is left at an old path.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import types
from importlib.machinery import ModuleSpec

MOVED: dict[str, tuple[str, ...]] = {
    "blocks": ("models.blocks", "measure.trace"),  # trace_as: labels left the models
    "csp_stage": ("models.csp_stage",),
    "densenet": ("models.densenet",),
    "cspdensenet": ("models.cspdensenet",),
    "residual": ("models.residual",),
    "inputs": ("models.inputs",),
    "beyond": ("models.residual_nets", "measure.roles", "measure.flops"),
    "cio": ("measure.cio",),
    "gradients": ("measure.gradients",),
    "plots": ("teach.plots",),
    "diagrams": ("teach.diagrams",),
    "widgets": ("teach.widgets",),
    "tables": ("teach.tables",),
    "glue": ("teach.glue",),
    "readable": ("teach.readable",),
    "bench_plots": ("teach.bench_plots",),
    "beyond_plots": ("teach.residual_plots",),
}
"""``{old module: new modules}``, relative to the package ``cspnet_lib``."""

PACKAGE = __name__.rpartition(".")[0]


def public_names(module: types.ModuleType) -> list[str]:
    """A module's ``__all__``, else every name without a leading underscore that is not a module."""
    names = getattr(module, "__all__", None)
    if names is not None:
        return list(names)
    return [n for n, v in vars(module).items()
            if not n.startswith("_") and not isinstance(v, types.ModuleType)]


class MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``cspnet_lib.<old name>`` as the module(s) ``MOVED`` names."""

    def __init__(self) -> None:
        self.specs: dict[str, ModuleSpec | None] = {}

    def find_spec(self, fullname: str, path: object = None,
                  target: object = None) -> ModuleSpec | None:
        package, _, old = fullname.rpartition(".")
        if package != PACKAGE or old not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        old = spec.name.rpartition(".")[2]
        targets = [importlib.import_module(f"{PACKAGE}.{new}") for new in MOVED[old]]
        if len(targets) == 1:
            # The new module itself, under its old name too. The import system will set its
            # __spec__ to the old name's; exec_module puts the module's own back.
            self.specs[targets[0].__name__] = targets[0].__spec__
            return targets[0]
        merged = types.ModuleType(spec.name, f"The old ``{spec.name}``: the public names of "
                                  + ", ".join(t.__name__ for t in targets) + ".")
        for target in targets:
            merged.__dict__.update({n: getattr(target, n) for n in public_names(target)})
        return merged

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run (the new modules ran when they were imported); keep their own spec,
        so that ``importlib.reload`` reloads them from their new file."""
        if module.__name__ in self.specs:
            module.__spec__ = self.specs.pop(module.__name__)


def install() -> None:
    """Put the finder on ``sys.meta_path`` (once)."""
    if not any(isinstance(f, MovedModuleFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, MovedModuleFinder())  # before any finder of a stale copy
