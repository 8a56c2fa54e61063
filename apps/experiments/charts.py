"""Plotly figures (plain figure JSON) for the run and compare pages; static/js/studio.js draws any [data-plotly]."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from engine.experiments import as_number


def _text(value: Any) -> str:
    """User text (run names, keys, param values) as plotly label text: plotly reads some HTML in labels."""
    return escape(str(value), quote=False)


def _layout(title: str, *, x_title: str = "", y_title: str = "", height: int = 300,
            legend: bool = False) -> dict[str, Any]:
    return {
        "title": {"text": _text(title), "font": {"size": 13}},
        "height": height,
        "margin": {"l": 55, "r": 15, "t": 35, "b": 45},
        "xaxis": {"title": {"text": _text(x_title)}, "automargin": True},
        "yaxis": {"title": {"text": _text(y_title)}, "automargin": True},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": legend,
        "legend": {"orientation": "h", "y": -0.25},
    }


def metric_curves_figure(key: str, series: Mapping[str, Sequence[tuple[int, float]]]) -> dict[str, Any]:
    """One metric over steps, a line per run ({run name: [(step, value)]})."""
    traces = [{"type": "scatter", "mode": "lines+markers" if len(points) < 60 else "lines", "name": _text(name),
               "x": [step for step, _ in points], "y": [value for _, value in points],
               "hovertemplate": f"{_text(name)}<br>step %{{x}}: %{{y:.4g}}<extra></extra>"}
              for name, points in series.items() if points]
    return {"data": traces, "layout": _layout(key, x_title="step", y_title=key, legend=len(traces) > 1)}


def _axis(label: str, values: list[Any]) -> dict[str, Any] | None:
    """One axis: each run's position on it (0 to 1), the value shown on hover, and the ends' labels."""
    numbers = [as_number(value) for value in values]
    if all(number is not None for number in numbers):
        low, high = min(numbers), max(numbers)  # type: ignore[type-var]
        span = (high - low) or 1.0
        positions = [0.5 if high == low else (number - low) / span for number in numbers]  # type: ignore[operator]
        return {"label": label, "positions": positions, "shown": [f"{n:.4g}" for n in numbers],
                "ends": (f"{low:.4g}", f"{high:.4g}")}
    if any(value is None for value in values):
        return None  # an axis cannot place a run that lacks the key
    categories = sorted({str(value) for value in values})
    last = max(len(categories) - 1, 1)
    return {"label": label, "positions": [categories.index(str(v)) / last if len(categories) > 1 else 0.5
                                          for v in values],
            "shown": [str(value) for value in values], "ends": (categories[0], categories[-1])}


def parallel_coordinates_figure(runs: Sequence[Any], param_keys: Sequence[str],
                                metric_keys: Sequence[str]) -> dict[str, Any] | None:
    """Parallel coordinates: an axis per param and metric that every run has, a line per run. Drawn with
    scatter lines rather than plotly's parcoords trace, which compiles WebGL code with `new Function` and so
    cannot run under the studio's Content-Security-Policy (no unsafe-eval). None when fewer than two axes."""
    axes = [axis for keys, field in ((param_keys, "params"), (metric_keys, "metrics")) for key in keys
            if (axis := _axis(key, [getattr(run, field).get(key) for run in runs])) is not None]
    if len(axes) < 2:
        return None
    labels = [_text(axis["label"]) for axis in axes]
    traces = [{"type": "scatter", "mode": "lines+markers", "name": _text(run.name), "x": labels,
               "y": [axis["positions"][index] for axis in axes],
               "text": [_text(axis["shown"][index]) for axis in axes],
               "hovertemplate": f"{_text(run.name)}<br>%{{x}}: %{{text}}<extra></extra>"}
              for index, run in enumerate(runs)]
    layout = _layout("Params and metrics of the runs (each axis from its lowest to its highest value)",
                     height=380, legend=True)
    layout["yaxis"] = {"visible": False, "range": [-0.12, 1.12]}
    layout["xaxis"] = {"type": "category", "showgrid": True, "gridcolor": "#9aa3b2", "tickangle": -20}
    layout["annotations"] = [
        {"x": label, "y": y, "text": _text(text)[:16], "showarrow": False, "font": {"size": 10, "color": "#556"},
         "yshift": shift}
        for label, axis in zip(labels, axes, strict=True)
        for y, text, shift in ((0, axis["ends"][0], -14), (1, axis["ends"][1], 14))]
    return {"data": traces, "layout": layout}


def scatter_figure(runs: Sequence[Any], param_key: str, metric_key: str) -> dict[str, Any] | None:
    points = [(run, run.params.get(param_key), run.metrics.get(metric_key)) for run in runs]
    points = [(run, x, y) for run, x, y in points if x is not None and y is not None]
    if not points:
        return None
    numeric = all(as_number(x) is not None for _, x, _ in points)
    trace = {"type": "scatter", "mode": "markers", "marker": {"size": 11},
             "x": [as_number(x) if numeric else _text(x) for _, x, _ in points], "y": [y for _, _, y in points],
             "text": [_text(run.name) for run, _, _ in points],
             "hovertemplate": "%{text}<br>%{x}: %{y:.4g}<extra></extra>"}
    layout = _layout(f"{metric_key} against {param_key}", x_title=param_key, y_title=metric_key)
    if not numeric:
        layout["xaxis"]["type"] = "category"
    return {"data": [trace], "layout": layout}
