"""Plotly figures (figure JSON) of a training job: live learning curves from the job's metric points, and the
evaluation's confusion matrix, ROC and precision-recall curves, residuals and feature importance."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.core.models import JobMetric

CURVE_PREFIXES = ("train_", "validation_")
MAX_IMPORTANCE_BARS = 25


def _layout(title: str, x_title: str, y_title: str, height: int = 320, legend: bool = True) -> dict[str, Any]:
    return {"title": {"text": title, "font": {"size": 14}}, "height": height,
            "margin": {"l": 60, "r": 20, "t": 40, "b": 50}, "paper_bgcolor": "rgba(0,0,0,0)",
            "xaxis": {"title": {"text": x_title}}, "yaxis": {"title": {"text": y_title}}, "showlegend": legend}


def learning_curves(points: Iterable[JobMetric]) -> list[dict[str, Any]]:
    """One chart per curve (loss, logloss, rmse...), train and validation overlaid, x = round or epoch."""
    series: dict[str, dict[str, list[JobMetric]]] = {}
    for point in points:
        if point.step is None:
            continue
        for prefix in CURVE_PREFIXES:
            if point.name.startswith(prefix):
                series.setdefault(point.name[len(prefix):], {}).setdefault(prefix.rstrip("_"), []).append(point)
    figures = []
    for name in sorted(series):
        traces = [{"type": "scatter", "mode": "lines", "name": part, "x": [p.step for p in kept],
                   "y": [p.value for p in kept]} for part, kept in sorted(series[name].items())]
        figures.append({"name": name, "data_id": f"curve-{name}",
                        "figure": {"data": traces, "layout": _layout(name, "round / epoch", name)}})
    return figures


def metric_curves(points: Iterable[JobMetric]) -> list[dict[str, Any]]:
    """One chart per metric a script's regexes read: its value at each occurrence in the log (step 1, 2, ...)."""
    series: dict[str, list[JobMetric]] = {}
    for point in points:
        if point.step is not None:
            series.setdefault(point.name, []).append(point)
    return [{"name": name, "data_id": f"curve-{index}",
             "figure": {"data": [{"type": "scatter", "mode": "lines+markers", "name": name,
                                  "x": [p.step for p in kept], "y": [p.value for p in kept]}],
                        "layout": _layout(name, "occurrence in the log", name, legend=False)}}
            for index, (name, kept) in enumerate(sorted(series.items()))]


def confusion_figure(confusion: dict[str, Any]) -> dict[str, Any]:
    labels = [str(label) for label in confusion["labels"]]
    matrix = confusion["matrix"]
    heat = {"type": "heatmap", "z": matrix, "x": labels, "y": labels, "colorscale": "Blues", "reversescale": True,
            "showscale": False,
            "text": matrix, "texttemplate": "%{text}", "hovertemplate": "true %{y}, predicted %{x}: %{z}<extra></extra>"}
    layout = _layout("Confusion matrix", "predicted", "true", height=max(300, 40 * len(labels) + 120), legend=False)
    layout["yaxis"]["autorange"] = "reversed"
    layout["margin"]["l"] = 110
    return {"data": [heat], "layout": layout}


def roc_figure(roc: dict[str, Any], auc: float | None) -> dict[str, Any]:
    title = "ROC curve" + (f" (AUC {auc:.3f})" if auc is not None else "")
    return {"data": [{"type": "scatter", "mode": "lines", "name": "model", "x": roc["fpr"], "y": roc["tpr"]},
                     {"type": "scatter", "mode": "lines", "name": "chance", "x": [0, 1], "y": [0, 1],
                      "line": {"dash": "dot"}}],
            "layout": _layout(title, "false positive rate", "true positive rate")}


def pr_figure(pr: dict[str, Any]) -> dict[str, Any]:
    base = pr["positive_rate"]
    return {"data": [{"type": "scatter", "mode": "lines", "name": "model", "x": pr["recall"], "y": pr["precision"]},
                     {"type": "scatter", "mode": "lines", "name": "chance", "x": [0, 1], "y": [base, base],
                      "line": {"dash": "dot"}}],
            "layout": _layout("Precision-recall curve", "recall", "precision")}


def residual_figure(residuals: dict[str, Any]) -> dict[str, Any]:
    predicted = residuals["predicted"]
    line_x = [min(predicted), max(predicted)] if predicted else [0, 1]
    return {"data": [{"type": "scattergl", "mode": "markers", "name": "rows", "x": predicted,
                      "y": residuals["residual"], "marker": {"size": 5, "opacity": 0.6}},
                     {"type": "scatter", "mode": "lines", "name": "zero", "x": line_x, "y": [0, 0],
                      "line": {"dash": "dot"}}],
            "layout": _layout("Residuals (true − predicted)", "predicted", "residual", legend=False)}


def importance_figure(importance: list[dict[str, Any]]) -> dict[str, Any]:
    shown = importance[:MAX_IMPORTANCE_BARS][::-1]
    layout = _layout("Feature importance", "share of importance", "", height=max(260, 22 * len(shown) + 80),
                     legend=False)
    layout["margin"]["l"] = 160
    return {"data": [{"type": "bar", "orientation": "h", "x": [entry["importance"] for entry in shown],
                      "y": [entry["column"] for entry in shown]}], "layout": layout}


def bars_figure(title: str, labels: list[str], values: list[float], x_title: str, y_title: str) -> dict[str, Any]:
    return {"data": [{"type": "bar", "x": labels, "y": values}], "layout": _layout(title, x_title, y_title,
                                                                                  legend=False)}


def result_figures(result: dict[str, Any]) -> list[dict[str, Any]]:
    """[{"id", "title", "figure"}] for the evaluation document of a completed job."""
    charts = result.get("charts") or {}
    out: list[dict[str, Any]] = []
    if "confusion_matrix" in charts:
        out.append({"id": "confusion", "figure": confusion_figure(charts["confusion_matrix"])})
    if "roc" in charts:
        out.append({"id": "roc", "figure": roc_figure(charts["roc"], result["metrics"].get("roc_auc"))})
    if "pr" in charts:
        out.append({"id": "pr", "figure": pr_figure(charts["pr"])})
    if "residuals" in charts:
        out.append({"id": "residuals", "figure": residual_figure(charts["residuals"])})
    if result.get("feature_importance"):
        out.append({"id": "importance", "figure": importance_figure(result["feature_importance"])})
    if "cluster_sizes" in charts:
        sizes = charts["cluster_sizes"]
        out.append({"id": "clusters", "figure": bars_figure("Rows per cluster", [str(i) for i in range(len(sizes))],
                                                            sizes, "cluster", "rows")})
    if "explained_variance_ratio" in charts:
        ratios = charts["explained_variance_ratio"]
        out.append({"id": "variance", "figure": bars_figure("Explained variance per component",
                                                            [f"PC{i + 1}" for i in range(len(ratios))], ratios,
                                                            "component", "share of variance")})
    if "anomaly_scores" in charts:
        scores = charts["anomaly_scores"]
        centres = [(a + b) / 2 for a, b in zip(scores["edges"][:-1], scores["edges"][1:], strict=True)]
        out.append({"id": "anomaly", "figure": bars_figure("Anomaly scores", [f"{c:.3f}" for c in centres],
                                                           scores["counts"], "score", "rows")})
    for entry in out:
        entry["data_id"] = f"figure-{entry['id']}"
    return out
