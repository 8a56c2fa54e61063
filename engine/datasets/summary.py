"""Per-column summaries: type, missing, distinct, and by type the numbers, top values or date range."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .types import BOOLEAN, DATETIME, FLOAT, INTEGER, STRING, studio_type

TOP_VALUES = 5


def _plain(value: Any) -> Any:
    """A JSON-safe value: no NaN or infinities (PostgreSQL's jsonb refuses them), dates as ISO text."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def summarize_column(name: str, column: pa.ChunkedArray) -> dict[str, Any]:
    kind = studio_type(column.type)
    total = len(column)
    values = column.drop_null()
    if kind == FLOAT:
        values = values.filter(pc.invert(pc.is_nan(values)))
    count = len(values)
    summary: dict[str, Any] = {
        "name": name, "type": kind, "count": count, "missing": total - count,
        "missing_percent": round(100 * (total - count) / total, 2) if total else 0.0,
        "distinct": int(pc.count_distinct(values).as_py()) if count else 0,
    }
    if not count:
        return summary
    if kind in (INTEGER, FLOAT):
        finite = values if kind == INTEGER else values.filter(pc.is_finite(values))
        summary["min"] = _plain(pc.min(values).as_py())
        summary["max"] = _plain(pc.max(values).as_py())
        if len(finite):
            as_float = pc.cast(finite, pa.float64())
            summary["mean"] = _plain(pc.mean(as_float).as_py())
            summary["std"] = _plain(pc.stddev(as_float, ddof=1).as_py()) if len(finite) > 1 else None
            quartiles = pc.quantile(as_float, q=[0.25, 0.5, 0.75]).to_pylist()
            summary["p25"], summary["median"], summary["p75"] = (_plain(q) for q in quartiles)
    elif kind == DATETIME:
        summary["min"] = _plain(pc.min(values).as_py())
        summary["max"] = _plain(pc.max(values).as_py())
    if kind in (STRING, BOOLEAN):
        counts = pc.value_counts(values)
        order = pc.array_sort_indices(counts.field("counts"), order="descending")[:TOP_VALUES]
        top = counts.take(order)
        summary["top"] = [{"value": _plain(v), "count": int(c)}
                          for v, c in zip(top.field("values").to_pylist(), top.field("counts").to_pylist(), strict=True)]
    if kind == STRING:
        lengths = pc.utf8_length(values)
        summary["min_length"], summary["max_length"] = int(pc.min(lengths).as_py()), int(pc.max(lengths).as_py())
    return summary


def summarize(table: pa.Table) -> list[dict[str, Any]]:
    return [summarize_column(name, table.column(index)) for index, name in enumerate(table.column_names)]
