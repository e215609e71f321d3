"""The channel explorer shows the plan's numbers, the library's errors, and redraws on every move.

Expected values come from ``channel_plan``/``count_params``/``count_flops`` called here directly
(or from facts.md), never from ``cspnet_lib.widgets`` itself.
"""

from __future__ import annotations

import html
import itertools
import re
import sys
import types
import warnings
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cspnet_lib.plan import channel_plan, count_flops, count_params
from cspnet_lib.widgets import (SLIDERS, channel_explorer, enable_colab_widgets, explorer_view,
                                needs_colab_widget_manager)

CSP_ONLY = ("channel_pooling", "split_ratio", "fusion")


def configs(kind: str, **settings) -> tuple[dict, dict]:
    """(DenseNet config, CSPDenseNet config) for the explorer's ``kind`` and ``settings``."""
    # The explorer starts from DenseNet-121 (k=32) or from the reference CSPDenseNet (k=12);
    # DenseNet shares growth rate, repeats, compression and image size with the CSP variant.
    csp = {"growth_rate": 32 if kind == "densenet" else 12, **settings}
    return {k: v for k, v in csp.items() if k not in CSP_ONLY}, csp


def folded_table(rows) -> list[tuple]:
    """(stage, step, first channels, last channels, count, size) per table row, runs of
    bottlenecks folded into one."""
    out = []
    for (stage, step), group in itertools.groupby(rows, key=lambda r: (r.stage, r.step)):
        group = list(group)
        if step == "bottleneck":
            out.append((stage, step, group[0].channels, group[-1].channels, len(group), group[0].size))
        else:
            out += [(r.stage, r.step, r.channels, r.channels, 0, r.size) for r in group]
    return out


SETTINGS = [
    dict(),
    dict(growth_rate=20),
    dict(growth_rate=7, compression=0.35, channel_pooling=0.6, split_ratio=0.25, fusion="first"),
    dict(repeats=(1, 2, 3, 64), image_size=512, fusion="last"),
    dict(growth_rate=64, repeats=(64, 64, 64, 64), compression=1.0, channel_pooling=1.0,
         split_ratio=0.95, image_size=512),
]


@pytest.mark.parametrize("kind", ["densenet", "cspdensenet"])
@pytest.mark.parametrize("settings_", SETTINGS, ids=range(len(SETTINGS)))
def test_view_numbers_are_the_plans(kind: str, settings_: dict) -> None:
    view = explorer_view(kind, **settings_)
    dense, csp = configs(kind, **settings_)
    assert view["error"] is None
    assert view["totals"]["densenet"] == {"params": count_params("densenet", **dense),
                                          "flops": count_flops("densenet", **dense)}
    assert view["totals"]["cspdensenet"] == {"params": count_params("cspdensenet", **csp),
                                             "flops": count_flops("cspdensenet", **csp)}
    for key in ("params", "flops"):
        assert view["ratios"][key] == view["totals"]["cspdensenet"][key] / view["totals"]["densenet"][key]
    rows = channel_plan(kind, **(dense if kind == "densenet" else csp))
    table = [(e["stage"], e["step"], e["channels"], e["last"], e["count"], e["size"]) for e in view["table"]]
    assert table == folded_table(rows)
    assert sum(e["params"] for e in view["table"]) == sum(r.params for r in rows)
    assert sum(e["flops"] for e in view["table"]) == sum(r.flops for r in rows)
    # The plot: the channels of every row but the head, stages left to right in (s, s + 1].
    for name, config in (("densenet", dense), ("cspdensenet", csp)):
        plan = [r for r in channel_plan(name, **config) if r.step not in ("pool", "fc")]
        xs, ys = zip(*view["curves"][name])
        assert list(ys) == [r.channels for r in plan]
        assert xs[0] == 0 and all(a < b for a, b in zip(xs, xs[1:]))
        assert all(r.stage < x <= r.stage + 1 for x, r in zip(xs[1:], plan[1:]))


def test_reference_settings_give_the_published_numbers() -> None:
    """facts.md: DenseNet-121 and the reference CSPDenseNet."""
    assert explorer_view("densenet")["totals"]["densenet"] == {"params": 7_978_856, "flops": 5_668_323_328}
    assert explorer_view("cspdensenet")["totals"]["cspdensenet"] == {"params": 1_275_642,
                                                                     "flops": 1_087_869_224}
    folded = explorer_view("cspdensenet")["table"][3]
    assert (folded["count"], folded["channels"], folded["last"]) == (6, 44, 104)  # facts.md, stage 0


def library_error(kind: str, **config) -> str:
    with pytest.raises(ValueError) as caught:
        channel_plan(kind, **config)
    return str(caught.value)


@pytest.mark.parametrize("settings_, failing", [
    (dict(image_size=8), "cspdensenet"),
    (dict(image_size=24), "cspdensenet"),
    (dict(growth_rate=1, channel_pooling=0.05), "cspdensenet"),
    (dict(growth_rate=1, split_ratio=0.05, channel_pooling=0.3), "cspdensenet"),
])
def test_unbuildable_settings_show_the_library_error(settings_: dict, failing: str) -> None:
    view = explorer_view("cspdensenet", **settings_)
    assert view["error"] == library_error(failing, **settings_)
    assert view["error_kind"] == failing
    assert view["table"] == [] and view["curves"] == {}
    assert view["error"] in view["text"]
    assert html.escape(view["error"], quote=False) in view["html"]


def test_the_tables_network_is_checked_first() -> None:
    """Both networks fail here; the explorer reports the one its table shows."""
    settings_ = dict(growth_rate=1, compression=0.05, stem_channels=16)
    for kind in ("densenet", "cspdensenet"):
        dense, csp = configs(kind, **settings_)
        view = explorer_view(kind, **settings_)
        assert view["error_kind"] == kind
        assert view["error"] == library_error(kind, **(dense if kind == "densenet" else csp))


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="kind must be one of"):
        explorer_view("resnet")
    with pytest.raises(TypeError, match="unknown setting"):
        explorer_view(growth=12)
    with pytest.raises(ValueError, match="growth_rate"):
        channel_explorer(growth_rate=100)  # beyond the slider
    with pytest.raises(ValueError, match="4 stages"):
        channel_explorer(repeats=(6, 12, 24))
    with pytest.raises(ValueError, match="fusion"):
        channel_explorer(fusion="middle")


slider_values = {  # every position of every slider, as the widget hands it on
    name: st.integers(0, round((high - low) / step)).map(
        lambda i, lo=low, s=step: lo + i * s if isinstance(s, int) else round(lo + i * s, 2))
    for name, (low, high, step) in SLIDERS.items()
}


@settings(max_examples=60, deadline=None)
@given(
    growth_rate=slider_values["growth_rate"], compression=slider_values["compression"],
    image_size=slider_values["image_size"], channel_pooling=slider_values["channel_pooling"],
    split_ratio=slider_values["split_ratio"], fusion=st.sampled_from(["csp", "first", "last"]),
    repeats=st.tuples(*[slider_values["repeats"]] * 4),
)
def test_any_slider_position_shows_numbers_or_the_library_error(**settings_) -> None:
    view = explorer_view("cspdensenet", **settings_)
    dense, csp = configs("cspdensenet", **settings_)
    expected = {}
    for name, config in (("cspdensenet", csp), ("densenet", dense)):
        try:
            expected[name] = {"params": count_params(name, **config), "flops": count_flops(name, **config)}
        except ValueError as error:
            assert view["error"] == str(error)
            return
    assert view["error"] is None and view["totals"] == expected


# ------------------------------------------------------------------ the ipywidgets object


def cells(table_html: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", table_html)
    return [[html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r)] for r in rows]


def test_widget_redraws_on_every_move() -> None:
    explorer = channel_explorer()
    c = explorer.controls
    assert f"{1_275_642:,}" in explorer.totals.value  # the reference CSPDenseNet at start
    first_png = bytes(explorer.plot.value)
    assert first_png.startswith(b"\x89PNG")

    c["growth_rate"].value = 20
    assert f"{count_params('cspdensenet', growth_rate=20):,}" in explorer.totals.value
    assert f"{count_flops('cspdensenet', growth_rate=20):,}" in explorer.totals.value
    assert f"{count_params('densenet', growth_rate=20):,}" in explorer.totals.value
    table = cells(explorer.table.value)
    plan = channel_plan("cspdensenet", growth_rate=20)
    assert table[1][:4] == ["", "stem", str(plan[0].channels), f"{plan[0].size}×{plan[0].size}"]
    assert table[4][1:3] == ["6 bottlenecks", f"{plan[3].channels} … {plan[8].channels}"]
    assert bytes(explorer.plot.value) != first_png

    c["fusion"].value = "last"
    c["repeats2"].value = 30
    new = dict(growth_rate=20, fusion="last", repeats=(6, 12, 30, 16))
    assert f"{count_flops('cspdensenet', **new):,}" in explorer.totals.value

    c["image_size"].value = 8  # too small: the library's sentence, no plot, no table
    assert html.escape(library_error("cspdensenet", image_size=8, **new), quote=False) in explorer.totals.value
    assert explorer.plot.layout.display == "none" and explorer.table.value == ""
    c["image_size"].value = 256  # and the sliders still work
    assert f"{count_flops('cspdensenet', image_size=256, **new):,}" in explorer.totals.value
    assert explorer.plot.layout.display is None

    explorer.table_of.value = "densenet"
    assert "Every step of DenseNet" in explorer.table.value
    assert cells(explorer.table.value)[2][1] == "6 bottlenecks"  # DenseNet: stem, then the block


def test_widget_float_sliders_use_slider_values() -> None:
    """0.05 steps reach the plan as the decimals the reader sees (0.15, not 0.15000000000000002)."""
    explorer = channel_explorer(growth_rate=5)
    explorer.controls["channel_pooling"].value = 0.05 * 3
    assert f"{count_params('cspdensenet', growth_rate=5, channel_pooling=0.15):,}" in explorer.totals.value


# ------------------------------------------------------------------ ipywidgets 7 (Colab) and 8
# `make test-colab` runs this file again against ipywidgets 7.7.1, the version Colab ships.


def widget_tree(widget) -> list:
    """``widget`` and every widget inside it."""
    return [widget, *itertools.chain.from_iterable(widget_tree(c) for c in getattr(widget, "children", ()))]


def test_explorer_passes_only_arguments_its_ipywidgets_knows() -> None:
    """An argument the installed ipywidgets lacks (say widgets 8's ``description_allow_html`` on 7)
    is dropped with a traitlets warning, not an error: the control would silently lose it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        explorer = channel_explorer()
        explorer.controls["split_ratio"].value = 0.75
    widget_warnings = [f"{Path(w.filename).name}: {w.message}" for w in caught
                       if {"ipywidgets", "traitlets", "cspnet_lib"} & set(Path(w.filename).parts)]
    assert widget_warnings == []


def test_explorer_styles_and_layouts_are_traits() -> None:
    """Every style and layout setting is a trait that reaches the front end; an attribute the
    installed version lacks would be set as a plain Python attribute and do nothing."""
    for widget in widget_tree(channel_explorer()):
        for part in (widget.layout, getattr(widget, "style", None)):
            if part is not None:
                plain = {k for k in vars(part) if not k.startswith("_")} - set(part.trait_names())
                assert plain == set(), f"{type(widget).__name__}.{type(part).__name__}: {plain}"


@pytest.fixture
def fake_colab(monkeypatch):
    """A stand-in for Colab's ``google.colab.output``: records enable_custom_widget_manager calls."""
    calls: list[str] = []
    modules = {name: types.ModuleType(name) for name in ("google", "google.colab", "google.colab.output")}
    modules["google"].colab = modules["google.colab"]
    modules["google.colab"].output = modules["google.colab.output"]
    modules["google.colab.output"].enable_custom_widget_manager = lambda: calls.append("enabled")
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return calls


@pytest.mark.parametrize("version, enabled", [("7.7.1", False), ("8.1.9", True), ("9.0.0", True)])
def test_colab_widget_manager_is_enabled_for_widgets_8(fake_colab, monkeypatch, version: str,
                                                       enabled: bool) -> None:
    import ipywidgets

    monkeypatch.setattr(ipywidgets, "__version__", version)
    assert enable_colab_widgets() is enabled
    channel_explorer()
    assert fake_colab == ["enabled"] * (2 * enabled)


def test_colab_widget_manager_is_left_alone_outside_colab(monkeypatch) -> None:
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    assert enable_colab_widgets() is False
    assert needs_colab_widget_manager("7.7.1") is False and needs_colab_widget_manager("8.0.0") is True
    with pytest.raises(ValueError, match="widgets_version .* got 'seven'"):
        needs_colab_widget_manager("seven")
