"""The studio's five column types, how Arrow types map onto them, and casting between them."""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .errors import DatasetFileError

INTEGER, FLOAT, BOOLEAN, STRING, DATETIME = "integer", "float", "boolean", "string", "datetime"
STUDIO_TYPES = (INTEGER, FLOAT, BOOLEAN, STRING, DATETIME)
ARROW_TYPES: dict[str, pa.DataType] = {
    INTEGER: pa.int64(), FLOAT: pa.float64(), BOOLEAN: pa.bool_(), STRING: pa.string(),
    DATETIME: pa.timestamp("us"),
}
ROW_GROUP_ROWS = 65_536
EXAMPLES = 5

TRUE_WORDS = {"true", "t", "yes", "y", "1", "1.0"}
FALSE_WORDS = {"false", "f", "no", "n", "0", "0.0"}
INTEGER_RE = r"^\s*[+-]?\d+\s*$"
FLOAT_RE = r"(?i)^\s*[+-]?(\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?|inf|infinity|nan)\s*$"


def studio_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type):
        return INTEGER
    if pa.types.is_floating(arrow_type):
        return FLOAT
    if pa.types.is_boolean(arrow_type):
        return BOOLEAN
    if pa.types.is_timestamp(arrow_type):
        return DATETIME
    return STRING


def schema_of(table: pa.Table) -> list[dict[str, Any]]:
    """[{name, type, nullable}] where nullable says whether the column has missing values."""
    return [
        {"name": field.name, "type": studio_type(field.type), "nullable": table.column(index).null_count > 0}
        for index, field in enumerate(table.schema)
    ]


# --- normalising whatever a reader produced ------------------------------------------------------------------


def _json_text(values: list[Any]) -> pa.Array:
    return pa.array([None if v is None else json.dumps(v, default=str, ensure_ascii=False) for v in values],
                    pa.string())


def normalize_column(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    """One of the five studio Arrow types for any Arrow column a reader can produce."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return normalize_column(name, pc.cast(column, kind.value_type))
    if pa.types.is_integer(kind):
        if kind == pa.uint64() and len(column) and (pc.max(column).as_py() or 0) > np.iinfo(np.int64).max:
            return pc.cast(column, pa.float64())
        return pc.cast(column, pa.int64())
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return pc.cast(column, pa.float64(), safe=False)
    if pa.types.is_boolean(kind):
        return column
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_null(kind):
        return pa.chunked_array([pa.nulls(len(column), pa.string())])
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return pc.cast(column, pa.timestamp("us"), safe=False)
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(kind):
        try:
            return pc.cast(pc.cast(column, pa.binary()), pa.string())
        except pa.ArrowInvalid:
            raise DatasetFileError(
                f"Column '{name}' holds binary data that is not text, which a dataset cannot hold."
            ) from None
    if pa.types.is_nested(kind):
        return pa.chunked_array([_json_text(column.to_pylist())])
    return pa.chunked_array([pa.array([None if v is None else str(v) for v in column.to_pylist()], pa.string())])


def normalize_table(table: pa.Table) -> pa.Table:
    columns = [normalize_column(name, table.column(i)) for i, name in enumerate(table.column_names)]
    return pa.Table.from_arrays(columns, names=table.column_names)


def column_from_values(values: Sequence[Any]) -> pa.Array:
    """An Arrow column from Python values (spreadsheet cells, JSON values): one studio type, mixed columns
    become text."""
    kinds = set()
    for value in values:
        if value is None:
            continue
        if isinstance(value, float) and math.isnan(value):
            kinds.add("float")
        elif isinstance(value, bool):
            kinds.add("bool")
        elif isinstance(value, int):
            kinds.add("int")
        elif isinstance(value, float):
            kinds.add("float")
        elif isinstance(value, dt.datetime | dt.date) and not isinstance(value, dt.time):
            kinds.add("datetime")
        elif isinstance(value, str):
            kinds.add("str")
        elif isinstance(value, dict | list):
            kinds.add("json")
        else:
            kinds.add("other")
    if not kinds:
        return pa.nulls(len(values), pa.string())
    if kinds == {"bool"}:
        return pa.array(values, pa.bool_())
    if kinds == {"int"}:
        try:
            return pa.array(values, pa.int64())
        except OverflowError:
            kinds = {"float"}
    if kinds <= {"int", "float"}:
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if kinds == {"datetime"}:
        moments = [v if v is None or isinstance(v, dt.datetime) else dt.datetime(v.year, v.month, v.day)
                   for v in values]
        return pc.cast(pa.array(moments), pa.timestamp("us"), safe=False)
    if kinds == {"json"}:
        return _json_text(list(values))
    return pa.array([None if v is None else _as_text(v) for v in values], pa.string())


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, ensure_ascii=False)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


def write_parquet(table: pa.Table, path: Path | str) -> None:
    """Parquet with ~64k-row groups (so readers can stream it), zstd-compressed, no pandas metadata."""
    table = table.replace_schema_metadata(None)
    pq.write_table(table, str(path), row_group_size=ROW_GROUP_ROWS, compression="zstd")
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


# --- casting (the editable schema) ---------------------------------------------------------------------------


def _bad_examples(column: pa.ChunkedArray, bad_mask: pa.ChunkedArray | pa.Array) -> list[str]:
    positions = pc.indices_nonzero(pc.fill_null(bad_mask, False)).to_numpy()[:EXAMPLES]
    values = column.take(pa.array(positions)).to_pylist()
    return [f"{_as_text(value)!r} (row {int(position) + 1})" for position, value in zip(positions, values, strict=True)]


def _refuse(name: str, target: str, column: pa.ChunkedArray, bad_mask: Any, why: str) -> None:
    count = int(pc.sum(pc.cast(pc.fill_null(bad_mask, False), pa.int64())).as_py() or 0)
    if count:
        examples = ", ".join(_bad_examples(column, bad_mask))
        raise DatasetFileError(
            f"Column '{name}' cannot become {target}: {count:,} value{'s' if count != 1 else ''} {why}, "
            f"for example {examples}. Fix those values in the file (or keep the column as it is); no new "
            "version was made."
        )


def _to_integer(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = studio_type(column.type)
    if kind == BOOLEAN:
        return pc.cast(column, pa.int64())
    if kind == FLOAT:
        finite = pc.is_finite(column)
        _refuse(name, INTEGER, column, pc.invert(finite), "are not finite numbers (inf or NaN)")
        _refuse(name, INTEGER, column, pc.not_equal(column, pc.floor(column)), "are not whole numbers")
        _refuse(name, INTEGER, column, pc.greater(pc.abs(column), 2.0**63 - 1), "are too large for an integer")
        return pc.cast(column, pa.int64(), safe=False)
    if kind == STRING:
        stripped = pc.replace_substring_regex(pc.utf8_trim_whitespace(column), r"^\+", "")
        _refuse(name, INTEGER, column, pc.invert(pc.match_substring_regex(stripped, INTEGER_RE)),
                "are not whole numbers")
        try:
            return pc.cast(stripped, pa.int64())
        except pa.ArrowInvalid:
            raise DatasetFileError(f"Column '{name}' has numbers too large for an integer column.") from None
    raise DatasetFileError(f"A {kind} column cannot become an integer; change it to string first if you must.")


def _to_float(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = studio_type(column.type)
    if kind in (INTEGER, BOOLEAN, FLOAT):
        return pc.cast(column, pa.float64())
    if kind == STRING:
        stripped = pc.replace_substring_regex(pc.utf8_trim_whitespace(column), r"^\+", "")
        _refuse(name, FLOAT, column, pc.invert(pc.match_substring_regex(stripped, FLOAT_RE)), "are not numbers")
        try:
            return pc.cast(stripped, pa.float64())
        except pa.ArrowInvalid:  # spellings the regex allows but Arrow does not ("Infinity")
            return pa.chunked_array([pa.array(pd.to_numeric(pd.Series(stripped.to_pylist(), dtype="object"),
                                                            errors="coerce"), pa.float64())])
    raise DatasetFileError(f"A {kind} column cannot become a number; change it to string first if you must.")


def _to_boolean(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = studio_type(column.type)
    if kind in (INTEGER, FLOAT):
        _refuse(name, BOOLEAN, column, pc.invert(pc.is_in(column, value_set=pa.array([0, 1], column.type))),
                "are neither 0 nor 1")
        return pc.not_equal(column, pa.scalar(0, column.type))
    if kind == STRING:
        words = pc.utf8_lower(pc.utf8_trim_whitespace(column))
        truthy = pc.is_in(words, value_set=pa.array(sorted(TRUE_WORDS)))
        falsy = pc.is_in(words, value_set=pa.array(sorted(FALSE_WORDS)))
        _refuse(name, BOOLEAN, column, pc.and_(pc.invert(truthy), pc.invert(falsy)),
                "are not true/false, yes/no or 1/0")
        return pc.if_else(pc.is_null(column), pa.scalar(None, pa.bool_()), truthy)
    raise DatasetFileError(f"A {kind} column cannot become a boolean.")


def _to_datetime(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = studio_type(column.type)
    if kind != STRING:
        raise DatasetFileError(f"A {kind} column cannot become a datetime; only text columns can.")
    series = pd.Series(column.to_pylist(), dtype="object")
    try:
        parsed = pd.to_datetime(series, errors="coerce", format="ISO8601")
    except (ValueError, TypeError):
        parsed = pd.Series(pd.NaT, index=series.index)
    if parsed.isna().sum() > series.isna().sum():
        parsed = pd.to_datetime(series, errors="coerce", format="mixed")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    bad = pa.array((parsed.isna() & series.notna()).to_numpy())
    _refuse(name, DATETIME, column, bad, "are not dates or times")
    return pa.chunked_array([pa.array(parsed.astype("datetime64[us]"), pa.timestamp("us"))])


def _to_string(name: str, column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = studio_type(column.type)
    if kind == BOOLEAN:
        return pc.if_else(column, "true", "false")
    if kind == DATETIME:
        return pc.strftime(column, format="%Y-%m-%dT%H:%M:%S")
    return pc.cast(column, pa.string())

CASTS = {INTEGER: _to_integer, FLOAT: _to_float, BOOLEAN: _to_boolean, DATETIME: _to_datetime, STRING: _to_string}


def cast_table(table: pa.Table, types: dict[str, str]) -> pa.Table:
    """A new table with the given columns cast to studio types. Raises DatasetFileError naming the column
    and giving examples of values that cannot be cast; never casts part of a table."""
    unknown = [name for name in types if name not in table.column_names]
    if unknown:
        raise DatasetFileError(f"There is no column called {unknown[0]!r}.")
    columns = []
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        target = types.get(name)
        if target is None or target == studio_type(column.type):
            columns.append(column)
            continue
        if target not in CASTS:
            raise DatasetFileError(f"Unknown type {target!r}; choose one of: {', '.join(STUDIO_TYPES)}.")
        columns.append(CASTS[target](name, column))
    return pa.Table.from_arrays(columns, names=table.column_names)


def check_names(names: Sequence[str | None]) -> list[str]:
    """Column names with blanks named column_<n>; duplicates are refused, naming them."""
    cleaned = [str(name).strip() if name is not None else "" for name in names]
    cleaned = [name or f"column_{index + 1}" for index, name in enumerate(cleaned)]
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for index, name in enumerate(cleaned):
        if name in seen:
            duplicates.append(f"'{name}' (columns {seen[name] + 1} and {index + 1})")
        else:
            seen[name] = index
    if duplicates:
        raise DatasetFileError(
            f"The header has duplicate column names: {', '.join(duplicates[:5])}"
            f"{' and more' if len(duplicates) > 5 else ''}. Rename them so every column has its own name."
        )
    return cleaned

