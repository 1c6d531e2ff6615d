"""Delimited, Excel and Parquet readers.

Every fixture is written in ``tmp_path`` by the test itself: one small frame, typed (``TYPED``,
for .xlsx and .parquet) and as the text a tool writes (``TEXT``, for CSV/TSV). The expected
values are ``TEXT``: whatever the format, the reader must give the same string cells.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import openpyxl
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from outcomes.errors import ExportError
from outcomes.ingest.tabular import cell_text, read_delimited, read_excel, read_parquet_export
from outcomes.tables import file_sha256

TYPED = pd.DataFrame(
    {
        "id": ["007", "008", "009"],  # text with leading zeros stays text
        "name": ["Zoë", "José", 'Ärger; "quoted", too'],  # Latin-1 encodable, delimiters
        "count": [1, -1, 12],  # int64
        "score": [3.0, np.nan, -1.0],  # whole floats and a missing value
        "ratio": [1.1, 0.5, -1000.3],
        "note": ["", "NA", "x"],  # "" stays "", "NA" is text
        "day": [dt.date(2018, 5, 6), dt.date(1960, 1, 1), None],
        "stamp": pd.to_datetime(["2018-05-06 10:10:10", "2018-05-07 00:00:00", None]),
    }
)
TEXT = pd.DataFrame(
    {
        "id": ["007", "008", "009"],
        "name": ["Zoë", "José", 'Ärger; "quoted", too'],
        "count": ["1", "-1", "12"],
        "score": ["3", "", "-1"],
        "ratio": ["1.1", "0.5", "-1000.3"],
        "note": ["", "NA", "x"],
        "day": ["2018-05-06", "1960-01-01", ""],
        "stamp": ["2018-05-06 10:10:10", "2018-05-07 00:00:00", ""],
    },
    index=pd.RangeIndex(1, 4, name="row_number"),
    dtype=str,
)


def assert_text_values(values: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(values, TEXT)
    assert all(isinstance(v, str) for v in values.to_numpy().ravel())


@pytest.mark.parametrize(
    ("name", "sep", "encoding", "format"),
    [
        ("utf8.csv", ",", "utf-8", "csv"),
        ("bom.csv", ",", "utf-8-sig", "csv"),
        ("latin1.csv", ",", "latin-1", "csv"),
        ("utf16.tsv", "\t", "utf-16", "tsv"),
        ("semicolon.csv", ";", "utf-8", "csv"),
        ("pipe.txt", "|", "utf-8", "csv"),
    ],
)
def test_delimited_encodings_and_delimiters(tmp_path, name, sep, encoding, format):
    # source: TEXT written here with each delimiter and encoding; delimiter and encoding sniffed
    path = tmp_path / name
    TEXT.to_csv(path, sep=sep, encoding=encoding, index=False)
    if encoding == "latin-1":
        assert "Zoë".encode("latin-1") in path.read_bytes()  # really not UTF-8
    if encoding == "utf-8-sig":
        assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    table = read_delimited(path)
    assert_text_values(table.values)
    assert table.format == format
    assert table.header_rows == 1
    assert table.line_of(3) == 4
    assert table.question_text == {c: c for c in TEXT.columns}
    assert table.sha256 == file_sha256(path)
    assert (table.value_labels, table.missing_codes, table.identifiers) == ({}, {}, set())


def test_delimited_explicit_settings(tmp_path):
    # source: TEXT written here as Latin-1 with semicolons, read with both settings given
    path = tmp_path / "export.csv"
    TEXT.to_csv(path, sep=";", encoding="latin-1", index=False)
    assert_text_values(read_delimited(path, delimiter=";", encoding="latin-1").values)


def test_excel_reads_the_same_values(tmp_path):
    # source: TYPED written here with pandas.to_excel (openpyxl)
    path = tmp_path / "export.xlsx"
    TYPED.to_excel(path, index=False, engine="openpyxl")
    table = read_excel(path)
    assert_text_values(table.values)
    assert table.format == "xlsx"
    assert table.header_rows == 1
    assert table.sha256 == file_sha256(path)


def test_excel_named_sheet_and_unknown_sheet(tmp_path):
    # source: a two-sheet workbook written here ("cover" first, then "responses")
    path = tmp_path / "export.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"about": ["not the data"]}).to_excel(writer, sheet_name="cover", index=False)
        TYPED.to_excel(writer, sheet_name="responses", index=False)
    assert read_excel(path).values.to_dict("list") == {"about": ["not the data"]}  # first sheet
    assert_text_values(read_excel(path, sheet="responses").values)
    with pytest.raises(ExportError, match="no sheet") as info:
        read_excel(path, sheet="Responses")
    assert info.value.file == path
    assert info.value.expected == "one of 'cover', 'responses'"
    assert info.value.found == "'Responses'"


def test_excel_blank_rows_keep_sheet_row_numbers(tmp_path):
    # source: a sheet written here with openpyxl: header in row 1, data in rows 2 and 4
    path = tmp_path / "gaps.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "score"])
    sheet.append(["a", 1])
    sheet.append([None, None])
    sheet.append(["b", 2.5])
    book.save(path)
    values = read_excel(path).values
    assert values.to_dict("list") == {"id": ["a", "", "b"], "score": ["1", "", "2.5"]}
    assert read_excel(path).line_of(3) == 4  # "b" is in sheet row 4


def test_parquet_reads_the_same_values(tmp_path):
    # source: TYPED written here with pandas.to_parquet (pyarrow)
    path = tmp_path / "export.parquet"
    TYPED.to_parquet(path, index=False)
    table = read_parquet_export(path)
    assert_text_values(table.values)
    assert table.format == "parquet"
    assert table.header_rows == 0
    assert table.line_of(1) == 1


def test_parquet_arrow_types(tmp_path):
    # source: a table written here with pyarrow: float32, decimal, bool, time, tz timestamp
    path = tmp_path / "types.parquet"
    table = pa.table(
        {
            "f32": pa.array([1.1, None], pa.float32()),
            "dec": pa.array([Decimal("1.50"), Decimal("2.00")], pa.decimal128(5, 2)),
            "flag": pa.array([True, None]),
            "clock": pa.array([dt.time(10, 10, 10), dt.time(0, 0)], pa.time64("us")),
            "utc": pa.array([dt.datetime(2018, 5, 6, 10, 10, 10), None], pa.timestamp("s", "UTC")),
        }
    )
    pq.write_table(table, path)
    assert read_parquet_export(path).values.to_dict("list") == {
        "f32": ["1.1", ""],
        "dec": ["1.5", "2"],
        "flag": ["TRUE", ""],
        "clock": ["10:10:10", "00:00:00"],
        "utc": ["2018-05-06 10:10:10+00:00", ""],
    }


def test_header_only_and_trailing_delimiters(tmp_path):
    # source: fixtures written here
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,score\n")
    values = read_delimited(header_only).values
    assert list(values.columns) == ["id", "score"] and len(values) == 0
    trailing = tmp_path / "trailing.csv"
    trailing.write_text("id,score,\na,1,\nb,2,\n\n\n")  # trailing commas and blank lines
    assert read_delimited(trailing).values.to_dict("list") == {
        "id": ["a", "b"],
        "score": ["1", "2"],
    }


def test_quoted_newline_is_one_cell(tmp_path):
    # source: a fixture written here; the wrong row is reported at its file line (5)
    path = tmp_path / "multiline.csv"
    path.write_text('id,comment\na,"two\nlines"\nb,ok\nc\n')
    with pytest.raises(ExportError, match="wrong number of fields") as info:
        read_delimited(path)
    assert (info.value.row, info.value.found) == (5, "1 fields")
    path.write_text('id,comment\na,"two\nlines"\nb,ok\n')
    assert read_delimited(path).values["comment"].tolist() == ["two\nlines", "ok"]


@pytest.mark.parametrize(
    ("content", "row", "found"),
    [
        ("id,score\na,1\nb,2,3\n", 3, "3 fields"),
        ("id,score\na,1\nb\n", 3, "1 fields"),
        ("id,score\na,1\n\nb,2\n", 3, "an empty line"),
    ],
)
def test_wrong_field_count(tmp_path, content, row, found):
    # source: fixtures written here
    path = tmp_path / "export.csv"
    path.write_text(content)
    with pytest.raises(ExportError, match="wrong number of fields") as info:
        read_delimited(path)
    assert (info.value.file, info.value.row, info.value.found) == (path, row, found)
    assert info.value.expected.startswith("2 fields")


def test_duplicate_and_unnamed_columns(tmp_path):
    # source: fixtures written here (CSV, an openpyxl sheet, a pyarrow table)
    csv_path = tmp_path / "dup.csv"
    csv_path.write_text("id,score,score\na,1,2\n")
    with pytest.raises(ExportError, match="duplicate column") as info:
        read_delimited(csv_path)
    assert (info.value.row, info.value.column) == (1, "score")

    xlsx_path = tmp_path / "dup.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["id", "id"])
    book.active.append(["a", "b"])
    book.save(xlsx_path)
    with pytest.raises(ExportError, match="duplicate column") as info:
        read_excel(xlsx_path)
    assert (info.value.file, info.value.row, info.value.column) == (xlsx_path, 1, "id")

    parquet_path = tmp_path / "dup.parquet"
    pq.write_table(pa.table([pa.array([1]), pa.array([2])], names=["x", "x"]), parquet_path)
    with pytest.raises(ExportError, match="duplicate column") as info:
        read_parquet_export(parquet_path)
    assert info.value.column == "x"

    unnamed = tmp_path / "unnamed.csv"
    unnamed.write_text("id,,score\na,5,1\n")
    with pytest.raises(ExportError, match="no name") as info:
        read_delimited(unnamed)
    assert (info.value.row, info.value.column) == (1, "#2")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_empty_file(tmp_path, suffix):
    # source: a 0-byte file written here
    path = tmp_path / f"export{suffix}"
    path.write_bytes(b"")
    reader = {".csv": read_delimited, ".xlsx": read_excel, ".parquet": read_parquet_export}
    with pytest.raises(ExportError, match="empty") as info:
        reader[suffix](path)
    assert info.value.file == path


def test_empty_sheet(tmp_path):
    # source: a workbook with one blank sheet, written here
    path = tmp_path / "blank.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(ExportError, match="empty") as info:
        read_excel(path)
    assert info.value.row == 1


@pytest.mark.parametrize(
    ("suffix", "reader", "problem"),
    [
        (".xlsx", read_excel, "cannot read the file as an Excel workbook"),
        (".parquet", read_parquet_export, "cannot read the file as Parquet"),
    ],
)
def test_corrupt_binary_files(tmp_path, suffix, reader, problem):
    # source: a CSV text renamed, written here
    path = tmp_path / f"export{suffix}"
    path.write_text("id,score\na,1\n")
    with pytest.raises(ExportError, match=problem) as info:
        reader(path)
    assert info.value.file == path and info.value.found


def test_binary_file_as_csv(tmp_path):
    # source: a Parquet file renamed .csv, written here
    path = tmp_path / "export.csv"
    TYPED.to_parquet(path, index=False)
    with pytest.raises(ExportError, match="binary"):
        read_delimited(path)


def test_nested_parquet_column(tmp_path):
    # source: a pyarrow table with a list column, written here
    path = tmp_path / "nested.parquet"
    pq.write_table(pa.table({"id": ["a"], "tags": [["x", "y"]]}), path)
    with pytest.raises(ExportError, match="nested") as info:
        read_parquet_export(path)
    assert info.value.column == "tags"


def test_bad_delimiter_argument(tmp_path):
    # source: TEXT written here
    path = tmp_path / "export.csv"
    TEXT.to_csv(path, index=False)
    with pytest.raises(ExportError, match="one character"):
        read_delimited(path, delimiter=";;")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (float("nan"), ""),
        (pd.NaT, ""),
        (pd.NA, ""),
        (np.datetime64("NaT"), ""),
        (3.0, "3"),
        (-1.0, "-1"),
        (np.float64(2.0), "2"),
        (np.int64(7), "7"),
        (1.1, "1.1"),
        (0.1 + 0.2, "0.30000000000000004"),  # shortest round trip, not "%g"'s "0.3"
        (1234567.25, "1234567.25"),  # "%g" would give "1.23457e+06"
        (np.float32(1.1), "1.1"),
        (float("inf"), "inf"),
        (Decimal("1.50"), "1.5"),
        (True, "TRUE"),
        (np.bool_(False), "FALSE"),
        (dt.datetime(2018, 5, 6, 10, 10, 10, 500), "2018-05-06 10:10:10.000500"),
        (pd.Timestamp("2018-05-06 10:10:10"), "2018-05-06 10:10:10"),
        (np.datetime64("2018-05-06T10:10:10"), "2018-05-06 10:10:10"),
        (dt.date(2018, 5, 6), "2018-05-06"),
        (dt.time(0, 0), "00:00:00"),
        ("  kept as is ", "  kept as is "),
        (b"caf\xc3\xa9", "café"),
    ],
)
def test_cell_text(value, text):
    # source: the formatting rules documented in cell_text
    assert cell_text(value) == text
