"""Turn a request body into the rows a model predicts from, checked against the model's signature.

Accepted bodies:

- `application/json`: `{"instances": [...]}`, `{"inputs": ...}`, a list of rows, or one row. A row is an
  object keyed by column name, or a list of values in the signature's order.
- `text/csv`: a header row naming the columns, then one line per row. The header is required: a CSV whose
  first line were data would silently shift or lose a row, and naming columns lets them come in any order.

A value may be missing (JSON `null`, an empty CSV cell) unless the endpoint refuses missing values; the model
then fills it as it was trained to. `NaN` and infinities are refused: they are not JSON, and a client that sends
them usually has a bug. Every problem is a `ServingError` that names the column and row at fault.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import ServingError

JSON, CSV = "application/json", "text/csv"
NUMERIC, BOOLEAN, DATETIME = "numeric", "boolean", "datetime"
TRUE = {"true", "yes", "t", "y", "1"}
FALSE = {"false", "no", "f", "n", "0"}


def media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def parse_body(body: bytes, content_type: str) -> tuple[list[str], list[list[Any]]]:
    """(column names, rows as lists of raw values) of a request body."""
    kind = media_type(content_type)
    if kind == JSON:
        return _json_rows(body)
    if kind == CSV:
        return _csv_rows(body)
    shown = kind or "none"
    raise ServingError(415, f"Content type '{shown}' is not supported: send application/json or text/csv.",
                       "Content-Type")


def _json_rows(body: bytes) -> tuple[list[str], list[list[Any]]]:
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except ValueError as error:
        raise ServingError(400, f"The request body is not valid JSON: {error}.") from None
    if isinstance(data, dict) and ("instances" in data or "inputs" in data):
        data = data["instances"] if "instances" in data else data["inputs"]
    rows = [data] if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        raise ServingError(400, "Send at least one row: an object keyed by column name, or a list of them.")
    if all(isinstance(row, dict) for row in rows):
        columns: list[str] = []
        seen: set[str] = set()
        for row in rows:
            for name in row:
                if name not in seen:
                    seen.add(name)
                    columns.append(name)
        return columns, [[row.get(name, _ABSENT) for name in columns] for row in rows]
    if all(isinstance(row, list) for row in rows):
        return [], rows  # positional rows: the caller names the columns from the signature
    raise ServingError(400, "Each row must be an object keyed by column name (or, for every row, a list of "
                            "values in the model's column order).")


class _Absent:
    """A column one JSON row lacks while another row has it."""


_ABSENT = _Absent()


def _refuse_constant(name: str) -> Any:
    raise ServingError(400, f"The request holds {name}, which is not a number JSON allows: send null for a "
                            "missing value.")


def _csv_rows(body: bytes) -> tuple[list[str], list[list[Any]]]:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ServingError(400, "The CSV body is not UTF-8 text.") from None
    try:
        lines = list(csv.reader(io.StringIO(text)))
    except csv.Error as error:
        raise ServingError(400, f"The CSV body cannot be read: {error}.") from None
    lines = [line for line in lines if line]
    if len(lines) < 2:
        raise ServingError(400, "A CSV body needs a header row naming the columns and at least one row of values.")
    header = [name.strip() for name in lines[0]]
    for number, line in enumerate(lines[1:], start=1):
        if len(line) != len(header):
            raise ServingError(400, f"CSV row {number} has {len(line)} values but the header names {len(header)} "
                                    "columns.")
    return header, [[None if cell == "" else cell for cell in line] for line in lines[1:]]


def rows_frame(columns: list[str], rows: list[list[Any]], signature: Sequence[dict[str, str]], *,
               strict_columns: bool, allow_missing: bool) -> pd.DataFrame:
    """The input rows as a DataFrame with the signature's column types. With `strict_columns` (a model without
    a data flow) a column outside the signature is refused; a missing one always is."""
    expected = [entry["name"] for entry in signature]
    if not columns:  # positional rows
        for number, row in enumerate(rows, start=1):
            if len(row) != len(expected):
                raise ServingError(400, f"Row {number} has {len(row)} values; the model takes {len(expected)} "
                                        f"columns, in this order: {', '.join(expected)}.")
        columns = expected
    duplicates = {name for name in columns if columns.count(name) > 1}
    if duplicates:
        name = sorted(duplicates)[0]
        raise ServingError(400, f"Column '{name}' appears twice.", name)
    present = set(columns)
    for name in expected:
        if name not in present:
            raise ServingError(400, f"The input has no column '{name}', which the model needs.", name)
    if strict_columns:
        known = set(expected)
        for name in columns:
            if name not in known:
                raise ServingError(400, f"The model has no column '{name}'; it takes "
                                        f"{', '.join(expected)}.", name)
    kinds = {entry["name"]: entry["type"] for entry in signature}
    data: dict[str, Any] = {}
    for index, name in enumerate(columns):
        values = [row[index] for row in rows]
        data[name] = _column(name, values, kinds.get(name, ""), allow_missing)
    return pd.DataFrame(data)


def _column(name: str, values: list[Any], kind: str, allow_missing: bool) -> Any:
    for number, value in enumerate(values, start=1):
        if value is None or value is _ABSENT:
            if not allow_missing:
                raise ServingError(400, f"Column '{name}' is missing in row {number}; this endpoint needs a value "
                                        "in every column.", name)
        elif isinstance(value, dict | list):
            raise ServingError(400, f"Column '{name}' row {number} holds a {type(value).__name__}; send a single "
                                    "value.", name)
    if kind == NUMERIC:
        return np.array([_number(name, number, value) for number, value in enumerate(values, start=1)],
                        dtype="float64")
    if kind == BOOLEAN:
        return pd.array([_boolean(name, number, value) for number, value in enumerate(values, start=1)],
                        dtype="boolean")
    if kind == DATETIME:
        return pd.Series([_datetime(name, number, value) for number, value in enumerate(values, start=1)],
                         dtype="datetime64[ns, UTC]")
    return pd.array([None if value is None or value is _ABSENT else
                     str(value) if not isinstance(value, str) else value for value in values], dtype=object)


def _wrong(name: str, number: int, value: Any, expected: str) -> ServingError:
    shown = json.dumps(value) if isinstance(value, str | bool | int | float) else repr(value)
    return ServingError(400, f"Column '{name}' row {number} must be {expected}, not {shown[:60]}.", name)


def _number(name: str, number: int, value: Any) -> float:
    if value is None or value is _ABSENT:
        return math.nan
    if isinstance(value, bool):
        raise _wrong(name, number, value, "a number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise _wrong(name, number, value, "a number") from None
    else:
        raise _wrong(name, number, value, "a number")
    if not math.isfinite(result):
        raise ServingError(400, f"Column '{name}' row {number} is {value}; send null (or an empty CSV cell) for "
                                "a missing value.", name)
    return result


def _boolean(name: str, number: int, value: Any) -> bool | None:
    if value is None or value is _ABSENT:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in TRUE | FALSE:
        return value.strip().lower() in TRUE
    raise _wrong(name, number, value, "true or false")


def _datetime(name: str, number: int, value: Any) -> pd.Timestamp | None:
    if value is None or value is _ABSENT:
        return None
    if not isinstance(value, str):
        raise _wrong(name, number, value, "a date and time as text (ISO 8601)")
    try:
        stamp = pd.Timestamp(value)
    except ValueError:
        raise _wrong(name, number, value, "a date and time (ISO 8601)") from None
    if stamp is pd.NaT:
        raise _wrong(name, number, value, "a date and time (ISO 8601)")
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
