"""Reading each format into studio types, and every broken file into a clear message (no database)."""

import datetime as dt
import io
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.datasets.errors import DatasetFileError
from engine.datasets.options import ImportOptions, format_for
from engine.datasets.read import read_table
from engine.datasets.types import schema_of
from engine.runtime import LocalContext

from .corpus import BAD_FILES, TEST_LIMITS, _xlsx, options_of


def read(tmp_path, name: str, data: bytes, **options):
    path = tmp_path / name
    path.write_bytes(data)
    return read_table(path, fmt=format_for(name, options.pop("fmt", "")), options=ImportOptions(**options),
                      limits=TEST_LIMITS)


def types(table) -> dict[str, str]:
    return {column["name"]: column["type"] for column in schema_of(table)}


def test_csv_columns_get_integer_float_boolean_string_and_datetime(tmp_path):
    table = read(tmp_path, "a.csv", b"i,f,b,s,d\n1,1.5,true,x,2021-01-02\n2,,false,,2021-01-03 10:00:00\n")
    assert types(table) == {"i": "integer", "f": "float", "b": "boolean", "s": "string", "d": "datetime"}
    assert table.column("f").to_pylist() == [1.5, None] and table.column("s").to_pylist() == ["x", None]
    assert table.column("d").to_pylist()[1] == dt.datetime(2021, 1, 3, 10)


def test_tsv_and_a_chosen_delimiter(tmp_path):
    assert read(tmp_path, "a.tsv", b"a\tb\n1\t2\n").column_names == ["a", "b"]
    assert read(tmp_path, "b.csv", b"a;b\n1;2\n", delimiter=";").column("b").to_pylist() == [2]


def test_quoted_cells_may_hold_delimiters_and_newlines(tmp_path):
    table = read(tmp_path, "q.csv", b'a,b\n1,"x, y\nz"\n2,w\n')
    assert table.column("b").to_pylist() == ["x, y\nz", "w"]


def test_latin1_cp1252_and_utf16_files_read_with_the_chosen_encoding(tmp_path):
    assert read(tmp_path, "l.csv", "name\nJosé\n".encode("latin-1"), encoding="latin-1").column(0).to_pylist() == ["José"]
    assert read(tmp_path, "w.csv", "p\n€5\n".encode("cp1252"), encoding="cp1252").column(0).to_pylist() == ["€5"]
    assert read(tmp_path, "u.csv", "a,b\n1,ü\n".encode("utf-16"), encoding="utf-16").column("b").to_pylist() == ["ü"]


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_name(tmp_path):
    assert read(tmp_path, "bom.csv", b"\xef\xbb\xbfa,b\n1,2\n").column_names == ["a", "b"]


def test_the_header_row_option_skips_lines_above_it_and_0_means_no_header(tmp_path):
    table = read(tmp_path, "h.csv", b"Exported 2024\n\nx,y\n1,2\n", header_row=3)
    assert table.column_names == ["x", "y"] and table.num_rows == 1
    plain = read(tmp_path, "n.csv", b"1,2\n3,4\n", header_row=0)
    assert plain.column_names == ["column_1", "column_2"] and plain.num_rows == 2


def test_blank_header_cells_are_named_by_position(tmp_path):
    assert read(tmp_path, "b.csv", b"a,,c\n1,2,3\n").column_names == ["a", "column_2", "c"]


def test_json_lines_with_mixed_types_nested_values_and_missing_keys(tmp_path):
    data = b'{"a": 1, "b": "x", "n": {"k": 1}}\n\n{"a": 2.5, "c": true}\n{"a": "text"}\n'
    table = read(tmp_path, "r.jsonl", data)
    assert types(table) == {"a": "string", "b": "string", "n": "string", "c": "boolean"}
    assert table.column("a").to_pylist() == ["1", "2.5", "text"]
    assert json.loads(table.column("n").to_pylist()[0]) == {"k": 1}


def test_a_json_array_of_objects_is_read_too(tmp_path):
    assert read(tmp_path, "r.json", b'[{"a": 1}, {"a": 2}]').column("a").to_pylist() == [1, 2]


def test_parquet_types_map_onto_studio_types_and_pandas_metadata_is_dropped(tmp_path):
    frame = pd.DataFrame({"i": pd.array([1, None], dtype="Int32"), "u": pd.Series([1, 2], dtype="uint8"),
                          "c": pd.Categorical(["x", "y"]), "t": pd.to_datetime(["2020-01-01", None], utc=True),
                          "f": [0.5, float("nan")]})
    buffer = io.BytesIO()
    frame.to_parquet(buffer)
    table = read(tmp_path, "p.parquet", buffer.getvalue())
    assert types(table) == {"i": "integer", "u": "integer", "c": "string", "t": "datetime", "f": "float"}
    assert table.schema.metadata is None
    assert table.column("t").type == pa.timestamp("us")


def test_xlsx_reads_the_first_or_a_named_sheet_with_types(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["ignored"])
    sheet = workbook.create_sheet("Data")
    for row in [["n", "x", "when", "ok", "mixed"], [1, 1.5, dt.datetime(2020, 1, 1), True, "a"],
                [2, 2, dt.date(2020, 1, 2), False, 3], [None, None, None, None, None]]:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read(tmp_path, "w.xlsx", buffer.getvalue(), sheet="Data")
    assert types(table) == {"n": "integer", "x": "float", "when": "datetime", "ok": "boolean", "mixed": "string"}
    assert table.num_rows == 2 and table.column("mixed").to_pylist() == ["a", "3"]
    assert read(tmp_path, "v.xlsx", _xlsx([["a"], [1]])).column("a").to_pylist() == [1]


def test_progress_is_reported_while_reading(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(b"a\n1\n2\n")
    ctx = LocalContext()
    read_table(path, fmt="csv", ctx=ctx)
    assert ctx.progress_updates and ctx.lines


@pytest.mark.parametrize(("case", "filename", "data", "options", "words"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_a_bad_file_is_refused_with_a_message_naming_the_problem(tmp_path, case, filename, data, options, words):
    path = tmp_path / filename
    path.write_bytes(data)
    with pytest.raises(DatasetFileError) as caught:
        read_table(path, fmt=format_for(filename), options=options_of(options), limits=TEST_LIMITS)
    for word in words:
        assert word in caught.value.message


def test_a_ragged_row_after_a_multiline_cell_names_its_row_and_line(tmp_path):
    with pytest.raises(DatasetFileError, match=r"Row 3 \(line 4 of the file\) has 3 fields but the header has 2"):
        read(tmp_path, "m.csv", b'a,b\n1,"two\nlines"\n2,3,4\n')


@pytest.mark.parametrize(("name", "message"), [
    ("x.xls", "Old Excel files"), ("x.doc", "cannot import"), ("x.pickle", "never loaded"), ("x", "no extension"),
])
def test_unsupported_extensions_are_refused_by_name(name, message):
    with pytest.raises(DatasetFileError, match=message):
        format_for(name)


def test_parquet_written_with_row_groups_of_64k_rows(tmp_path):
    from engine.datasets.types import write_parquet

    path = tmp_path / "big.parquet"
    write_parquet(pa.table({"n": pa.array(range(150_000))}), path)
    assert pq.ParquetFile(path).metadata.num_row_groups == 3
