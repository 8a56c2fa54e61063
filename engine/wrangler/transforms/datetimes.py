"""Datetime: parse text into dates, take parts, encode cycles, differences and ages."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..errors import TransformError
from ..registry import Param, transform

FAMILY = "Datetime"
UNITS = ("seconds", "minutes", "hours", "days", "weeks")
PARTS = ("year", "quarter", "month", "week", "day", "weekday", "dayofyear", "hour", "minute", "second", "is_weekend")


def datetime_values(df: pd.DataFrame, column: str, param: str) -> pd.Series:
    """The column as datetimes, or a TransformError pointing to parse_datetime."""
    values = df[column]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return values
    raise TransformError(f"Column {column!r} holds {values.dtype} values, not dates. Add a parse_datetime step "
                         f"before this one.", param=param)


datetime_values.uses = (TransformError,)  # type: ignore[attr-defined]


def unit_length(unit: str) -> pd.Timedelta:
    return pd.Timedelta(1, unit={"seconds": "s", "minutes": "min", "hours": "h", "days": "D", "weeks": "W"}[unit])


@transform("parse_datetime", family=FAMILY,
           description="Turn text into dates with a format such as %d/%m/%Y; values that do not match become missing.",
           params=[Param("column", "column"),
                   Param("format", "string", required=False,
                         help="strftime codes, e.g. %Y-%m-%d %H:%M; empty reads ISO 8601 dates")],
           example={"column": "signup_text", "format": "%d/%m/%Y"}, uses=(TransformError,))
def parse_datetime(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, form = params["column"], params.get("format") or "ISO8601"
    values = df[column]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return df
    if form != "ISO8601" and "%" not in form:
        raise TransformError(f"The format {form!r} has no % codes; write it like %d/%m/%Y or %Y-%m-%d %H:%M.",
                             param="format")
    try:
        parsed = pd.to_datetime(values.astype("string"), format=form, errors="coerce")
    except ValueError as error:
        raise TransformError(f"The format {form!r} cannot be used: {error}. Write it like %d/%m/%Y.",
                             param="format") from None
    present = values.notna()
    if present.any() and parsed[present].isna().all():
        example = values[present].iloc[0]
        raise TransformError(f"No value of {column!r} matches the format {form!r} (for example {example!r}).",
                             param="format")
    out = df.copy(deep=False)
    out[column] = parsed
    return out


@transform("datetime_parts", family=FAMILY,
           description="Add columns with parts of a date: year, month, day, weekday (Monday is 0), hour...",
           params=[Param("column", "column", dtype="datetime"),
                   Param("parts", "string_list", default=["year", "month", "day", "weekday"], required=False,
                         help="any of " + ", ".join(PARTS))],
           example={"column": "signup_date", "parts": ["year", "month", "weekday", "is_weekend"]},
           uses=(TransformError, datetime_values))
def datetime_parts(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column = params["column"]
    values = datetime_values(df, column, "column")
    known = ("year", "quarter", "month", "week", "day", "weekday", "dayofyear", "hour", "minute", "second",
             "is_weekend")
    out = df.copy(deep=False)
    for part in params["parts"]:
        if part not in known:
            raise TransformError(f"{part!r} is not a date part; use any of {', '.join(known)}.", param="parts")
        if part == "is_weekend":
            out[f"{column}_{part}"] = (values.dt.day_of_week >= 5).astype("boolean").where(values.notna())
        elif part == "week":
            out[f"{column}_{part}"] = values.dt.isocalendar().week.astype("Int64")
        else:
            attribute = {"weekday": "day_of_week", "dayofyear": "day_of_year"}.get(part, part)
            out[f"{column}_{part}"] = getattr(values.dt, attribute).astype("Int64")
    return out


@transform("cyclic_encode", family=FAMILY,
           description="Encode a cyclic value (an hour, a weekday, a month, or a number with a period) as its sine "
                       "and cosine, so the end of a cycle sits next to its start.",
           params=[Param("column", "column"),
                   Param("part", "choice", choices=("hour", "weekday", "month", "day", "dayofyear", "minute"),
                         required=False, help="for a date column: the part to encode"),
                   Param("period", "number", required=False, minimum=0,
                         help="for a number column: the length of the cycle (24 for hours)")],
           example={"column": "signup_date", "part": "month"}, uses=(TransformError,))
def cyclic_encode(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    column, part, period = params["column"], params.get("part"), params.get("period")
    values = df[column]
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        if not part:
            raise TransformError("Choose the part of the date to encode (hour, weekday, month...).", param="part")
        # Months and days count from 1; shift them so a cycle starts at 0.
        periods: dict[str, tuple[float, int]] = {
            "hour": (24, 0), "weekday": (7, 0), "month": (12, 1), "day": (31, 1), "dayofyear": (366, 1),
            "minute": (60, 0)}
        length, start = periods[part]
        attribute = {"weekday": "day_of_week", "dayofyear": "day_of_year"}.get(part, part)
        numbers = getattr(values.dt, attribute).astype("float64") - start
        name = f"{column}_{part}"
        if period:
            length = float(period)
    else:
        if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
            raise TransformError(f"Column {column!r} is neither a date nor a number.", param="column")
        if not period:
            raise TransformError("Set the period of the cycle (24 for hours, 7 for weekdays...).", param="period")
        numbers, length, name = values.astype("float64"), float(period), column
    angle = 2 * np.pi * numbers.to_numpy(dtype="float64", na_value=np.nan) / length
    out = df.copy(deep=False)
    out[f"{name}_sin"] = np.sin(angle)
    out[f"{name}_cos"] = np.cos(angle)
    return out


@transform("datetime_difference", family=FAMILY,
           description="Add the time from one date column to another, in seconds, minutes, hours, days or weeks.",
           params=[Param("start", "column", dtype="datetime"), Param("end", "column", dtype="datetime"),
                   Param("unit", "choice", choices=UNITS, default="days", required=False),
                   Param("new_column", "string", required=False, help="default: end_minus_start_unit")],
           example={"start": "signup_date", "end": "last_seen", "unit": "hours"},
           uses=(TransformError, datetime_values, unit_length))
def datetime_difference(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    start = datetime_values(df, params["start"], "start")
    end = datetime_values(df, params["end"], "end")
    name = params.get("new_column") or f"{params['end']}_minus_{params['start']}_{params['unit']}"
    out = df.copy(deep=False)
    out[name] = ((end - start) / unit_length(params["unit"])).astype("float64")
    return out


@transform("time_since", family=FAMILY,
           description="Add the time from a date column to a fixed reference date (fixed so that the result is "
                       "the same on every run).",
           params=[Param("column", "column", dtype="datetime"),
                   Param("reference", "string", help="an ISO date such as 2025-01-01 or 2025-01-01T12:00"),
                   Param("unit", "choice", choices=UNITS, default="days", required=False),
                   Param("new_column", "string", required=False, help="default: column_age_unit")],
           example={"column": "signup_date", "reference": "2026-01-01", "unit": "days"},
           uses=(TransformError, datetime_values, unit_length))
def time_since(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    values = datetime_values(df, params["column"], "column")
    try:
        reference = pd.Timestamp(params["reference"])
    except ValueError:
        reference = pd.NaT
    if reference is pd.NaT:
        raise TransformError(f"{params['reference']!r} is not a date; write it like 2025-01-01.", param="reference")
    if values.dt.tz is not None and reference.tzinfo is None:
        reference = reference.tz_localize(values.dt.tz)
    name = params.get("new_column") or f"{params['column']}_age_{params['unit']}"
    out = df.copy(deep=False)
    out[name] = ((reference - values) / unit_length(params["unit"])).astype("float64")
    return out


@transform("round_datetime", family=FAMILY,
           description="Round dates down, up or to the nearest period (hour, day, 15 minutes...).",
           params=[Param("column", "column", dtype="datetime"),
                   Param("frequency", "string", default="D", help="D, h, 15min, min, s"),
                   Param("how", "choice", choices=("floor", "ceil", "round"), default="floor", required=False)],
           example={"column": "last_seen", "frequency": "h", "how": "floor"},
           uses=(TransformError, datetime_values))
def round_datetime(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    values = datetime_values(df, params["column"], "column")
    try:
        rounded = getattr(values.dt, params["how"])(params["frequency"])
    except ValueError:
        # Weeks and months have no fixed length, so dates cannot be rounded to them.
        raise TransformError(f"Dates cannot be rounded to {params['frequency']!r}; use a fixed period such as D, "
                             f"h, 15min or s (for weeks or months use resample).", param="frequency") from None
    out = df.copy(deep=False)
    out[params["column"]] = rounded
    return out


@transform("convert_timezone", family=FAMILY,
           description="Convert dates to another time zone; dates without a zone are first read in the assumed "
                       "zone. Local times that do not exist or are ambiguous (clock changes) become missing.",
           params=[Param("column", "column", dtype="datetime"),
                   Param("timezone", "string", help="an IANA zone such as Europe/Paris or America/New_York"),
                   Param("assume", "string", default="UTC", required=False,
                         help="the zone of dates that have none"),
                   Param("keep_timezone", "boolean", default=True, required=False,
                         help="false keeps the local clock time without the zone")],
           example={"column": "last_seen", "timezone": "Europe/Paris", "assume": "UTC"},
           uses=(TransformError, datetime_values))
def convert_timezone(df: pd.DataFrame, params: dict[str, Any], state: dict[str, Any]) -> pd.DataFrame:
    import zoneinfo

    for key in ("timezone", "assume"):
        try:
            zoneinfo.ZoneInfo(params[key])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise TransformError(f"{params[key]!r} is not a time zone; use a name such as Europe/Paris, "
                                 f"America/New_York or UTC.", param=key) from None
    values = datetime_values(df, params["column"], "column")
    if values.dt.tz is None:
        values = values.dt.tz_localize(params["assume"], ambiguous="NaT", nonexistent="NaT")
    converted = values.dt.tz_convert(params["timezone"])
    if not params["keep_timezone"]:
        converted = converted.dt.tz_localize(None)
    out = df.copy(deep=False)
    out[params["column"]] = converted
    return out
