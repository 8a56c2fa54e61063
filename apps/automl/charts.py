"""Plotly figures of an AutoML job: the leaderboard's scores, and the best model's global importance. The
evaluation charts (confusion matrix, ROC, PR, residuals) are the training area's own."""

from __future__ import annotations

from typing import Any

from apps.training import charts as training_charts


def evaluation_figures(test: dict[str, Any]) -> list[dict[str, Any]]:
    """The training page's charts of the best model on the rows kept aside."""
    return training_charts.result_figures({"charts": test.get("charts") or {}, "metrics": test.get("metrics") or {}})


def importance_figure(importance: list[dict[str, Any]], method: str) -> dict[str, Any]:
    figure = training_charts.importance_figure(importance)
    title = "Global importance (SHAP)" if method.startswith("SHAP") else "Global importance (permutation)"
    figure["layout"]["title"]["text"] = title
    return figure


def leaderboard_figure(rows: list[dict[str, Any]], metric: str) -> dict[str, Any]:
    """Each scored trial's validation score in the order tried: the search improving over time."""
    scored = sorted((row for row in rows if row.get("validation_score") is not None), key=lambda row: row["trial"])
    trace = {"type": "scatter", "mode": "markers", "x": [row["trial"] for row in scored],
             "y": [row["validation_score"] for row in scored], "text": [row["algorithm"] for row in scored],
             "hovertemplate": "trial %{x}: %{text}, %{y:.4f}<extra></extra>", "marker": {"size": 8}}
    layout = {"title": {"text": f"Validation {metric} per trial", "font": {"size": 14}}, "height": 280,
              "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "paper_bgcolor": "rgba(0,0,0,0)",
              "xaxis": {"title": {"text": "trial"}}, "yaxis": {"title": {"text": metric}}, "showlegend": False}
    return {"data": [trace], "layout": layout}
