"""The library's layout: layers that import one way, and every old import path still working.

``OLD_NAMES`` lists the public names of every module of the first edition's flat layout, as it
was before the library was grouped by layer; readers' code and the committed notebooks import
them, so each must still import from its old path and from ``cspnet_lib`` itself.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import cspnet_lib
from cspnet_lib._moved import MOVED, public_names

OLD_NAMES = {
    "bench": "BenchModel BenchResult COLUMNS DEFAULT_MODELS MODELS SAVED_RUN format_table machine_info main paired_ratio plot_bench run_bench saved_activation_bytes saved_run summarize table_note table_rows tables_by_question time_by_layer time_in_fresh_processes time_models train_step_memory train_step_memory_here",
    "bench_plots": "FONT_PT WIDTH_IN accuracy_by_seed flops_breakdown_bars flops_vs_latency gflops_per_second split_ratio_curves",
    "beyond": "CrossSplit FUSIONS MIN_IMAGE_SIZE NetSpec ROLES ResidualNet SPECS StageSpec build cio_by_role count_conv_weights cspdarknet53 cspresnet50 cspresnext50 darknet53 flops_by_role resnet50 resnext50 roles",
    "beyond_plots": "Box COLOURS FONT_PT flops_by_role_bars stage_graph stage_pair_figure",
    "blocks": "Bottleneck ChannelSplit Concat DenseBlock STEMS Transition init_weights split_channels stem_layers trace_as",
    "cio": "cio_by_module measure_cio",
    "csp_stage": "CSPStage FUSIONS",
    "cspdensenet": "CSPDENSENET_DEFAULTS CSPDenseNet seed_cspdensenet",
    "data": "DIGITS_SIZE DigitSplit load_digit_split",
    "densenet": "DenseNet densenet121 densenet169 densenet201",
    "diagrams": "Box CENTRE DENSENET_DEFAULTS DOWNSAMPLE_EDGE FILL HEIGHT LEFT LEGEND RIGHT ROW_Y TITLES WIDTH densenet_counterpart draw_fusion_variants draw_stage stage_boxes",
    "glue": "compact glue glue_values",
    "gradients": "PROBES PathGradients block_input cosine_matrix dense_blocks mean_similarity network_path_gradients path_gradients",
    "inputs": "check_batch check_images plan_feature_maps strided_feature_maps",
    "measure": "TraceRow count_model_params measure_flops run_with_hooks shape_trace",
    "plan": "BREAKDOWN_PARTS CSPDENSENET_DEFAULTS DENSENET_DEFAULTS FUSIONS KINDS PlanRow STEMS bottleneck_row channel_plan check_config check_model_fits conv_cost conv_output_size count_cio count_flops count_params csp_stage_rows cspdensenet_plan dense_block_channels dense_block_rows densenet_plan flops_breakdown head_rows min_image_size plan_by_stage split_sizes stem_row transition_channels transition_row",
    "plots": "INPUT_COLOR PART_COLORS STAGE_COLORS channel_growth channel_trace fusion_comparison layer_costs similarity_by_budget similarity_heatmaps split_cost split_picture",
    "readable": "COLUMN_PX MIN_TEXT_PX png_width_px smallest_text_px text_sizes_px",
    "residual": "ConvBNAct DarknetResidual LEAKY_SLOPE ResidualBottleneck darknet_shortcut",
    "settings": "FUSIONS STEMS check_choice check_fits check_fraction check_int check_repeats check_unknown closest_name edit_distance memory_bytes memory_size",
    "tables": "Table html_table",
    "train": "TrainResult evaluate train_classifier",
    "widgets": "COLORS CSPDENSENET_DEFAULTS CSP_ONLY DENSENET_DEFAULTS FUSIONS KINDS NAMES SLIDERS channel_curve channel_explorer collapse_bottlenecks compact explorer_settings explorer_view plot_view render_png step_label table_html totals_html view_html view_text",
}

PACKAGE = Path(cspnet_lib.__file__).parent

LAYERS = {  # what each layer may import from cspnet_lib (besides itself)
    "core": set(),
    "models": {"core"},
    "measure": {"core", "models"},
    "bench": {"core", "models", "measure"},
    "training": {"core", "models", "measure"},
    "teach": {"core", "models", "measure", "bench", "training"},
    "package": {"core", "models", "measure", "bench", "training", "teach"},
}


def layer_of(module: str) -> str:
    """``cspnet_lib.models.blocks`` -> ``"models"``; the core and training by file name."""
    parts = module.split(".")[1:]
    if not parts or parts[0] in ("_moved",):
        return "package"
    if parts[0] in ("settings", "config", "plan"):
        return "core"
    if parts[0] in ("train", "data"):
        return "training"
    return parts[0]


def all_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(PACKAGE)], "cspnet_lib.")
                  if not m.name.rsplit(".", 1)[-1].startswith("_"))


@pytest.mark.parametrize("old", sorted(OLD_NAMES))
def test_every_old_path_and_name_still_imports(old):
    module = importlib.import_module(f"cspnet_lib.{old}")
    for name in OLD_NAMES[old].split():
        assert hasattr(module, name), f"cspnet_lib.{old}.{name}"
        assert hasattr(cspnet_lib, name), f"from cspnet_lib import {name}"


def test_moved_modules_are_the_new_ones():
    import cspnet_lib.glue
    import cspnet_lib.plots
    import cspnet_lib.teach.glue

    assert cspnet_lib.plots is importlib.import_module("cspnet_lib.teach.plots")
    assert cspnet_lib.glue is cspnet_lib.teach.glue
    assert set(MOVED) <= set(OLD_NAMES)
    beyond = importlib.import_module("cspnet_lib.beyond")
    assert beyond.flops_by_role is cspnet_lib.flops_by_role and beyond.build is cspnet_lib.build


@pytest.mark.parametrize("module", all_modules())
def test_every_public_name_imports_from_the_package(module):
    for name in public_names(importlib.import_module(module)):
        assert hasattr(cspnet_lib, name), f"from cspnet_lib import {name} ({module})"


def _imports(path: Path, module: str) -> set[str]:
    """The cspnet_lib modules ``path`` imports (relative imports resolved)."""
    found = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("cspnet_lib"):
                found.add(target)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cspnet_lib")}
    return found


def test_imports_flow_one_way():
    """teaching aids -> bench, training -> measuring -> models -> the torch-free core."""
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        mine = layer_of(module)
        for target in _imports(path, module):
            theirs = layer_of(target)
            if theirs != mine and theirs not in LAYERS[mine] and theirs != "package":
                wrong.append(f"{module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "\n".join(wrong)


def test_the_core_needs_no_torch():
    for name in ("settings", "config", "plan"):
        source = (PACKAGE / f"{name}.py").read_text(encoding="utf-8")
        assert "import torch" not in source and "from torch" not in source, name


def test_import_stays_light():
    code = ("import sys, cspnet_lib; "
            "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'sklearn') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_pyproject_ships_every_subpackage():
    """A plain ``pip install`` (Colab) installs only the packages pyproject lists."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {m.name for m in pkgutil.walk_packages([str(PACKAGE)], "cspnet_lib.") if m.ispkg}
    assert found | {"cspnet_lib"} == listed
