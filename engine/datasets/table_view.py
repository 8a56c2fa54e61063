"""The data table behind the dataset page: an uncompressed Arrow IPC copy of a version, memory-mapped so a
page costs only the rows it shows, and sort orders kept as .npy index files. Also the safe CSV export.

Paths are the caller's business (the app builds them under its cache root); everything written here is
written to a temporary name and renamed into place, so a reader never sees half a file."""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

DISPLAY_CHARS = 200
# Cells that a spreadsheet would run as a formula (or that start with a control character) get a leading
# apostrophe in exported CSV, so opening the export cannot run anything (CSV injection).
DANGEROUS_START = r"^[=+\-@\x00-\x1f\x7f]"


def _atomic_write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def ipc_build(parquet_path: Path, ipc_path: Path) -> None:
    """Write the uncompressed Arrow IPC copy of a Parquet file (once per version)."""
    parquet = pq.ParquetFile(parquet_path)

    def write(handle: Any) -> None:
        with pa.ipc.new_file(handle, parquet.schema_arrow) as writer:
            for group in range(parquet.metadata.num_row_groups):
                writer.write_table(parquet.read_row_group(group))

    _atomic_write(ipc_path, write)


_OPEN: OrderedDict[str, pa.Table] = OrderedDict()
_OPEN_LOCK = threading.Lock()
_OPEN_MAX = 16


def ipc_open(ipc_path: Path) -> pa.Table:
    """The memory-mapped table (zero-copy; kept open per process, a few at a time)."""
    key = str(ipc_path)
    with _OPEN_LOCK:
        if key in _OPEN:
            _OPEN.move_to_end(key)
            return _OPEN[key]
    table = pa.ipc.open_file(pa.memory_map(key, "r")).read_all()
    with _OPEN_LOCK:
        _OPEN[key] = table
        while len(_OPEN) > _OPEN_MAX:
            _OPEN.popitem(last=False)
    return table


def sort_index(table: pa.Table, column: str, descending: bool, npy_path: Path) -> np.ndarray:
    """Row order sorted by a column (missing values last), computed once and kept as a .npy file."""
    if npy_path.exists():
        return np.load(npy_path, mmap_mode="r")
    key = (column, "descending" if descending else "ascending", "at_end")
    order = pc.sort_indices(table, sort_keys=[key]).to_numpy().astype(np.int64)
    _atomic_write(npy_path, lambda handle: np.save(handle, order))
    return np.load(npy_path, mmap_mode="r")


def take_rows(table: pa.Table, indices: np.ndarray) -> pa.Table:
    """table.take(indices) without concatenating the table's chunks: each index is looked up in its own
    record batch, so the cost follows the page size, not the table size."""
    if len(indices) == 0:
        return table.slice(0, 0)
    batches = table.to_batches()
    starts = np.cumsum([0] + [batch.num_rows for batch in batches])
    which = np.searchsorted(starts, indices, side="right") - 1
    pieces, order = [], np.empty(len(indices), dtype=np.int64)
    placed = 0
    for batch_index in np.unique(which):
        positions = np.nonzero(which == batch_index)[0]
        local = np.asarray(indices)[positions] - starts[batch_index]
        pieces.append(batches[batch_index].take(pa.array(local)))
        order[positions] = np.arange(placed, placed + len(positions))
        placed += len(positions)
    return pa.Table.from_batches(pieces, schema=table.schema).take(pa.array(order))


@dataclass(frozen=True)
class Page:
    row_numbers: list[int]
    values: list[list[Any]]
    total: int


def page_of(table: pa.Table, *, start: int, size: int, order: np.ndarray | None = None) -> Page:
    """Rows start..start+size (in `order` when given) as JSON-safe values, with their 1-based row numbers."""
    total = table.num_rows
    start = max(0, min(start, max(total - 1, 0)))
    if order is None:
        numbers = np.arange(start, min(start + size, total))
        chunk = table.slice(start, size)
    else:
        numbers = np.asarray(order[start:start + size])
        chunk = take_rows(table, numbers)
    columns = [[json_value(value) for value in chunk.column(i).to_pylist()] for i in range(chunk.num_columns)]
    values = [[column[r] for column in columns] for r in range(chunk.num_rows)]
    return Page(row_numbers=[int(n) + 1 for n in numbers], values=values, total=total)


def json_value(value: Any) -> Any:
    """A cell as JSON can carry it: datetimes as ISO text, NaN and infinities as text (JSON has neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def display_cell(value: Any) -> dict[str, Any]:
    """{text, null, title}: what a cell shows; missing values are marked so the page shows them distinctly."""
    if value is None:
        return {"text": "", "null": True, "title": ""}
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str) and len(value) >= 19 and value[10:11] == "T" and value[:4].isdigit():
        text = value.replace("T", " ", 1)
    else:
        text = str(value)
    shown = text if len(text) <= DISPLAY_CHARS else text[:DISPLAY_CHARS] + "…"
    return {"text": shown, "null": False, "title": text[:1000] if shown != text else ""}


def neutralise(column: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Prefix text cells that start with = + - @ or a control character with an apostrophe."""
    if not pa.types.is_string(column.type):
        return column
    dangerous = pc.fill_null(pc.match_substring_regex(column, DANGEROUS_START), False)
    return pc.if_else(dangerous, pc.binary_join_element_wise("'", column, ""), column)


def neutralise_text(value: str) -> str:
    """The same rule for one Python string (used by tests and small exports)."""
    if value and (value[0] in "=+-@" or ord(value[0]) < 32 or value[0] == "\x7f"):
        return "'" + value
    return value


def csv_chunks(parquet_path: Path) -> Iterator[bytes]:
    """The Parquet file as CSV bytes, a row group at a time, with dangerous text cells neutralised. The file
    is opened here (so a broken file fails now, not halfway through a download)."""
    parquet = pq.ParquetFile(parquet_path)
    return _csv_stream(parquet)


def _csv_stream(parquet: pq.ParquetFile) -> Iterator[bytes]:
    names = [neutralise_text(name) for name in parquet.schema_arrow.names]
    for group in range(parquet.metadata.num_row_groups):
        table = parquet.read_row_group(group)
        safe = pa.Table.from_arrays([neutralise(table.column(i)) for i in range(table.num_columns)], names=names)
        buffer = io.BytesIO()
        pa_csv.write_csv(safe, buffer, write_options=pa_csv.WriteOptions(include_header=group == 0))
        yield buffer.getvalue()
    if parquet.metadata.num_row_groups == 0:
        buffer = io.BytesIO()
        pa_csv.write_csv(parquet.schema_arrow.empty_table().rename_columns(names), buffer)
        yield buffer.getvalue()
