"""The channel explorer: move a slider, watch DenseNet and CSPDenseNet change.

Two layers, so the arithmetic can be tested without a browser or a kernel:

* ``explorer_view(kind, **settings)`` is pure: it asks the closed form (``channel_plan``) for both
  networks and returns everything the explorer shows (the plan table, the channel curves, the
  totals and the CSP / DenseNet ratios, or the library's error sentence) as a dict.
* ``channel_explorer(kind, **defaults)`` wraps it in ipywidgets; every move of a control calls
  ``explorer_view`` again and redraws. No model is ever built, so an update takes milliseconds.

The rendered book cannot run Python; there ``book/explorer/explorer.js`` draws the same explorer
from ``book/explorer/plan.js``, a line-by-line port of ``plan.py`` that a test keeps identical.

The widget code runs on ipywidgets 7.7 (what Colab ships and renders) and on 8: it uses only
controls, traits and styles both versions have. In Colab, widgets 8 show nothing unless Colab's
custom widget manager is on; ``channel_explorer`` turns it on there (``enable_colab_widgets``).

>>> view = explorer_view("cspdensenet")
>>> view["totals"]["cspdensenet"]["params"]
1275642
"""

from __future__ import annotations

import io
import sys
from typing import Any

from ..plan import CSPDENSENET_DEFAULTS, DENSENET_DEFAULTS, KINDS, PlanRow, channel_plan
from ..settings import FUSIONS, check_choice, check_fraction, check_int, check_repeats
from .palette import MODEL

CSP_ONLY = ("channel_pooling", "split_ratio", "fusion")
"""Settings only the CSP variant takes; DenseNet ignores them."""

SLIDERS: dict[str, tuple[float, float, float]] = {
    "growth_rate": (1, 64, 1),
    "compression": (0.05, 1.0, 0.05),
    "image_size": (8, 512, 8),
    "channel_pooling": (0.05, 1.0, 0.05),
    "split_ratio": (0.05, 0.95, 0.05),
    "repeats": (1, 64, 1),  # each of the four stages
}
"""(min, max, step) of each slider; ``book/explorer/explorer.js`` uses the same ranges."""

NAMES = {"densenet": "DenseNet", "cspdensenet": "CSPDenseNet"}
COLORS = MODEL  # blue and orange, as in explorer.css


def explorer_settings(kind: str = "cspdensenet", **settings: Any) -> dict[str, Any]:
    """All settings of both networks: ``settings`` over the defaults of ``kind``.

    ``kind="densenet"`` starts from DenseNet-121 (growth rate 32), ``"cspdensenet"`` from the
    reference CSPDenseNet (growth rate 12); the CSP-only settings default to the reference's.
    """
    check_choice("kind", kind, KINDS)
    defaults = {**CSPDENSENET_DEFAULTS, **(DENSENET_DEFAULTS if kind == "densenet" else {}),
                "image_size": 224}
    unknown = sorted(set(settings) - set(defaults))
    if unknown:
        raise TypeError(f"explorer got unknown setting(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(sorted(defaults))}")
    return {**defaults, **settings}


def collapse_bottlenecks(rows: list[PlanRow]) -> list[dict[str, Any]]:
    """The plan as table rows, each run of bottlenecks folded into one row.

    A folded row has ``count`` bottlenecks, ``channels`` after the first and ``last`` after the
    last one, and the summed params and FLOPs; every other row has ``count`` 0.
    """
    table: list[dict[str, Any]] = []
    for row in rows:
        fields = dict(stage=row.stage, step=row.step, channels=row.channels, last=row.channels,
                      size=row.size, params=row.params, flops=row.flops, count=0)
        previous = table[-1] if table else None
        if row.step == "bottleneck" and previous and previous["step"] == "bottleneck":
            previous.update(last=row.channels, count=previous["count"] + 1,
                            params=previous["params"] + row.params, flops=previous["flops"] + row.flops)
        else:
            table.append({**fields, "count": 1} if row.step == "bottleneck" else fields)
    return table


def step_label(entry: dict[str, Any]) -> tuple[str, str]:
    """(step, channels) as the table prints them: ``("6 bottlenecks", "44 … 104")``."""
    if not entry["count"]:
        return entry["step"], str(entry["channels"])
    plural = "s" if entry["count"] > 1 else ""
    channels = f"{entry['channels']} … {entry['last']}" if entry["count"] > 1 else str(entry["channels"])
    return f"{entry['count']} bottleneck{plural}", channels


def channel_curve(rows: list[PlanRow]) -> list[tuple[float, int]]:
    """(x, channels) for the plot: the stem at x = 0, stage s's rows spread evenly over (s, s + 1].

    Stretching every stage to the same width puts DenseNet's and CSPDenseNet's stages side by
    side although they have different numbers of steps. The head (pool, fc) is left out.
    """
    points = [(0.0, rows[0].channels)]
    stages: dict[int, list[PlanRow]] = {}
    for row in rows:
        if row.stage is not None:
            stages.setdefault(row.stage, []).append(row)
    for stage, members in stages.items():
        points += [(stage + (i + 1) / len(members), r.channels) for i, r in enumerate(members)]
    return points


def compact(n: int) -> str:
    """A count in three significant figures: 9536 -> '9.54 k', 1087869224 -> '1.09 G', 0 -> '–'."""
    if n == 0:
        return "–"
    value, unit = float(n), ""
    for next_unit in ("k", "M", "G", "T", "P"):
        if abs(value) < 999.5:
            break
        value, unit = value / 1000, next_unit
    if not unit:
        return str(n)
    digits = 2 if abs(value) < 9.995 else 1 if abs(value) < 99.95 else 0
    return f"{value:.{digits}f} {unit}"


def explorer_view(kind: str = "cspdensenet", **settings: Any) -> dict[str, Any]:
    """Everything the explorer shows for these settings, from the closed form only.

    Args:
        kind: whose plan the table lists, ``"densenet"`` or ``"cspdensenet"``; also picks the
            defaults (see ``explorer_settings``).
        settings: ``channel_plan`` keywords (``growth_rate``, ``repeats``, ``compression``,
            ``channel_pooling``, ``split_ratio``, ``fusion``, ``image_size``, ...). DenseNet gets
            the same ones minus the CSP-only settings.

    Returns:
        ``{"kind", "settings", "error", "table", "curves", "totals", "ratios", "text", "html"}``.
        ``error`` is ``None`` or the ``ValueError`` sentence of the network that cannot be built
        (then ``table`` and ``curves`` are empty and ``totals`` holds only what could be computed).
    """
    full = explorer_settings(kind, **settings)
    configs = {"cspdensenet": full,
               "densenet": {k: v for k, v in full.items() if k not in CSP_ONLY}}
    view: dict[str, Any] = dict(kind=kind, settings=full, error=None, error_kind=None, table=[],
                                curves={}, totals={}, ratios={})
    plans = {}
    for name in (kind, *(k for k in KINDS if k != kind)):  # the table's network first
        try:
            plans[name] = channel_plan(name, **configs[name])
        except ValueError as error:
            view.update(error=str(error), error_kind=name)
            break
        view["totals"][name] = {"params": sum(r.params for r in plans[name]),
                                "flops": sum(r.flops for r in plans[name])}
    if view["error"] is None:
        view["table"] = collapse_bottlenecks(plans[kind])
        view["curves"] = {name: channel_curve(rows) for name, rows in plans.items()}
        view["ratios"] = {key: view["totals"]["cspdensenet"][key] / view["totals"]["densenet"][key]
                          for key in ("params", "flops")}
    view["text"] = view_text(view)
    view["html"] = view_html(view)
    return view


def view_text(view: dict[str, Any]) -> str:
    """The totals (or the error) as plain text."""
    if view["error"]:
        return f"{NAMES[view['error_kind']]}: {view['error']}"
    lines = [f"{NAMES[k]:<15}{view['totals'][k]['params']:>15,} parameters "
             f"{view['totals'][k]['flops']:>17,} FLOPs" for k in KINDS]
    r = view["ratios"]
    lines.append(f"{'CSP / DenseNet':<15}{r['params']:>15.3f}            {r['flops']:>17.3f}")
    return "\n".join(lines)


_CELL = "padding:2px 10px;text-align:right;border-bottom:1px solid #e5e5e5"
_TABLE = "border-collapse:collapse;margin:0"
_LEFT = ";text-align:left"


def view_html(view: dict[str, Any]) -> str:
    """The totals and the plan table (or the error) as HTML."""
    return totals_html(view) + table_html(view)


def totals_html(view: dict[str, Any]) -> str:
    """Parameters and FLOPs of both networks and their ratios, or the error, as HTML."""
    if view["error"]:
        return ('<div style="border-left:4px solid #c62828;background:#fdecea;padding:8px 12px;'
                f'color:#611a15"><b>{NAMES[view["error_kind"]]} cannot be built with these '
                f'settings.</b><br>{_escape(view["error"])}</div>')
    head = "".join(f'<th style="{_CELL}">{h}</th>' for h in ("", "parameters", "FLOPs (2 × MACs)"))
    body = "".join(
        f'<tr><th style="{_CELL};text-align:left;color:{COLORS[k]}">{NAMES[k]}</th>'
        f'<td style="{_CELL}">{view["totals"][k]["params"]:,}</td>'
        f'<td style="{_CELL}">{view["totals"][k]["flops"]:,}</td></tr>' for k in KINDS)
    r = view["ratios"]
    body += (f'<tr><th style="{_CELL};text-align:left">CSP / DenseNet</th>'
             f'<td style="{_CELL}">{r["params"]:.3f} ×</td><td style="{_CELL}">{r["flops"]:.3f} ×</td></tr>')
    return f'<table style="{_TABLE}"><tr>{head}</tr>{body}</table>'


def table_html(view: dict[str, Any]) -> str:
    """Every step of the table's network (bottlenecks folded), as HTML; empty on error."""
    if view["error"]:
        return ""
    columns = ("stage", "step", "channels", "size", "params", "FLOPs")
    rows = []
    for e in view["table"]:
        step, channels = step_label(e)
        cells = ("" if e["stage"] is None else e["stage"], step, channels, f"{e['size']}×{e['size']}",
                 compact(e["params"]), compact(e["flops"]))
        rows.append("<tr>" + "".join(f'<td style="{_CELL}{_LEFT * (i == 1)}">{c}</td>'
                                     for i, c in enumerate(cells)) + "</tr>")
    return (f'<div style="max-height:22em;overflow-y:auto"><table style="{_TABLE}">'
            f'<caption style="text-align:left">Every step of {NAMES[view["kind"]]}</caption><tr>'
            + "".join(f'<th style="{_CELL}{_LEFT * (i == 1)}">{c}</th>' for i, c in enumerate(columns))
            + "</tr>"
            + "".join(rows) + "</table></div>")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plot_view(view: dict[str, Any], ax: Any) -> None:
    """Draw both channel curves of ``view`` on the matplotlib axes ``ax``."""
    if view["error"]:
        ax.text(0.5, 0.5, "no plot: " + NAMES[view["error_kind"]] + " cannot be built",
                ha="center", va="center", transform=ax.transAxes, color="#611a15")
        ax.set_axis_off()
        return
    full = view["settings"]
    for name in KINDS:  # DenseNet first, whichever network the table shows
        xs, ys = zip(*view["curves"][name])
        label = (f"DenseNet (k={full['growth_rate']})" if name == "densenet" else
                 f"CSPDenseNet (k={full['growth_rate']}, fusion {full['fusion']})")
        ax.plot(xs, ys, marker="o", markersize=2.5, linewidth=1.4, color=COLORS[name], label=label)
    n_stages = len(full["repeats"])
    for boundary in range(1, n_stages):
        ax.axvline(boundary, color="#bbbbbb", linewidth=0.8, linestyle="--", zorder=0)
    ax.set_xticks([0] + [s + 0.5 for s in range(n_stages)],
                  ["stem"] + [f"stage {s}" for s in range(n_stages)])
    ax.set_xlim(-0.1, n_stages + 0.05)
    ax.set_ylim(0, None)
    ax.set_ylabel("channels")
    ax.set_xlabel("steps of the network (each stage stretched to the same width)", fontsize=9)
    ax.grid(axis="y", color="#eeeeee")
    ax.legend(loc="upper left", frameon=False, fontsize=9)


def render_png(view: dict[str, Any], fig: Any) -> bytes:
    """Redraw ``fig`` (a matplotlib ``Figure`` with one axes) for ``view``; return PNG bytes."""
    ax = fig.axes[0]
    ax.clear()
    ax.set_axis_on()
    plot_view(view, ax)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def needs_colab_widget_manager(widgets_version: str) -> bool:
    """Whether Colab needs its custom widget manager to show widgets of this ipywidgets version.

    Colab's own front end renders ipywidgets 7; from version 8 on the widgets' messages changed
    and only the custom manager (``google.colab.output.enable_custom_widget_manager``) draws them.
    """
    major = widgets_version.split(".")[0]
    if not major.isdigit():
        raise ValueError(f"widgets_version must look like '7.7.1' or '8.1.9', got {widgets_version!r}")
    return int(major) >= 8


def enable_colab_widgets() -> bool:
    """In Colab with ipywidgets 8 or later, turn on Colab's custom widget manager; elsewhere nothing.

    Returns whether it was turned on. Safe to call again (Colab keeps one manager).
    """
    if "google.colab" not in sys.modules:  # imported only inside Colab
        return False
    import ipywidgets

    if not needs_colab_widget_manager(ipywidgets.__version__):
        return False
    try:
        from google.colab import output
    except ImportError:  # a package named google.colab that is not Colab's
        return False
    output.enable_custom_widget_manager()
    return True


def channel_explorer(kind: str = "cspdensenet", **defaults: Any) -> Any:
    """Sliders for growth rate, compression, image size, channel pooling, split ratio, fusion and
    the four stages' repeats; every move redraws the plan table, the channel plot and the totals.

    ``defaults`` set the starting values (and any non-slider setting, e.g. ``stem_channels``).
    Returns an ``ipywidgets.VBox``; display it as a cell's last expression.
    """
    import ipywidgets as w
    from matplotlib.figure import Figure

    start = explorer_settings(kind, **defaults)
    repeats = check_repeats(start["repeats"])
    if len(repeats) != 4:
        raise ValueError(f"channel_explorer has one slider per stage for 4 stages; got repeats={repeats!r}")
    check_choice("fusion", start["fusion"], FUSIONS)
    for name, (low, high, step) in SLIDERS.items():
        for value in (repeats if name == "repeats" else [start[name]]):
            if isinstance(step, int):
                check_int(name, value, low, high)
            elif check_fraction(name, value) < low or value > high:
                raise ValueError(f"{name} must lie between {low} and {high} in channel_explorer, got {value}")
    fixed = {k: v for k, v in start.items() if k not in SLIDERS and k != "fusion"}
    enable_colab_widgets()

    style, layout = {"description_width": "112px"}, w.Layout(width="310px")

    def slider(name: str, value: float, description: str) -> Any:
        low, high, step = SLIDERS[name]
        kind_ = w.IntSlider if isinstance(step, int) else w.FloatSlider
        extra = {} if kind_ is w.IntSlider else {"readout_format": ".2f"}
        return kind_(value=value, min=low, max=high, step=step, description=description,
                     style=style, layout=layout, **extra)

    controls = {
        "growth_rate": slider("growth_rate", start["growth_rate"], "growth rate k"),
        "compression": slider("compression", start["compression"], "compression"),
        "image_size": slider("image_size", start["image_size"], "image size"),
        "channel_pooling": slider("channel_pooling", start["channel_pooling"], "channel pooling"),
        "split_ratio": slider("split_ratio", start["split_ratio"], "split ratio"),
        "fusion": w.Dropdown(options=list(FUSIONS), value=start["fusion"],
                             description="fusion", style=style, layout=layout),
    }
    for stage, n in enumerate(repeats):
        controls[f"repeats{stage}"] = slider("repeats", n, f"stage {stage} repeats")
    table_of = w.ToggleButtons(options=[("DenseNet", "densenet"), ("CSPDenseNet", "cspdensenet")],
                               value=kind, description="table", style={"button_width": "110px"})
    totals, table = w.HTML(), w.HTML()
    plot = w.Image(format="png", layout=w.Layout(max_width="760px"))
    fig = Figure(figsize=(7.6, 3.0))  # fixed margins: a layout engine would double the redraw time
    fig.add_subplot()
    fig.subplots_adjust(left=0.085, right=0.99, top=0.97, bottom=0.2)

    def settings() -> dict[str, Any]:
        values = {name: c.value for name, c in controls.items()}
        chosen = {k: (round(v, 2) if isinstance(v, float) else v) for k, v in values.items()
                  if not k.startswith("repeats")}
        chosen["repeats"] = tuple(values[f"repeats{s}"] for s in range(4))
        return {**fixed, **chosen}

    def update(_change: Any = None) -> None:
        view = explorer_view(table_of.value, **settings())
        totals.value, table.value = totals_html(view), table_html(view)
        if view["error"]:
            plot.layout.display = table_of.layout.display = "none"
        else:
            plot.value = render_png(view, fig)
            plot.layout.display = table_of.layout.display = None

    for control in (*controls.values(), table_of):
        control.observe(update, names="value")
    update()
    def column(title: str, names: list[str]) -> Any:
        return w.VBox([w.HTML(f"<b>{title}</b>")] + [controls[n] for n in names])

    panel = w.HBox([
        column("Both networks", ["growth_rate", "compression", "image_size"]),
        column("CSP variant", ["channel_pooling", "split_ratio", "fusion"]),
        column("Bottlenecks per stage", [f"repeats{s}" for s in range(4)]),
    ], layout=w.Layout(flex_flow="row wrap"))
    explorer = w.VBox([panel, totals, plot, table_of, table])
    # The parts, for tests and for readers who want to drive the explorer from code.
    explorer.controls, explorer.table_of = controls, table_of
    explorer.totals, explorer.plot, explorer.table = totals, plot, table
    return explorer
