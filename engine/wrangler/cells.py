"""A page of a frame as JSON-ready cells, converted a column at a time.

`json_cell` is the rule for one value: missing values (None, NaN, NaT, NA) become None, numpy scalars
Python ones, timestamps ISO text, infinities "inf"/"-inf" (JSON has none), lists and dicts go through JSON,
anything else is its text. `json_column` gives exactly the same values for a whole column, but decides the
conversion once per column from its dtype: numbers come out of one `tolist()` with the missing and infinite
ones fixed by mask, timestamps are formatted by numpy, text is read in one go. Columns of other dtypes
(objects, durations, periods...) go value by value through `json_cell`."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.datasets.table_view import json_value

# pandas' nullable numbers and booleans (Int64, Float64, boolean...).
_MASKED = (pd.arrays.IntegerArray, pd.arrays.FloatingArray, pd.arrays.BooleanArray)
# Timestamps numpy formats the way Timestamp.isoformat does (four-digit years).
_FIRST_SECOND = np.datetime64("0001-01-01T00:00:00", "s")
_LAST_SECOND = np.datetime64("9999-12-31T23:59:59", "s")


def json_cell(value: Any) -> Any:
    """One value as JSON can carry it (the value-by-value rule `json_column` follows)."""
    if isinstance(value, list | dict):
        return json.loads(json.dumps(value, default=str))
    if value is None or (np.ndim(value) == 0 and bool(pd.isna(value))):
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, int | float | bool | str):
        return json_value(value)
    return str(value)


def json_columns(frame: pd.DataFrame) -> list[list[Any]]:
    """Every column of `frame` (by position, so repeated names are fine) as a list of JSON-ready values."""
    return [json_column(values) for values in _column_values(frame)]


def _column_values(frame: pd.DataFrame) -> list[Any]:
    """Each column's array, without building a Series per column (that was most of the conversion's time on a
    page of 100 rows); falls back to the public path."""
    manager = getattr(frame, "_mgr", None)
    if manager is not None and hasattr(manager, "iget_values"):
        return [manager.iget_values(position) for position in range(frame.shape[1])]
    return [series.array for _, series in frame.items()]


def display_kind(dtype: Any) -> str:
    """"number" when every JSON value of a column of this dtype is an int, a float, None, "inf" or "-inf"
    (text that needs no escaping and is never long), "bool" for True/False/None, else "" (anything)."""
    if isinstance(dtype, np.dtype):
        kind = dtype.kind
    elif isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.construct_array_type() in _MASKED:
        kind = dtype.kind
    else:
        return ""
    return "number" if kind in "iuf" else "bool" if kind == "b" else ""


def json_column(values: Any) -> list[Any]:
    """The values of one column (a Series, an ndarray or an extension array) as `json_cell` gives them for
    each value of the column's Series, converted per dtype rather than per value."""
    if isinstance(values, pd.Series):
        values = values.array
    if isinstance(values, pd.arrays.NumpyExtensionArray):
        values = values.to_numpy()
    if isinstance(values, np.ndarray):
        kind = values.dtype.kind
        if kind in "iub":
            return values.tolist()
        if kind == "f":
            return _floats(values)
    elif isinstance(values, pd.arrays.DatetimeArray):
        out = _timestamps(np.asarray(values), None) if values.tz is None else _aware_timestamps(values)
        if out is not None:
            return out
    elif isinstance(values.dtype, pd.StringDtype):
        return _texts(values)
    elif isinstance(values, pd.Categorical):
        return _categories(values)
    elif isinstance(values, _MASKED):
        return _masked_values(values)
    # Objects, durations, periods, complex numbers...: value by value, as the column's Series yields them.
    return [json_cell(value) for value in pd.Series(values, copy=False)]


def _floats(values: np.ndarray) -> list[Any]:
    out = values.tolist()
    finite = np.isfinite(values)
    if not finite.all():
        for index in np.flatnonzero(~finite).tolist():
            value = out[index]
            out[index] = None if value != value else ("inf" if value > 0 else "-inf")
    return out


def _fraction(nanoseconds: int) -> str:
    """The fractional seconds as Timestamp.isoformat writes them: none, microseconds or nanoseconds."""
    if not nanoseconds:
        return ""
    if nanoseconds % 1000:
        return f".{nanoseconds:09d}"
    return f".{nanoseconds // 1000:06d}"


def _timestamps(values: np.ndarray, offsets: list[str] | None) -> list[Any] | None:
    """datetime64 values (wall-clock times, with `offsets` appended when given) as Timestamp.isoformat
    writes them; None when a year is outside 1-9999 (the caller then converts value by value)."""
    missing = np.isnat(values)
    seconds = values.astype("datetime64[s]")
    present = seconds[~missing]
    if present.size and (present.min() < _FIRST_SECOND or present.max() > _LAST_SECOND):
        return None
    text = np.datetime_as_string(seconds, unit="s").tolist()
    fractions = (values - seconds).astype("timedelta64[ns]").astype("int64")
    fractions[missing] = 0
    if fractions.any():
        text = [base + _fraction(nanoseconds) for base, nanoseconds in zip(text, fractions.tolist(), strict=True)]
    if offsets is not None:
        text = [base + offset for base, offset in zip(text, offsets, strict=True)]
    if missing.any():
        for index in np.flatnonzero(missing).tolist():
            text[index] = None
    return text


def _aware_timestamps(values: Any) -> list[Any] | None:
    """Timezone-aware timestamps: the wall-clock time and its UTC offset (+HH:MM), as isoformat writes them."""
    wall = np.asarray(values.tz_localize(None))
    utc = np.asarray(values.tz_convert("UTC").tz_localize(None))
    missing = np.isnat(wall)
    shift = (wall - utc).astype("timedelta64[ns]").astype("int64")
    shift[missing] = 0
    if (shift % 60_000_000_000).any():
        return None  # an offset with seconds (old local mean times): value by value
    offsets = []
    for nanoseconds in shift.tolist():
        sign = "-" if nanoseconds < 0 else "+"
        hours, minutes = divmod(abs(nanoseconds) // 60_000_000_000, 60)
        offsets.append(f"{sign}{hours:02d}:{minutes:02d}")
    return _timestamps(wall, offsets)


def _texts(values: Any) -> list[Any]:
    """Text values, missing ones as None: one Arrow conversion (both storages speak Arrow)."""
    try:
        return pa.array(values).to_pylist()
    except (pa.ArrowException, TypeError, ValueError):
        return values.to_numpy(dtype=object, na_value=None).tolist()


def _masked_values(values: Any) -> list[Any]:
    missing = np.asarray(values.isna())
    numpy_dtype = values.dtype.numpy_dtype
    if numpy_dtype.kind == "f":
        out = _floats(values.to_numpy(dtype=numpy_dtype, na_value=np.nan))
    else:
        fill = False if numpy_dtype.kind == "b" else 0
        out = values.to_numpy(dtype=numpy_dtype, na_value=fill).tolist()
    if missing.any():
        for index in np.flatnonzero(missing).tolist():
            out[index] = None
    return out


def _categories(values: pd.Categorical) -> list[Any]:
    names = json_column(values.categories.array)
    return [names[code] if code >= 0 else None for code in values.codes.tolist()]
