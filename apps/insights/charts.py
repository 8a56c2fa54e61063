"""Plotly figures (plain figure JSON) for the insights report page; static/js/studio.js draws any [data-plotly]."""

from __future__ import annotations

from html import escape
from typing import Any

BAR_COLOUR = "#3b6ea8"
LEAK_COLOUR = "#b03a2e"


def _text(value: Any) -> str:
    """A user's column name or value as plotly label text: plotly reads a few HTML tags and entities in labels,
    so escaping shows "<b>" as typed instead of bold (and never as a link)."""
    return escape(str(value), quote=False)


def _layout(title: str, *, x_title: str = "", y_title: str = "", height: int = 240, left: int = 50) -> dict[str, Any]:
    return {
        "title": {"text": _text(title), "font": {"size": 13}},
        "height": height,
        "margin": {"l": left, "r": 15, "t": 35, "b": 40},
        "xaxis": {"title": {"text": x_title}, "automargin": True},
        "yaxis": {"title": {"text": y_title}, "automargin": True},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "bargap": 0.05,
    }


def histogram_figure(title: str, histogram: dict[str, list], *, dates: bool = False) -> dict[str, Any]:
    edges, counts = histogram["edges"], histogram["counts"]
    if dates:
        trace: dict[str, Any] = {"type": "bar", "x": edges[:-1], "y": counts, "marker": {"color": BAR_COLOUR},
                                 "hovertemplate": "from %{x}<br>%{y} rows<extra></extra>"}
    else:
        centres = [(low + high) / 2 for low, high in zip(edges[:-1], edges[1:], strict=True)]
        widths = [high - low for low, high in zip(edges[:-1], edges[1:], strict=True)]
        trace = {"type": "bar", "x": centres, "y": counts, "width": widths, "marker": {"color": BAR_COLOUR},
                 "customdata": list(zip(edges[:-1], edges[1:], strict=True)),
                 "hovertemplate": "%{customdata[0]:.4g} to %{customdata[1]:.4g}<br>%{y} rows<extra></extra>"}
    return {"data": [trace], "layout": _layout(title, y_title="rows")}


def top_values_figure(title: str, top: list[dict[str, Any]]) -> dict[str, Any]:
    shown = list(reversed(top))  # plotly draws the first bar at the bottom
    trace = {"type": "bar", "orientation": "h", "y": [_text(str(item["value"])[:40]) for item in shown],
             "x": [item["count"] for item in shown], "marker": {"color": BAR_COLOUR},
             "hovertemplate": "%{y}: %{x} rows<extra></extra>"}
    return {"data": [trace], "layout": _layout(title, x_title="rows", height=max(160, 40 + 22 * len(top)), left=90)}


def column_figure(profile: dict[str, Any]) -> dict[str, Any] | None:
    """The chart of one column's card: its histogram, or its most frequent values."""
    title = f"{profile['name']} ({profile['type']})"
    if profile.get("histogram"):
        return histogram_figure(title, profile["histogram"], dates=profile["type"] == "datetime")
    if profile.get("top"):
        return top_values_figure(title, profile["top"])
    return None


def bars_figure(title: str, names: list[str], values: list[float], *, x_title: str,
                highlight: list[bool] | None = None, limit: int = 30) -> dict[str, Any]:
    """Horizontal bars, largest at the top; `highlight` colours flagged bars (leakage)."""
    names, values = names[:limit], values[:limit]
    colours = [LEAK_COLOUR if flagged else BAR_COLOUR for flagged in (highlight or [False] * len(names))[:limit]]
    trace = {"type": "bar", "orientation": "h", "y": [_text(name) for name in reversed(names)], "x": list(reversed(values)),
             "marker": {"color": list(reversed(colours))}, "hovertemplate": "%{y}: %{x:.3f}<extra></extra>"}
    return {"data": [trace], "layout": _layout(title, x_title=x_title, height=max(180, 50 + 20 * len(names)),
                                               left=140)}


def importance_figure(model: dict[str, Any]) -> dict[str, Any]:
    features = model["feature_importance"]
    return bars_figure("Feature importance of the quick model", [f["column"] for f in features],
                       [f["importance"] or 0.0 for f in features], x_title="share of total gain")


def power_figure(target: dict[str, Any]) -> dict[str, Any]:
    powers = target["prediction_power"]
    return bars_figure("Prediction power of each feature alone", [p["column"] for p in powers],
                       [p["power"] for p in powers], x_title="prediction power (0 = none, 1 = perfect)",
                       highlight=[p["leakage"] for p in powers])


def target_figure(target: dict[str, Any], profile: dict[str, Any] | None) -> dict[str, Any] | None:
    distribution = target.get("distribution") or {}
    if distribution.get("kind") == "classes":
        return top_values_figure(f"Classes of {target['column']}", distribution["classes"])
    if profile and profile.get("histogram"):
        return histogram_figure(f"Distribution of {target['column']}", profile["histogram"])
    return None
