"""Metric charts: one plotly line figure per metric, by step when every point has one, thinned when long."""

from datetime import timedelta

from django.utils import timezone

from apps.core.charts import MAX_POINTS, metric_line_figures
from apps.core.models import JobMetric


def test_one_line_chart_per_metric_ordered_by_name_with_steps_on_x():
    points = [JobMetric(name="loss", value=v, step=s) for s, v in enumerate([0.9, 0.5])]
    points += [JobMetric(name="accuracy", value=0.7, step=0)]
    figures = metric_line_figures(points)
    assert [figure["name"] for figure in figures] == ["accuracy", "loss"]
    loss = figures[1]["figure"]
    assert loss["data"][0]["x"] == [0, 1] and loss["data"][0]["y"] == [0.9, 0.5]
    assert loss["layout"]["xaxis"]["title"]["text"] == "step"


def test_points_without_steps_are_drawn_over_time():
    now = timezone.now()
    points = [JobMetric(name="rows", value=10, step=None, at=now), JobMetric(name="rows", value=20, step=None, at=now + timedelta(seconds=1))]
    figure = metric_line_figures(points)[0]["figure"]
    assert figure["data"][0]["x"] == [now.isoformat(), (now + timedelta(seconds=1)).isoformat()]
    assert figure["layout"]["xaxis"]["title"]["text"] == "time"


def test_a_long_series_is_thinned_and_keeps_its_last_point():
    points = [JobMetric(name="loss", value=float(step), step=step) for step in range(MAX_POINTS * 3 + 7)]
    trace = metric_line_figures(points)[0]["figure"]["data"][0]
    assert len(trace["x"]) == MAX_POINTS
    assert trace["x"][0] == 0 and trace["x"][-1] == MAX_POINTS * 3 + 6
    assert trace["x"] == sorted(trace["x"])


def test_no_points_no_charts():
    assert metric_line_figures([]) == []
