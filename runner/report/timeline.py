"""The lanes as one plotly figure: one subplot per lane, all on the same time axis (seconds)."""
from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from runner.report.model import Lane

__all__ = ["figure", "COLORS", "FONT"]

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

#: category key -> colour; unknown keys take the fallback palette in turn
COLORS = {
    "shot": "#9ecae1", "shot_alt": "#c6dbef", "scene": "#a1d99b", "scene_alt": "#c7e9c0",
    "cut": "#d62728", "dissolve": "#ff7f0e", "fade": "#9467bd",
    "static": "#bdbdbd", "pan_left": "#1f77b4", "pan_right": "#4a98c9", "tilt_up": "#2ca02c",
    "tilt_down": "#74c476", "zoom_in": "#9467bd", "zoom_out": "#b5a0d6", "handheld": "#e6550d",
    "persons": "#1f77b4", "faces": "#e377c2",
    "text_overlay": "#fdae6b", "text_scene": "#bcbddc", "text_uncertain": "#d9d9d9",
    "segment": "#c6dbef", "word": "#6baed6", "voice": "#a1d99b", "filler": "#d62728",
    "rms_dbfs": "#1f77b4", "momentary_lufs_approx": "#ff7f0e", "beat": "#969696",
    "speech": "#6baed6", "singing": "#c994c7", "music": "#fd8d3c", "noise": "#969696", "silence": "#d9d9d9",
    "energy": "#d62728", "activity": "#636363", "key": "#f1c40f", "hook": "#fdd0a2",
    "intro": "#c6dbef", "build": "#fdd0a2", "peak": "#fc9272", "sustain": "#fdae6b", "outro": "#d9d9d9",
    "steady": "#e0e0e0", "not measured": "#ffffff", "vlm": "#dadaeb", "vlm_alt": "#bcbddc",
}
_FALLBACK = ("#8dd3c7", "#bebada", "#fb8072", "#80b1d3", "#fdb462", "#b3de69", "#fccde5", "#d9d9d9")
_ROW_PX, _VALUES_PX, _GAP_PX = 26, 190, 56
_MARGIN = {"l": 100, "r": 20, "t": 40, "b": 100}
_MAX_CUT_LINES = 300


def _color(key: str, seen: dict[str, str]) -> str:
    if key in COLORS:
        return COLORS[key]
    return seen.setdefault(key, _FALLBACK[len(seen) % len(_FALLBACK)])


def _height(lane: Lane) -> int:
    return 36 + _ROW_PX * max(1, len(lane.rows)) if lane.kind == "rows" else _VALUES_PX


def figure(lanes: list[Lane], duration: float, cuts: list[float] | None = None) -> go.Figure:
    """One subplot per lane, x in seconds over [0, duration]; ``cuts`` are drawn across all of them."""
    heights = [_height(lane) for lane in lanes]
    total = sum(heights) + _GAP_PX * len(lanes) + _MARGIN["t"] + _MARGIN["b"]
    n = len(lanes)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, row_heights=heights,
                        vertical_spacing=min(_GAP_PX / total, 0.9 / max(1, n - 1)) if n > 1 else 0.0,
                        subplot_titles=[lane.title for lane in lanes])
    extra: dict[str, str] = {}
    for i, lane in enumerate(lanes, start=1):
        meta = {"lane": lane.key}
        if lane.spans:
            kw = {} if lane.kind == "rows" else {"width": 0.12}
            fig.add_trace(go.Bar(
                x=[max(s.end - s.start, 1e-3) for s in lane.spans], base=[s.start for s in lane.spans],
                y=[s.row for s in lane.spans], orientation="h", text=[s.label for s in lane.spans],
                textposition="inside", insidetextanchor="middle", textangle=0, textfont={"size": 11},
                constraintext="inside", cliponaxis=True,
                hovertext=[s.hover for s in lane.spans], hovertemplate="%{hovertext}<extra></extra>",
                marker={"color": [_color(s.color, extra) for s in lane.spans], "line": {"width": 0.5, "color": "#fff"}},
                name=lane.title, showlegend=False, meta=meta, **kw), row=i, col=1)
        for s in lane.series:
            fig.add_trace(go.Scatter(
                x=s.xs, y=s.ys, mode="lines", line={"shape": s.shape, "width": 1.6, "color": _color(s.color, extra)},
                name=s.name, hovertext=s.hover or None,
                hovertemplate="%{hovertext}<extra></extra>" if s.hover else None,
                legendgroup=lane.key, meta=meta), row=i, col=1)
        if lane.marks:
            fig.add_trace(go.Scatter(
                x=[m.t for m in lane.marks], y=[m.row for m in lane.marks], mode="markers",
                marker={"symbol": [m.symbol for m in lane.marks], "size": 13, "line": {"width": 2},
                        "color": [_color(m.color, extra) for m in lane.marks]},
                hovertext=[m.hover for m in lane.marks], hovertemplate="%{hovertext}<extra></extra>",
                name=f"{lane.title} marks", showlegend=False, meta=meta), row=i, col=1)
        if lane.kind == "rows":
            fig.update_yaxes(type="category", categoryorder="array", categoryarray=lane.rows,
                             autorange="reversed", row=i, col=1)
        else:
            fig.update_yaxes(title_text=lane.y_title, range=list(lane.y_range) if lane.y_range else None,
                             zeroline=False, row=i, col=1)
    fig.update_xaxes(range=[0, duration], showticklabels=True, ticksuffix=" s", showgrid=True, gridcolor="#eee")
    fig.update_xaxes(title_text="seconds", row=n, col=1)
    for t in (cuts or [])[:_MAX_CUT_LINES]:
        fig.add_shape(type="line", xref="x", yref="paper", x0=t, x1=t, y0=0, y1=1, layer="below",
                      line={"color": "rgba(214,39,40,0.35)", "width": 1, "dash": "dot"})
    fig.update_layout(
        template="plotly_white", height=total, barmode="overlay", hovermode="closest",
        margin=_MARGIN, font={"family": FONT, "size": 12},
        # the legend (line series only) under the last axis title, clear of the toolbar and subplot titles
        legend={"orientation": "h", "yanchor": "top", "y": -62 / (total - _MARGIN["t"] - _MARGIN["b"]),
                "xanchor": "left", "x": 0},
        hoverlabel={"font": {"family": FONT}, "align": "left"}, bargap=0.25,
        uniformtext={"minsize": 9, "mode": "hide"})
    fig.update_annotations(font={"size": 13}, xanchor="left", x=0)
    return fig
