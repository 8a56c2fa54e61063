"""Formats the studio imports, the options a user may choose, and the limits that protect the machine."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath

from .errors import DatasetFileError

# format -> (label, extensions)
FORMATS: dict[str, tuple[str, tuple[str, ...]]] = {
    "csv": ("CSV (comma-separated)", (".csv", ".txt")),
    "tsv": ("TSV (tab-separated)", (".tsv", ".tab")),
    "jsonl": ("JSON lines", (".jsonl", ".ndjson", ".json")),
    "parquet": ("Parquet", (".parquet", ".pq")),
    "xlsx": ("Excel workbook (.xlsx)", (".xlsx", ".xlsm")),
}
ENCODINGS: dict[str, str] = {
    "utf-8": "UTF-8",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "cp1252": "Windows-1252",
    "utf-16": "UTF-16",
}
REFUSED_EXTENSIONS: dict[str, str] = {
    ".xls": "Old Excel files (.xls, Excel 97-2003) are not supported. Open the file in Excel or LibreOffice "
    "and save it as .xlsx (Excel workbook) or CSV, then upload that.",
    ".pkl": "Pickle files are never loaded: unpickling can run code hidden in the file. Save the data as "
    "Parquet or CSV instead.",
    ".pickle": "Pickle files are never loaded: unpickling can run code hidden in the file. Save the data as "
    "Parquet or CSV instead.",
}


def supported_extensions() -> list[str]:
    return [ext for _, exts in FORMATS.values() for ext in exts]


def format_for(filename: str, explicit: str = "") -> str:
    """The format to parse a file with: the explicit choice, else the file's extension."""
    if explicit:
        if explicit not in FORMATS:
            raise DatasetFileError(f"Unknown format {explicit!r}; choose one of: {', '.join(FORMATS)}.")
        return explicit
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in REFUSED_EXTENSIONS:
        raise DatasetFileError(REFUSED_EXTENSIONS[suffix])
    for name, (_, extensions) in FORMATS.items():
        if suffix in extensions:
            return name
    shown = f"'{suffix}'" if suffix else "no extension"
    raise DatasetFileError(
        f"The file has {shown}, which the studio cannot import. Upload {', '.join(supported_extensions())}, "
        "or choose the format explicitly if the file has an unusual name."
    )


@dataclass(frozen=True)
class ImportOptions:
    """What the user told us about the file. header_row: the line holding the column names (1 = the first
    line; 0 = the file has no header row and columns are named column_1, column_2, ...)."""

    delimiter: str = ""
    encoding: str = "utf-8"
    header_row: int = 1
    sheet: str = ""

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise DatasetFileError(f"Unknown encoding {self.encoding!r}; choose one of: {', '.join(ENCODINGS)}.")
        if self.delimiter and (len(self.delimiter) != 1 or self.delimiter in "\"\r\n"):
            raise DatasetFileError("The delimiter must be a single character such as , ; | or a tab.")
        if not 0 <= self.header_row <= 1000:
            raise DatasetFileError("The header row must be a line number from 1 to 1000, or 0 for no header.")

    def delimiter_for(self, fmt: str) -> str:
        return self.delimiter or ("\t" if fmt == "tsv" else ",")

    def as_dict(self) -> dict[str, object]:
        return {"delimiter": self.delimiter, "encoding": self.encoding, "header_row": self.header_row,
                "sheet": self.sheet}


@dataclass(frozen=True)
class Limits:
    max_rows: int = 50_000_000
    max_columns: int = 5_000
    max_cell_chars: int = 1_000_000
    max_decompression_ratio: int = 200
