"""Hostile and broken files, shared by the engine tests and the app's upload tests:
(id, file name, bytes, options, words the user's message must contain)."""

from __future__ import annotations

import io
import pickle
import zipfile

import pyarrow as pa
import pyarrow.parquet as pq

from engine.datasets.options import ImportOptions, Limits

TEST_LIMITS = Limits(max_rows=1000, max_columns=50, max_cell_chars=500, max_decompression_ratio=20)


class Canary:
    """Unpickling this would create a marker file: the proof that nothing is ever unpickled."""

    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/studio-unpickle-canary",))


def _parquet(table: pa.Table, **kwargs) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer, **kwargs)
    return buffer.getvalue()


def _xlsx(rows: list[list], sheet: str = "Sheet") -> bytes:
    import openpyxl

    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + "0" * (40 * 1024 * 1024) + "</a>")
    return buffer.getvalue()


def _parquet_bomb() -> bytes:
    return _parquet(pa.table({"zeros": pa.array([0] * 5_000_000, pa.int64())}), compression="zstd",
                    use_dictionary=False)


BAD_FILES = [
    ("ragged", "people.csv", b"a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,2,3,4\n", {}, ["Row 5 has 4 fields but the header has 3"]),
    ("short-row", "people.csv", b"a,b,c\n1,2,3\n4,5\n", {}, ["Row 3 has 2 fields but the header has 3"]),
    ("wrong-encoding", "people.csv", b"name,city\nAnn,Paris\nJos\xe9,M\xfcnchen\n", {},
     ["not valid UTF-8", "0xE9", "line 3", "encoding"]),
    ("empty", "empty.csv", b"", {}, ["empty"]),
    ("blank-lines", "blank.csv", b"\n\n\n", {}, ["empty"]),
    ("header-only", "header.csv", b"a,b,c\n", {}, ["no rows of data"]),
    ("binary-png", "picture.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, {}, ["not a text file", "PNG"]),
    ("binary-zeros", "data.csv", b"a,b\n1,2\n" + b"\x00\x01\x02\x03" * 100, {}, ["not a text file", "zero byte"]),
    ("pickle-renamed", "model.csv", pickle.dumps(Canary(), protocol=4), {}, ["not a text file", "pickle"]),
    ("duplicate-names", "dups.csv", b"id,name,id,name\n1,a,2,b\n", {}, ["duplicate column names", "'id'", "'name'"]),
    ("corrupt-parquet", "data.parquet", b"PAR1" + b"\x00garbage" * 50 + b"PAR1", {}, ["Parquet", "damaged"]),
    ("not-parquet", "data.parquet", b"a,b\n1,2\n", {}, ["not a valid Parquet file"]),
    ("corrupt-xlsx", "book.xlsx", b"PK\x03\x04" + b"\x00" * 200, {}, [".xlsx"]),
    ("not-xlsx", "book.xlsx", b"a,b\n1,2\n", {}, ["not a valid .xlsx workbook"]),
    ("old-xls-renamed", "book.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, {}, [".xls", "save it as .xlsx"]),
    ("too-many-rows", "rows.csv", b"n\n" + b"1\n" * 1500, {}, ["1,000", "STUDIO_MAX_DATASET_ROWS"]),
    ("too-many-columns", "wide.csv", (",".join(f"c{i}" for i in range(60)) + "\n" + ",".join("1" * 60) + "\n").encode(),
     {}, ["60 columns", "STUDIO_MAX_DATASET_COLUMNS"]),
    ("long-cell", "long.csv", b"a,b\n1," + b"x" * 600 + b"\n", {}, ["more than 500 characters", "column 'b'"]),
    ("zip-bomb-xlsx", "bomb.xlsx", _zip_bomb(), {}, ["STUDIO_MAX_DECOMPRESSION_RATIO"]),
    ("parquet-bomb", "bomb.parquet", _parquet_bomb(), {}, ["STUDIO_MAX_DECOMPRESSION_RATIO"]),
    ("jsonl-broken", "rows.jsonl", b'{"a": 1}\n{"a": 2\n', {}, ["Line 2 is not valid JSON"]),
    ("jsonl-not-objects", "rows.jsonl", b'[1, 2]\n[3, 4]\n', {}, ["not a JSON object"]),
    ("xlsx-ragged", "book.xlsx", _xlsx([["a", "b"], [1, 2], [3, 4, "stray"]]), {}, ["Row 3", "beyond the 2 named columns"]),
    ("xlsx-missing-sheet", "book.xlsx", _xlsx([["a"], [1]]), {"sheet": "Results"}, ["no sheet called 'Results'", "Sheet"]),
    ("xlsx-duplicates", "book.xlsx", _xlsx([["a", "a"], [1, 2]]), {}, ["duplicate column names", "'a'"]),
]


def options_of(raw: dict) -> ImportOptions:
    return ImportOptions(**raw)
