"""Plotly figures (plain figure JSON) for the core pages; static/js/studio.js draws any [data-plotly]."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .models import JobMetric

MAX_POINTS = 2_000


def _layout(title: str, x_title: str) -> dict[str, Any]:
    return {
        "title": {"text": title, "font": {"size": 14}},
        "height": 260,
        "margin": {"l": 50, "r": 20, "t": 40, "b": 40},
        "xaxis": {"title": {"text": x_title}},
        "yaxis": {"title": {"text": title}},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
    }


def _thin(points: list[JobMetric]) -> list[JobMetric]:
    """Keep at most MAX_POINTS evenly spaced points (always the last), so a long run stays light to draw."""
    if len(points) <= MAX_POINTS:
        return points
    stride = len(points) / MAX_POINTS
    kept = [points[int(index * stride)] for index in range(MAX_POINTS - 1)]
    return [*kept, points[-1]]


def metric_line_figures(points: Iterable[JobMetric]) -> list[dict[str, Any]]:
    """One line chart per metric name: x is the step when every point has one, else the point's time.
    Returns [{"name": ..., "figure": {...}}] ordered by metric name."""
    series: dict[str, list[JobMetric]] = {}
    for point in points:
        series.setdefault(point.name, []).append(point)
    figures = []
    for name in sorted(series):
        kept = _thin(series[name])
        by_step = all(point.step is not None for point in kept)
        x = [point.step if by_step else point.at.isoformat() for point in kept]
        trace = {"type": "scatter", "mode": "lines+markers" if len(kept) < 60 else "lines", "name": name,
                 "x": x, "y": [point.value for point in kept]}
        figures.append({"name": name, "figure": {"data": [trace], "layout": _layout(name, "step" if by_step else "time")}})
    return figures
