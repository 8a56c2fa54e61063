"""Plotly figures (figure JSON) of a tuning job, from the trial records engine.tuning.analysis reads: the
objective over trials with the best so far, parallel coordinates of the completed trials, and the
hyperparameter importance. Parallel coordinates are drawn with scatter lines, as on the Experiments compare
page: plotly's parcoords trace compiles WebGL code with `new Function`, which the studio's CSP forbids."""

from __future__ import annotations

import math
from html import escape
from typing import Any

from engine.tuning import objective_over_trials, parallel_coordinates

LOW_COLOUR, HIGH_COLOUR = (214, 96, 77), (33, 102, 172)  # worse trials red, better trials blue


def _text(value: Any) -> str:
    return escape(str(value), quote=False)


def _layout(title: str, x_title: str = "", y_title: str = "", height: int = 320,
            legend: bool = False) -> dict[str, Any]:
    return {"title": {"text": _text(title), "font": {"size": 14}}, "height": height,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "paper_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"title": {"text": _text(x_title)}, "automargin": True},
            "yaxis": {"title": {"text": _text(y_title)}, "automargin": True}, "showlegend": legend,
            "legend": {"orientation": "h", "y": -0.25}}


def objective_figure(records: list[dict[str, Any]], direction: str, metric: str) -> dict[str, Any] | None:
    """Each completed trial's value by trial number, and a step line of the best so far."""
    points = objective_over_trials(records, direction)
    done = [point for point in points if point["status"] == "completed" and point["value"] is not None]
    if not done:
        return None
    best = [point for point in points if point["best"] is not None]
    traces = [
        {"type": "scatter", "mode": "markers", "name": "trial", "x": [p["number"] for p in done],
         "y": [p["value"] for p in done], "marker": {"size": 9},
         "hovertemplate": f"trial %{{x}}<br>{_text(metric)} %{{y:.4g}}<extra></extra>"},
        {"type": "scatter", "mode": "lines", "name": "best so far", "x": [p["number"] for p in best],
         "y": [p["best"] for p in best], "line": {"shape": "hv", "dash": "dot"}},
    ]
    layout = _layout(f"{metric} over trials", "trial", metric, legend=True)
    layout["xaxis"]["dtick"] = 1 if len(points) <= 20 else None
    return {"data": traces, "layout": layout}


def _position(dimension: dict[str, Any], value: Any) -> float | None:
    if value is None:
        return None
    if dimension["scale"] == "categorical":
        count = len(dimension["categories"])
        return value / (count - 1) if count > 1 else 0.5
    low, high = dimension["range"]
    if dimension["scale"] == "log" and low > 0 and value > 0:
        low, high, value = math.log(low), math.log(high), math.log(value)
    return 0.5 if high == low else (float(value) - low) / (high - low)


def _ends(dimension: dict[str, Any]) -> tuple[str, str]:
    if dimension["scale"] == "categorical":
        return dimension["categories"][0], dimension["categories"][-1]
    low, high = dimension["range"]
    return f"{low:.4g}", f"{high:.4g}"


def _colour(share: float) -> str:
    red, green, blue = (round(low + (high - low) * share) for low, high in zip(LOW_COLOUR, HIGH_COLOUR, strict=True))
    return f"rgb({red},{green},{blue})"


def parallel_figure(records: list[dict[str, Any]], ranges: Any, metric: str, direction: str) -> dict[str, Any] | None:
    """An axis per searched hyperparameter (on its range and scale) and one for the objective; a line per
    completed trial, bluer the better it did. None with fewer than two completed trials."""
    data = parallel_coordinates(records, ranges or None, metric)
    values = data["objective"]["values"]
    if len(values) < 2 or not data["dimensions"]:
        return None
    low, high = min(values), max(values)
    objective = {"name": metric, "scale": "linear", "values": values, "range": [low, high]}
    axes = [*data["dimensions"], objective]
    labels = [_text(axis["name"]) for axis in axes]
    traces = []
    for index, number in enumerate(data["numbers"]):
        value = values[index]
        share = 0.5 if high == low else (value - low) / (high - low)
        share = share if direction == "maximize" else 1 - share
        shown = [axis["categories"][axis["values"][index]] if axis["scale"] == "categorical"
                 and axis["values"][index] is not None else axis["values"][index] for axis in axes]
        traces.append({
            "type": "scatter", "mode": "lines+markers", "name": f"trial {number}", "x": labels,
            "y": [_position(axis, axis["values"][index]) for axis in axes],
            "text": [_text(f"{item:.4g}" if isinstance(item, float) else item) for item in shown],
            "line": {"color": _colour(share)}, "marker": {"color": _colour(share)},
            "hovertemplate": f"trial {number}<br>%{{x}}: %{{text}}<extra></extra>"})
    layout = _layout("Completed trials: hyperparameters and objective (bluer is better)", height=380)
    layout["yaxis"] = {"visible": False, "range": [-0.12, 1.12]}
    layout["xaxis"] = {"type": "category", "showgrid": True, "gridcolor": "#9aa3b2", "tickangle": -20}
    layout["annotations"] = [
        {"x": label, "y": y, "text": _text(text)[:16], "showarrow": False, "font": {"size": 10, "color": "#556"},
         "yshift": shift}
        for label, axis in zip(labels, axes, strict=True)
        for y, text, shift in ((0, _ends(axis)[0], -14), (1, _ends(axis)[1], 14))]
    return {"data": traces, "layout": layout}


def importance_figure(importance: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    if not importance:
        return None
    shown = importance[::-1]
    layout = _layout("Hyperparameter importance (fANOVA)", "share of variation explained",
                     height=max(240, 28 * len(shown) + 90))
    layout["margin"]["l"] = 140
    return {"data": [{"type": "bar", "orientation": "h", "x": [entry["importance"] for entry in shown],
                      "y": [_text(entry["name"]) for entry in shown],
                      "hovertemplate": "%{y}: %{x:.1%}<extra></extra>"}], "layout": layout}


def tuning_figures(records: list[dict[str, Any]], *, ranges: Any, metric: str, direction: str,
                   importance: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """[{"id", "data_id", "label", "figure"}] for the figures that have something to show."""
    figures = [("objective", "Objective over trials", objective_figure(records, direction, metric)),
               ("parallel", "Parallel coordinates", parallel_figure(records, ranges, metric, direction)),
               ("importance", "Hyperparameter importance", importance_figure(importance))]
    return [{"id": name, "data_id": f"tuning-{name}", "label": label, "figure": figure}
            for name, label, figure in figures if figure is not None]
