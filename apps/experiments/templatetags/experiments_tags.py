"""Links of the runs table: sortable headers and pager links that keep the search."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

register = template.Library()


def _query(context: Any, **changes: Any) -> str:
    query = {"filter": context.get("filter", ""), "order_by": context.get("order_by", "")}
    if context.get("show_deleted"):
        query["deleted"] = "1"
    query.update(changes)
    return urlencode({key: value for key, value in query.items() if value not in ("", None)})


@register.simple_tag(takes_context=True)
def query_with(context: Any, **changes: Any) -> str:
    return _query(context, **changes)


@register.simple_tag(takes_context=True)
def sort_link(context: Any, column: str, label: str) -> str:
    """A header that sorts by its column (descending first, then ascending), through htmx or a plain link."""
    sort = context["sorts"].get(column, {"order_by": f"{column} DESC", "arrow": ""})
    experiment = context["experiment"]
    url = reverse("experiments:detail", kwargs={"project": experiment.project.slug, "experiment_id": experiment.id})
    url = f"{url}?{_query(context, order_by=sort['order_by'])}"
    return format_html('<a href="{}" hx-get="{}" hx-target="#runs" hx-push-url="true">{}{}</a>', url, url, label,
                       f" {sort['arrow']}" if sort["arrow"] else "")


@register.filter
def metric_value(value: float | None) -> str:
    """Six significant digits: 0.25, 1.23457e+06; a dash when the run has no such metric."""
    return "—" if value is None else f"{float(value):.6g}"
