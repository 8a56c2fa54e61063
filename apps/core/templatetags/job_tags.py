"""Small display filters for job pages."""

from __future__ import annotations

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration(value: timedelta | None) -> str:
    """`1h 02m`, `3m 07s` or `4.2s`; an empty string when there is no duration yet."""
    if value is None:
        return ""
    seconds = value.total_seconds()
    if seconds < 0.1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s"


@register.filter
def percent(value: float | None) -> str:
    return f"{float(value or 0):.0f}%"


@register.filter
def metric_value(value: float | None) -> str:
    """Six significant digits, no trailing zeros: 0.25, 1.23457e+06."""
    return "" if value is None else f"{float(value):.6g}"
