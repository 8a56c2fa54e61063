"""Reading an uploaded file into an Arrow table with studio types, or a DatasetFileError saying what is
wrong with it in words the user can act on. Nothing here ever unpickles anything."""

from __future__ import annotations

import codecs
import csv
import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from engine.runtime import JobContext, LocalContext

from .errors import DatasetFileError
from .options import ENCODINGS, FORMATS, ImportOptions, Limits
from .types import check_names, column_from_values, normalize_table

CHUNK = 1024 * 1024
NUL, NEWLINE = b"\x00", b"\n"
# Leading bytes of files people rename to .csv by mistake, and what to tell them.
SIGNATURES: list[tuple[bytes, str]] = [
    (b"PK\x03\x04", "a zip archive (an .xlsx workbook is one; upload it with the .xlsx extension)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or other Office file"),
    (b"PAR1", "a Parquet file (upload it with the .parquet extension)"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip-compressed file (unpack it first)"),
    (b"\x80\x04", "a Python pickle (pickles are never loaded)"),
    (b"\x80\x05", "a Python pickle (pickles are never loaded)"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a program"),
]


def read_table(path: Path | str, *, fmt: str, options: ImportOptions | None = None, limits: Limits | None = None,
               ctx: JobContext | None = None) -> pa.Table:
    """The file as a table whose columns have studio types (integer, float, boolean, string, datetime)."""
    options, limits, ctx = options or ImportOptions(), limits or Limits(), ctx or LocalContext()
    path = Path(path)
    if fmt not in FORMATS:
        raise DatasetFileError(f"Unknown format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    if path.stat().st_size == 0:
        raise DatasetFileError("The file is empty: it has no bytes at all.")
    readers: dict[str, Callable[..., pa.Table]] = {
        "csv": _read_delimited, "tsv": _read_delimited, "jsonl": _read_jsonl, "parquet": _read_parquet,
        "xlsx": _read_xlsx,
    }
    table = readers[fmt](path, fmt=fmt, options=options, limits=limits, ctx=ctx)
    ctx.progress(60, "Checking types and limits")
    table = normalize_table(table.replace_schema_metadata(None))
    check_limits(table, limits)
    if table.num_rows == 0:
        raise DatasetFileError("The file has column names but no rows of data.")
    return table


def check_limits(table: pa.Table, limits: Limits) -> None:
    if table.num_columns > limits.max_columns:
        raise DatasetFileError(f"The file has {table.num_columns:,} columns; this studio accepts at most "
                               f"{limits.max_columns:,} (STUDIO_MAX_DATASET_COLUMNS).")
    if table.num_rows > limits.max_rows:
        raise DatasetFileError(f"The file has {table.num_rows:,} rows; this studio accepts at most "
                               f"{limits.max_rows:,} (STUDIO_MAX_DATASET_ROWS).")
    check_names(table.column_names)
    for index, name in enumerate(table.column_names):
        column = table.column(index)
        if not pa.types.is_string(column.type) or column.null_count == len(column):
            continue
        lengths = pc.utf8_length(column)
        if (pc.max(lengths).as_py() or 0) > limits.max_cell_chars:
            row = int(pc.indices_nonzero(pc.fill_null(pc.greater(lengths, limits.max_cell_chars), False))[0].as_py())
            raise DatasetFileError(
                f"A cell in column '{name}' (row {row + 1}) has more than {limits.max_cell_chars:,} characters, "
                "the most one cell may hold (STUDIO_MAX_CELL_CHARS)."
            )


# --- text files: the encoding and binary check shared by CSV, TSV and JSON lines ---------------------------


def _sniff_binary(head: bytes, encoding: str) -> None:
    for signature, what in SIGNATURES:
        if head.startswith(signature):
            raise DatasetFileError(f"This is not a text file: it looks like {what}.")
    if not encoding.startswith("utf-16") and NUL in head:
        raise DatasetFileError(
            f"This is not a text file: it contains binary data (a zero byte at byte {head.index(NUL) + 1}). "
            "If the file is UTF-16 text, choose the UTF-16 encoding; otherwise upload a CSV, TSV, JSON lines, "
            "Parquet or .xlsx file."
        )


def scan_text(path: Path, encoding: str, ctx: JobContext, *, share: float = 30.0) -> int:
    """Check that the whole file decodes with `encoding` and holds no binary data; returns its line count.
    A wrong encoding is reported with the byte and the line where it shows."""
    size = path.stat().st_size
    label = ENCODINGS.get(encoding, encoding)
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines, offset = 0, 0
    with open(path, "rb") as handle:
        _sniff_binary(handle.read(8192), encoding)
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            if not encoding.startswith("utf-16") and NUL in chunk:
                at = chunk.index(NUL)
                line = lines + chunk[:at].count(NEWLINE) + 1
                raise DatasetFileError(f"This is not a text file: it contains binary data (a zero byte at byte "
                                       f"{offset + at + 1:,}, line {line:,}).")
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as error:
                start = offset - (len(error.object) - len(chunk)) + error.start
                handle.seek(0)
                before = handle.read(start)
                bad = error.object[error.start]
                line = before.count(NEWLINE) + 1
                raise DatasetFileError(
                    f"The file is not valid {label} text: byte 0x{bad:02X} on line {line:,} "
                    f"(byte {start + 1:,} of the file) cannot be read as {label}. Choose the file's encoding in "
                    "the import options: files saved by Excel on Windows are often Windows-1252 or Latin-1."
                ) from None
            lines += text.count("\n")
            offset += len(chunk)
            ctx.progress(share * offset / size, f"Checked {offset / CHUNK:,.0f} of {size / CHUNK:,.0f} MB")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise DatasetFileError(f"The file is not valid {label} text: it ends in the middle of a character. "
                                   "Choose the file's encoding in the import options.") from None
    return lines + 1


def _text_records(path: Path, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, fields) for each record, with Python's csv module: slow, so used
    for the header and for finding the row that broke the fast parser."""
    csv.field_size_limit(2**31 - 1)
    with open(path, encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        line = 1
        try:
            for record in reader:
                yield line, record
                line = reader.line_num + 1
        except csv.Error as error:
            raise DatasetFileError(f"Line {reader.line_num:,} cannot be read: {error}. Check the quoting.") from None


def _describe_delimiter(delimiter: str) -> str:
    return {",": "commas", "\t": "tabs", ";": "semicolons", "|": "vertical bars"}.get(delimiter, repr(delimiter))


def _read_delimited(path: Path, *, fmt: str, options: ImportOptions, limits: Limits, ctx: JobContext) -> pa.Table:
    delimiter = options.delimiter_for(fmt)
    ctx.log(f"Reading {FORMATS[fmt][0]} with {_describe_delimiter(delimiter)} between fields, "
            f"encoding {ENCODINGS[options.encoding]}.")
    lines = scan_text(path, options.encoding, ctx)
    if lines > limits.max_rows + options.header_row + 2:
        raise DatasetFileError(f"The file has about {lines:,} lines; this studio accepts at most "
                               f"{limits.max_rows:,} rows (STUDIO_MAX_DATASET_ROWS).")
    records = _text_records(path, options.encoding, delimiter)
    header: list[str] | None = None
    header_line = 0
    for line, record in records:
        if options.header_row == 0 or line >= options.header_row:
            header, header_line = record, line
            break
    if header is None or not any(field.strip() for field in header):
        if options.header_row <= 1:
            raise DatasetFileError("The file is empty: it has no header row and no data.")
        raise DatasetFileError(f"There is no header row at line {options.header_row}: the file ends before it.")
    if len(header) > limits.max_columns:
        raise DatasetFileError(f"The file has {len(header):,} columns; this studio accepts at most "
                               f"{limits.max_columns:,} (STUDIO_MAX_DATASET_COLUMNS).")
    names = check_names(header) if options.header_row else [f"column_{i + 1}" for i in range(len(header))]
    first_bad: list[Any] = []

    def on_invalid_row(row: Any) -> str:
        first_bad.append(row)
        return "error"

    skip = header_line if options.header_row else header_line - 1
    ctx.progress(35, "Parsing")
    try:
        table = pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=skip, encoding=options.encoding,
                                            block_size=max(16 * CHUNK, limits.max_cell_chars * 4 + CHUNK)),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True,
                                              invalid_row_handler=on_invalid_row),
            convert_options=pa_csv.ConvertOptions(strings_can_be_null=True),
        )
    except pa.ArrowInvalid as error:
        if first_bad:
            _raise_ragged(path, options, delimiter, len(names), header_line)
        if "straddling" in str(error):
            raise DatasetFileError(f"A row is longer than a cell may be ({limits.max_cell_chars:,} characters), "
                                   "or a quote is never closed. Check the quoting in the file.") from None
        raise DatasetFileError(f"The file could not be read as {FORMATS[fmt][0]}: {error}") from None
    ctx.log(f"Parsed {table.num_rows:,} rows and {table.num_columns:,} columns.")
    return table


def _raise_ragged(path: Path, options: ImportOptions, delimiter: str, width: int, header_line: int) -> None:
    for number, (line, record) in enumerate(_text_records(path, options.encoding, delimiter), start=1):
        if line <= header_line or (len(record) == 1 and record[0] == ""):
            continue
        if len(record) != width:
            text = delimiter.join(record)
            where = f" (line {line:,} of the file)" if line != number else ""
            against = "the header has" if options.header_row else "the first row has"
            raise DatasetFileError(
                f"Row {number:,}{where} has {len(record)} fields but {against} {width}: "
                f"{text[:80]!r}{'…' if len(text) > 80 else ''}. Every row needs the same number of fields; check "
                f"for an extra or missing {_describe_delimiter(delimiter)[:-1]} or an unclosed quote, or choose "
                "another delimiter."
            )
    raise DatasetFileError("Some rows have a different number of fields than the header. Check the delimiter "
                           "and the quoting.")


# --- JSON lines ------------------------------------------------------------------------------------------------


def _read_jsonl(path: Path, *, fmt: str, options: ImportOptions, limits: Limits, ctx: JobContext) -> pa.Table:
    ctx.log(f"Reading JSON lines, encoding {ENCODINGS[options.encoding]}.")
    lines = scan_text(path, options.encoding, ctx)
    if lines > limits.max_rows + 2:
        raise DatasetFileError(f"The file has about {lines:,} lines; this studio accepts at most "
                               f"{limits.max_rows:,} rows (STUDIO_MAX_DATASET_ROWS).")
    with open(path, "rb") as handle:
        start = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise DatasetFileError("The file is empty: it holds only blank lines.")
    if start.startswith(b"[") or options.encoding != "utf-8":
        return _read_json_python(path, options, limits, ctx)
    ctx.progress(35, "Parsing")
    try:
        return pa_json.read_json(path)
    except pa.ArrowInvalid:
        # Mixed types in a field, or a broken line: the slow path either reads it or says where it broke.
        ctx.log("The fast JSON reader gave up; reading line by line.")
        return _read_json_python(path, options, limits, ctx)


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        duplicate = next(key for key in keys if keys.count(key) > 1)
        raise DatasetFileError(f"An object has the key '{duplicate}' twice.")
    return dict(pairs)


def _read_json_python(path: Path, options: ImportOptions, limits: Limits, ctx: JobContext) -> pa.Table:
    encoding = "utf-8-sig" if options.encoding == "utf-8" else options.encoding
    with open(path, encoding=encoding) as handle:
        first = handle.read(1)
        while first and first.isspace():
            first = handle.read(1)
        handle.seek(0)
        rows = None
        if first == "[":
            try:
                rows = json.load(handle, object_pairs_hook=_no_duplicate_keys)
            except json.JSONDecodeError as error:
                if error.msg != "Extra data":
                    raise DatasetFileError(f"The JSON is not valid: {error.msg} at line {error.lineno}, column "
                                           f"{error.colno}.") from None
                handle.seek(0)
        if isinstance(rows, list):
            numbered = list(enumerate(rows, start=1))
            where = "Item"
        else:
            numbered = []
            where = "Line"
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    numbered.append((number, json.loads(text, object_pairs_hook=_no_duplicate_keys)))
                except json.JSONDecodeError as error:
                    raise DatasetFileError(f"Line {number:,} is not valid JSON ({error.msg} at column {error.colno}). "
                                           "Each line must hold one JSON object.") from None
                except DatasetFileError as error:
                    raise DatasetFileError(f"Line {number:,}: {error.message}") from None
                if len(numbered) > limits.max_rows:
                    raise DatasetFileError(f"The file has more than {limits.max_rows:,} rows "
                                           "(STUDIO_MAX_DATASET_ROWS).")
    names: dict[str, None] = {}
    for number, row in numbered:
        if not isinstance(row, dict):
            raise DatasetFileError(f"{where} {number:,} is not a JSON object ({{\"column\": value, ...}}).")
        for key in row:
            names.setdefault(key, None)
            if len(names) > limits.max_columns:
                raise DatasetFileError(f"The file has more than {limits.max_columns:,} columns "
                                       "(STUDIO_MAX_DATASET_COLUMNS).")
    if not numbered:
        raise DatasetFileError("The file is empty: it holds no JSON objects.")
    columns = [column_from_values([row.get(name) for _, row in numbered]) for name in names]
    return pa.Table.from_arrays(columns, names=list(names))


# --- Parquet --------------------------------------------------------------------------------------------------


def _read_parquet(path: Path, *, fmt: str, options: ImportOptions, limits: Limits, ctx: JobContext) -> pa.Table:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, size - 4))
        tail = handle.read(4)
    if head != b"PAR1" or tail != b"PAR1":
        raise DatasetFileError("This is not a valid Parquet file (it lacks Parquet's start and end markers); it "
                               "may be damaged or have the wrong extension.")
    try:
        parquet = pq.ParquetFile(path)
        metadata = parquet.metadata
        unpacked = sum(metadata.row_group(g).column(c).total_uncompressed_size
                       for g in range(metadata.num_row_groups) for c in range(metadata.num_columns))
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DatasetFileError(f"This Parquet file is damaged and cannot be read ({error}).") from None
    if unpacked > limits.max_decompression_ratio * max(size, 1) and unpacked > 16 * CHUNK:
        raise DatasetFileError(f"The file unpacks to {unpacked / CHUNK:,.0f} MB, more than "
                               f"{limits.max_decompression_ratio}× its size; such files are refused to protect the "
                               "studio (STUDIO_MAX_DECOMPRESSION_RATIO).")
    if metadata.num_rows > limits.max_rows:
        raise DatasetFileError(f"The file has {metadata.num_rows:,} rows; this studio accepts at most "
                               f"{limits.max_rows:,} (STUDIO_MAX_DATASET_ROWS).")
    if metadata.num_columns > limits.max_columns:
        raise DatasetFileError(f"The file has {metadata.num_columns:,} columns; this studio accepts at most "
                               f"{limits.max_columns:,} (STUDIO_MAX_DATASET_COLUMNS).")
    ctx.log(f"Reading Parquet: {metadata.num_rows:,} rows, {metadata.num_columns} columns, "
            f"{metadata.num_row_groups} row groups.")
    check_names([field.name for field in parquet.schema_arrow])
    batches = []
    try:
        for group in range(metadata.num_row_groups):
            batches.append(parquet.read_row_group(group))
            ctx.progress(10 + 50 * (group + 1) / metadata.num_row_groups, f"Read row group {group + 1}")
    except (pa.ArrowException, OSError, ValueError) as error:
        raise DatasetFileError(f"This Parquet file is damaged and cannot be read ({error}).") from None
    if not batches:
        return parquet.schema_arrow.empty_table()
    return pa.concat_tables(batches)


# --- Excel ----------------------------------------------------------------------------------------------------


def _read_xlsx(path: Path, *, fmt: str, options: ImportOptions, limits: Limits, ctx: JobContext) -> pa.Table:
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DatasetFileError("This is an old Excel file (.xls, Excel 97-2003), which is not supported. Open it "
                               "in Excel or LibreOffice and save it as .xlsx or CSV, then upload that.")
    if not zipfile.is_zipfile(path):
        raise DatasetFileError("This is not a valid .xlsx workbook (an .xlsx file is a zip archive, and this one "
                               "is not). It may be damaged, or another kind of file renamed .xlsx.")
    _check_zip(path, limits)
    # A file object, not the path: stored files have no extension, and openpyxl judges paths by theirs.
    handle = open(path, "rb")  # noqa: SIM115 - read-only workbooks read lazily; closed in the finally below
    try:
        workbook = openpyxl.load_workbook(handle, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        handle.close()
        raise DatasetFileError(f"This .xlsx workbook is damaged and cannot be opened ({error}).") from None
    try:
        if options.sheet:
            if options.sheet not in workbook.sheetnames:
                raise DatasetFileError(f"The workbook has no sheet called '{options.sheet}'; its sheets are: "
                                       f"{', '.join(workbook.sheetnames)}.")
            sheet = workbook[options.sheet]
        else:
            sheet = workbook.worksheets[0]
        ctx.log(f"Reading sheet '{sheet.title}' of the workbook.")
        return _sheet_table(sheet, options, limits, ctx)
    finally:
        workbook.close()
        handle.close()


def _check_zip(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError) as error:
        raise DatasetFileError(f"This .xlsx workbook is damaged and cannot be opened ({error}).") from None
    if unpacked > limits.max_decompression_ratio * max(size, 1) and unpacked > 16 * CHUNK:
        raise DatasetFileError(f"The workbook unpacks to {unpacked / CHUNK:,.0f} MB, more than "
                               f"{limits.max_decompression_ratio}× its size; such files are refused to protect the "
                               "studio (STUDIO_MAX_DECOMPRESSION_RATIO).")


def _sheet_table(sheet: Any, options: ImportOptions, limits: Limits, ctx: JobContext) -> pa.Table:
    rows = sheet.iter_rows(values_only=True)
    header: tuple[Any, ...] | None = None
    line = 0
    for line, values in enumerate(rows, start=1):
        if options.header_row == 0 or line >= options.header_row:
            header = values
            break
    if header is None or all(value is None for value in header):
        raise DatasetFileError(f"The sheet '{sheet.title}' is empty." if options.header_row <= 1 else
                               f"Row {options.header_row} of sheet '{sheet.title}' is empty; it should hold the "
                               "column names.")
    width = len(header)
    while width and header[width - 1] is None:
        width -= 1
    if width > limits.max_columns:
        raise DatasetFileError(f"The sheet has {width:,} columns; this studio accepts at most "
                               f"{limits.max_columns:,} (STUDIO_MAX_DATASET_COLUMNS).")
    if options.header_row:
        names = check_names([None if value is None else str(value) for value in header[:width]])
        data: list[tuple[Any, ...]] = []
    else:
        names = [f"column_{i + 1}" for i in range(width)]
        data = [header[:width]]
    for number, values in enumerate(rows, start=line + 1):
        if all(value is None for value in values):
            continue
        extra = [value for value in values[width:] if value is not None]
        if extra:
            raise DatasetFileError(f"Row {number:,} of sheet '{sheet.title}' has a value ({str(extra[0])[:40]!r}) "
                                   f"beyond the {width} named columns. Give that column a name in the header row, "
                                   "or delete the stray value.")
        data.append(tuple(values[:width]) + (None,) * (width - len(values)))
        if len(data) > limits.max_rows:
            raise DatasetFileError(f"The sheet has more than {limits.max_rows:,} rows (STUDIO_MAX_DATASET_ROWS).")
        if len(data) % 10_000 == 0:
            ctx.progress(min(55.0, 10 + len(data) / 10_000), f"Read {len(data):,} rows")
    columns = [column_from_values([row[index] for row in data]) for index in range(width)]
    return pa.Table.from_arrays(columns, names=names)
