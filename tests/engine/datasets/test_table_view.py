"""The data table's paging and sorting over the memory-mapped Arrow copy, and the formula-safe CSV export."""

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.datasets import table_view


def make_version(tmp_path, table: pa.Table):
    parquet = tmp_path / "v.parquet"
    pq.write_table(table, parquet, row_group_size=1000)
    ipc = tmp_path / "cache" / "v.arrow"
    table_view.ipc_build(parquet, ipc)
    return parquet, ipc


def test_a_page_is_a_slice_of_the_memory_mapped_copy(tmp_path):
    table = pa.table({"n": np.arange(5000), "s": [f"row {i}" for i in range(5000)]})
    _, ipc = make_version(tmp_path, table)
    mapped = table_view.ipc_open(ipc)
    page = table_view.page_of(mapped, start=4990, size=50)
    assert page.row_numbers == list(range(4991, 5001)) and page.values[0] == [4990, "row 4990"]


def test_a_sorted_page_takes_rows_across_record_batches_in_order_with_missing_last(tmp_path):
    values = [None if i % 7 == 0 else (i * 7919) % 5000 for i in range(5000)]
    _, ipc = make_version(tmp_path, pa.table({"v": pa.array(values, pa.int64())}))
    mapped = table_view.ipc_open(ipc)
    assert len(mapped.to_batches()) > 1
    order = table_view.sort_index(mapped, "v", True, tmp_path / "cache" / "v.desc.npy")
    assert (tmp_path / "cache" / "v.desc.npy").exists()
    present = sorted((v for v in values if v is not None), reverse=True)
    page = table_view.page_of(mapped, start=0, size=20, order=order)
    assert [row[0] for row in page.values] == present[:20]
    last = table_view.page_of(mapped, start=4990, size=20, order=order)
    assert all(row[0] is None for row in last.values)
    again = table_view.sort_index(mapped, "v", True, tmp_path / "cache" / "v.desc.npy")
    assert np.array_equal(np.asarray(again), np.asarray(order))


def test_cells_are_shown_with_nulls_marked_and_long_text_cut():
    assert table_view.display_cell(None) == {"text": "", "null": True, "title": ""}
    long = table_view.display_cell("x" * 500)
    assert long["text"].endswith("…") and len(long["title"]) == 500
    assert table_view.json_value(float("nan")) == "NaN" and table_view.display_cell(True)["text"] == "true"


DANGEROUS = st.sampled_from(list("=+-@\t\r\n\x00\x1f\x7f"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=20), st.builds(lambda d, t: d + t, DANGEROUS, st.text(max_size=8))),
                min_size=1, max_size=25))
def test_every_exported_text_cell_is_safe_and_otherwise_unchanged(tmp_path_factory, cells):
    path = tmp_path_factory.mktemp("csv") / "v.parquet"
    pq.write_table(pa.table({"=name": pa.array(cells, pa.string()), "n": pa.array(range(len(cells)))}), path)
    text = b"".join(table_view.csv_chunks(path)).decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["'=name", "n"]
    assert len(rows) == len(cells) + 1
    for original, row in zip(cells, rows[1:], strict=True):
        written = row[0]
        if original is None or original == "":
            assert written == ""
            continue
        assert written[0] not in "=+-@" and not (ord(written[0]) < 32 or written[0] == "\x7f")
        expected = table_view.neutralise_text(original)
        assert written.replace("\r\n", "\n") == expected.replace("\r\n", "\n") or written == expected


def test_negative_numbers_in_number_columns_stay_numbers_in_the_export(tmp_path):
    path = tmp_path / "v.parquet"
    pq.write_table(pa.table({"x": [-1.5, 2.0]}), path)
    assert b"".join(table_view.csv_chunks(path)).decode().splitlines() == ['"x"', "-1.5", "2"]
