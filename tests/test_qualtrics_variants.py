"""The Qualtrics reader on every layout it accepts, and a clear error for everything else.

Real files: ``tests/fixtures/samples/qualtrics/sample.csv`` (current exporter) and
``sample_legacy.csv`` (legacy exporter), copied from ropensci/qualtRics ``inst/extdata``.
Variants that have no public sample (UTF-16 TSV, numeric values, a legacy export with many rows)
are written here from a small simulated export, so that the expected values are the simulated
ones.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json

import pandas as pd
import pytest

from outcomes.errors import ExportError
from outcomes.ingest.qualtrics import LEGACY_METADATA, read_qualtrics
from outcomes.simulate import qualtrics_csv_text, simulate_cohort

from .conftest import SAMPLES

QUALTRICS = SAMPLES / "qualtrics"

#: The legacy exporter's V1..V10 (domain reference 1.1.1) as (current name, legacy label); the
#: legacy file's columns are these ten, then the questions, then the location columns.
LEGACY_V = [
    ("ResponseId", "ResponseID"),
    ("ResponseSet", "ResponseSet"),
    ("Name", "Name"),
    ("ExternalReference", "ExternalDataReference"),
    ("RecipientEmail", "EmailAddress"),
    ("IPAddress", "IPAddress"),
    ("Status", "Status"),
    ("StartDate", "StartDate"),
    ("EndDate", "EndDate"),
    ("Finished", "Finished"),
]


@pytest.fixture(scope="module")
def frame():
    """A small simulated baseline export (40 students, seed 11): strings, in file order."""
    return simulate_cohort(40, seed=11).exports["baseline"]


def _header_rows(frame: pd.DataFrame) -> list[list[str]]:
    ids = [json.dumps({"ImportId": i}, separators=(",", ":")) for i in frame.attrs["import_ids"]]
    return [list(frame.columns), list(frame.attrs["question_text"]), ids]


def _write_current(frame, path, *, delimiter=",", encoding="utf-8"):
    """A current-layout export of ``frame`` with any delimiter and encoding (CRLF lines)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerows(_header_rows(frame))
    writer.writerows(frame.to_numpy().tolist())
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def _put(path, text: str) -> None:
    """Write ``text`` as UTF-8, line endings as given."""
    path.write_bytes(text.encode("utf-8"))


def _get(path) -> str:
    return path.read_bytes().decode("utf-8")


def _write_csv(frame, path):
    _put(path, qualtrics_csv_text(frame))
    return path


def _legacy_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as the legacy exporter lays it out, with current column names."""
    out = pd.DataFrame(index=frame.index)
    out["ResponseId"] = frame["ResponseId"]
    out["ResponseSet"] = "Default Response Set"
    out["Name"] = frame["RecipientLastName"] + ", " + frame["RecipientFirstName"]
    out["ExternalReference"] = frame["ExternalReference"]
    out["RecipientEmail"] = frame["RecipientEmail"]
    for name in ("IPAddress", "Status", "StartDate", "EndDate", "Finished"):
        out[name] = frame[name]
    questions = [c for c in frame.columns if c.startswith("Q")]
    for name in questions:
        out[name] = frame[name]
    out["LocationLatitude"] = frame["LocationLatitude"]
    out["LocationLongitude"] = frame["LocationLongitude"]
    out["LocationAccuracy"] = "-1"
    texts = dict(zip(frame.columns, frame.attrs["question_text"], strict=True))
    out.attrs["labels"] = [label for _, label in LEGACY_V] + [
        *(texts[q] for q in questions),
        "LocationLatitude",
        "LocationLongitude",
        "LocationAccuracy",
    ]
    return out


def _write_legacy(legacy: pd.DataFrame, path):
    """The legacy layout: UTF-8 BOM, row 1 V1..V10 then tags, row 2 labels, a trailing comma
    on every line (as in qualtRics' sample_legacy.csv)."""
    ids = [f"V{k}" for k in range(1, 11)] + list(legacy.columns[10:])
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in [ids, legacy.attrs["labels"], *legacy.to_numpy().tolist()]:
        writer.writerow([*row, ""])
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return path


def _expected_values(frame: pd.DataFrame) -> pd.DataFrame:
    expected = frame.astype(str).copy()
    expected.index = pd.RangeIndex(1, len(frame) + 1, name="row_number")
    return expected


# --- real samples -------------------------------------------------------------------------


def test_real_current_sample():
    path = QUALTRICS / "sample.csv"
    raw = read_qualtrics(path)
    # sample.csv: 20 ids in row 1, one data row (row 4); README of the samples folder.
    assert raw.values.shape == (1, 20)
    assert raw.header_rows == 3 and raw.line_of(1) == 4
    assert raw.format == "qualtrics"
    assert raw.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    # Row 2 of sample.csv is in German; row 3 holds the ImportIds.
    assert raw.question_text["StartDate"] == "Anfangsdatum"
    assert raw.question_text["IPAddress"] == "IP-Adresse"
    assert raw.question_text["RecipientLastName"] == "Nachname des Empfängers"
    assert raw.question_text["Q1"] == "This is a multiple choice question."
    assert raw.import_ids["ResponseId"] == "_recordId"
    assert raw.import_ids["Q2"] == "QID2_TEXT"
    assert raw.import_ids["Q2 - Topics"] == "QID2_TEXT_eae5a8d0e7fd4bd183e983e5Topics"
    assert len(raw.import_ids) == 20
    row = raw.values.loc[1]
    # Row 4 of sample.csv: a numeric-values export (Status 0, Finished 1, Q1 recode 2).
    assert (row["Status"], row["Finished"], row["Q1"]) == ("0", "1", "2")
    assert row["ResponseId"] == "R_2YPOQ602ER1jkf1"
    assert row["Q2"] == "Hello World!" and row["RecipientEmail"] == "" and row["Q2 - Topics"] == ""
    assert raw.values.index.name == "row_number" and list(raw.values.index) == [1]


def test_real_legacy_sample():
    path = QUALTRICS / "sample_legacy.csv"
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"  # the legacy sample starts with a BOM
    raw = read_qualtrics(path)
    # sample_legacy.csv: row 1 has 16 fields, the last empty (trailing comma) -> 15 columns;
    # 3 lines, 2 of them header rows -> 1 data row.
    assert raw.values.shape == (1, 15)
    assert raw.header_rows == 2 and raw.line_of(1) == 3
    assert list(raw.values.columns) == [
        *(name for name, _ in LEGACY_V),
        "Q1",
        "Q2",
        "LocationLatitude",
        "LocationLongitude",
        "LocationAccuracy",
    ]
    assert raw.import_ids == {name: f"V{k}" for k, (name, _) in enumerate(LEGACY_V, start=1)}
    assert raw.question_text["ResponseId"] == "ResponseID"
    assert raw.question_text["RecipientEmail"] == "EmailAddress"
    assert raw.question_text["Q2"] == "This is a free text question."
    row = raw.values.loc[1]
    # Line 3 of sample_legacy.csv.
    assert row["ResponseSet"] == "Standard-Antwortsatz" and row["Name"] == "Anonym"
    assert (row["Status"], row["Finished"], row["LocationAccuracy"]) == ("0", "1", "-1")


def test_both_samples_hold_the_same_response():
    # qualtRics ships the same response in both layouts; the columns both have agree.
    current = read_qualtrics(QUALTRICS / "sample.csv").values
    legacy = read_qualtrics(QUALTRICS / "sample_legacy.csv").values
    shared = [c for c in legacy.columns if c in current.columns]
    # The 15 legacy columns less ResponseSet, Name and LocationAccuracy (compare row 1 of both).
    assert len(shared) == 12
    pd.testing.assert_frame_equal(current[shared], legacy[shared])


def test_legacy_metadata_map_follows_the_domain_reference():
    assert {label: name for name, label in LEGACY_V} == LEGACY_METADATA


# --- variants written from a simulated export ---------------------------------------------


def test_simulated_csv_reads_to_the_frame(frame, tmp_path):
    raw = read_qualtrics(_write_csv(frame, tmp_path / "export.csv"))
    pd.testing.assert_frame_equal(raw.values, _expected_values(frame))
    assert list(raw.question_text.values()) == frame.attrs["question_text"]
    assert list(raw.import_ids.values()) == frame.attrs["import_ids"]


@pytest.mark.parametrize(
    ("delimiter", "encoding"),
    [("\t", "utf-16"), ("\t", "utf-8"), (",", "utf-8-sig"), (",", "utf-16")],
)
def test_tsv_and_encodings_read_like_the_csv(frame, tmp_path, delimiter, encoding):
    csv_raw = read_qualtrics(_write_csv(frame, tmp_path / "export.csv"))
    path = _write_current(frame, tmp_path / "export.tsv", delimiter=delimiter, encoding=encoding)
    if encoding == "utf-16":
        assert path.read_bytes()[:2] == b"\xff\xfe"  # Python's utf-16 writes a BOM
    raw = read_qualtrics(path)
    pd.testing.assert_frame_equal(raw.values, csv_raw.values)
    assert raw.question_text == csv_raw.question_text
    assert raw.import_ids == csv_raw.import_ids
    assert raw.header_rows == 3


def test_numeric_values_export(frame, tmp_path):
    numeric = frame.copy()
    # Status codes and Finished 1/0 of the numeric export (domain reference 1.1.3, 1.1.4).
    numeric["Status"] = frame["Status"].map({"IP Address": "0", "Survey Preview": "1",
                                             "Survey Test": "2"})  # fmt: skip
    numeric["Finished"] = frame["Finished"].map({"True": "1", "False": "0"})
    items = [c for c in frame.columns if c[:3] in ("Q1_", "Q2_", "Q3_", "Q4_", "Q5_")]
    for column in items:  # recode values 1..k in label order (any recodes would do)
        labels = sorted(set(frame[column]) - {""})
        codes = {label: str(k) for k, label in enumerate(labels, start=1)} | {"": ""}
        numeric[column] = frame[column].map(codes)
    raw = read_qualtrics(_write_csv(numeric, tmp_path / "numeric.csv"))
    pd.testing.assert_frame_equal(raw.values, _expected_values(numeric))
    assert set(raw.values["Status"]) == {"0", "1", "2"}  # the simulation has all three
    assert set(raw.values["Finished"]) <= {"0", "1"}
    # At most 5 choices per item: the longest scale of the simulation, PSS-10, has 5 labels.
    assert raw.values[items].isin([""] + [str(k) for k in range(1, 6)]).all().all()


def test_simulated_legacy_reads_after_renaming(frame, tmp_path):
    legacy = _legacy_frame(frame)
    raw = read_qualtrics(_write_legacy(legacy, tmp_path / "legacy.csv"))
    assert raw.header_rows == 2
    pd.testing.assert_frame_equal(raw.values, _expected_values(legacy))
    assert raw.import_ids == {name: f"V{k}" for k, (name, _) in enumerate(LEGACY_V, start=1)}
    assert list(raw.question_text.values()) == legacy.attrs["labels"]
    # The renamed metadata hold the current export's values, row for row.
    for name in ("ResponseId", "ExternalReference", "RecipientEmail", "Status", "Finished"):
        assert raw.values[name].tolist() == frame[name].tolist()


def test_multiline_text_na_and_blank_cells_stay_as_written(frame, tmp_path):
    edited = frame.copy()
    edited.loc[1, "Q6"] = 'Line one,\r\nline "two"\nline three'
    edited.loc[2, "Q6"] = "NA"
    edited.loc[3, "gpa"] = ""
    raw = read_qualtrics(_write_csv(edited, tmp_path / "export.csv"))
    pd.testing.assert_frame_equal(raw.values, _expected_values(edited))
    assert raw.values.loc[2, "Q6"] == 'Line one,\r\nline "two"\nline three'  # data row 2
    assert raw.values.loc[3, "Q6"] == "NA"


def test_trailing_blank_lines_are_ignored(frame, tmp_path):
    path = _write_csv(frame, tmp_path / "export.csv")
    path.write_bytes(path.read_bytes() + b"\r\n\r\n")
    assert len(read_qualtrics(path).values) == len(frame)


def test_header_only_exports_have_no_rows(tmp_path):
    current = tmp_path / "current.csv"
    _put(current, 'A,B\r\nText A,Text B\r\n{"ImportId":"QID1"},{"ImportId":"QID2"}\r\n')
    legacy = tmp_path / "legacy.csv"
    _put(legacy, "V1,Q1,\r\nResponseID,Question,\r\n")
    for path, columns in ((current, ["A", "B"]), (legacy, ["ResponseId", "Q1"])):
        raw = read_qualtrics(path)
        assert raw.values.shape == (0, len(columns)) and list(raw.values.columns) == columns


def test_header_longer_than_the_first_block(tmp_path):
    # A question text of 70,000 two-byte characters: longer than the reader's first 64 KiB guess.
    text = "é" * 70_000
    path = tmp_path / "long.csv"
    _put(path, f'A,B\r\nx,{text}\r\n{{"ImportId":"a"}},{{"ImportId":"b"}}\r\n1,2\r\n')
    raw = read_qualtrics(path)
    assert raw.question_text["B"] == text and raw.values.loc[1].tolist() == ["1", "2"]


def test_row_of_empty_fields_is_a_row(tmp_path):
    # "," is a record of two empty fields (unlike a blank line, refused below).
    path = tmp_path / "export.csv"
    _put(path, 'A,B\r\na,b\r\n{"ImportId":"a"},{"ImportId":"b"}\r\n,\r\n1,2\r\n')
    assert read_qualtrics(path).values.to_numpy().tolist() == [["", ""], ["1", "2"]]


def test_row_longer_than_a_parser_block(tmp_path):
    # pyarrow parses in 1 MiB blocks; a 2,100,000-character answer spans three of them.
    answer = "a line, with a comma\n" * 100_000
    path = tmp_path / "export.csv"
    _put(path, f'A,B\r\na,b\r\n{{"ImportId":"a"}},{{"ImportId":"b"}}\r\n1,"{answer}"\r\n2,x\r\n')
    values = read_qualtrics(path).values
    assert values["B"].tolist() == [answer, "x"]


@pytest.mark.parametrize("where", ["header", "body"])
def test_windows_1252_in_the_header_or_body(tmp_path, where, caplog):
    text = "Zoë" if where == "header" else "plain"
    content = f'A,B\r\na,{text}\r\n{{"ImportId":"a"}},{{"ImportId":"b"}}\r\n1,Ærø\r\n'
    path = tmp_path / "export.csv"
    path.write_bytes(content.encode("cp1252"))
    raw = read_qualtrics(path)
    assert raw.question_text["B"] == text and raw.values.loc[1, "B"] == "Ærø"
    assert "Windows-1252" in caplog.text


def test_windows_1252_export_is_read_with_a_fallback(frame, tmp_path, caplog):
    edited = frame.copy()
    edited.loc[len(frame) - 1, "RecipientFirstName"] = "Zoë"  # the last row: far into the body
    path = _write_current(edited, tmp_path / "export.csv", encoding="cp1252")
    raw = read_qualtrics(path)
    pd.testing.assert_frame_equal(raw.values, _expected_values(edited))
    assert "Windows-1252" in caplog.text
    assert read_qualtrics(path, encoding="cp1252").values.equals(raw.values)


# --- errors ---------------------------------------------------------------------------------


def _error(path, **kwargs) -> ExportError:
    with pytest.raises(ExportError) as info:
        read_qualtrics(path, **kwargs)
    assert str(path) in str(info.value)
    return info.value


@pytest.mark.parametrize("content", [b"", b"  \r\n", b"\xff\xfe", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert "empty" in _error(path).problem


def test_unknown_layout_names_row_3(tmp_path):
    path = tmp_path / "plain.csv"
    _put(path, "id,score\r\n1,2\r\n3,4\r\n")
    error = _error(path)
    assert (error.row, error.column) == (3, "id")
    assert "ImportId" in error.expected and "V1" in error.expected
    assert error.found == "a number (1 digit)"  # a data cell: described, never quoted


@pytest.mark.parametrize("content", ["StartDate,EndDate\r\nStart Date,End Date\r\n", "V1,Q1\r\n"])
def test_too_few_header_rows(tmp_path, content):
    path = tmp_path / "short.csv"
    _put(path, content)
    assert "too few header rows" in _error(path).problem


def test_import_id_row_broken_in_one_column(frame, tmp_path):
    path = _write_csv(frame, tmp_path / "export.csv")
    _put(path, _get(path).replace('"{""ImportId"":""QID1_2""}"', "QID1_2", 1))
    error = _error(path)
    assert (error.row, error.column) == (3, "Q1_2")
    assert error.found == "a code of 6 characters (letters, digits and '_')"
    assert "QID1_2" not in str(error)


def test_duplicate_column_ids(frame, tmp_path):
    path = _write_csv(frame, tmp_path / "export.csv")
    _put(path, _get(path).replace("Q1_2,", "Q1_1,", 1))
    error = _error(path)
    # Q1_1 and Q1_2 are columns 18 and 19 (17 metadata columns first; domain reference 1.1.2).
    assert (error.row, error.column) == (1, "Q1_1") and "columns 18 and 19" in error.found


def test_duplicate_after_legacy_renaming(tmp_path):
    path = tmp_path / "legacy.csv"
    _put(path, "V1,ResponseId\r\nResponseID,Response ID\r\nR_1,R_1\r\n")
    error = _error(path)
    assert error.column == "ResponseId" and "'V1'" in error.found


def test_empty_column_id(tmp_path):
    path = tmp_path / "export.csv"
    _put(path, 'A,,C\r\na,b,c\r\n{"ImportId":"a"},{"ImportId":"b"},{"ImportId":"c"}\r\n')
    error = _error(path)
    assert (error.row, error.column) == (1, "#2")


def test_header_rows_of_different_lengths(tmp_path):
    path = tmp_path / "export.csv"
    _put(path, 'A,B,C\r\na,b\r\n{"ImportId":"a"},{"ImportId":"b"},{"ImportId":"c"}\r\n')
    error = _error(path)
    assert error.row == 2 and error.found == "2 fields"


def test_truncated_file_names_the_last_row(frame, tmp_path):
    text = qualtrics_csv_text(frame)
    path = tmp_path / "cut.csv"
    cut = text.rstrip("\r\n").rfind("\r\n") + 40  # 40 characters into the last line
    _put(path, text[:cut])
    error = _error(path)
    # The last data row is data row len(frame), on line 3 + len(frame).
    assert error.row == 3 + len(frame)
    assert error.expected == "62 fields"  # the simulated export has 62 columns
    assert error.found.endswith("fields")


@pytest.mark.parametrize(
    ("edit", "found"),
    [
        (lambda line: line.rsplit(",", 1)[0], "61 fields"),  # one field short
        (lambda line: line + ",extra", "63 fields"),  # one field too many
        (lambda line: "", "0 fields (a blank line)"),
    ],
)
def test_bad_row_in_the_middle_is_named(frame, tmp_path, edit, found):
    edited = frame.copy()
    edited.loc[2, "Q6"] = "a\r\nmulti-line\r\nanswer"  # data row 3 spans 3 lines
    lines = qualtrics_csv_text(edited).split("\r\n")
    # Lines: 3 header rows, data rows 1-2, data row 3 (3 lines), data rows 4... Data row 10 is
    # therefore on list position 3 + 9 + 2 = 14 and is record 3 + 10 = 13.
    lines[14] = edit(lines[14])
    path = tmp_path / "bad.csv"
    _put(path, "\r\n".join(lines))
    error = _error(path)
    assert (error.row, error.found) == (13, found)


def test_short_row_in_a_utf16_tsv(frame, tmp_path):
    path = _write_current(frame, tmp_path / "export.tsv", delimiter="\t", encoding="utf-16")
    lines = path.read_bytes().decode("utf-16").split("\r\n")
    lines[7] = lines[7].rsplit("\t", 2)[0]  # data row 5 loses two fields
    path.write_bytes("\r\n".join(lines).encode("utf-16"))
    error = _error(path)
    assert (error.row, error.found) == (8, "60 fields")  # 62 - 2, record 3 + 5


def test_value_under_the_trailing_delimiter(tmp_path):
    path = tmp_path / "legacy.csv"
    _put(path, "V1,Q1,\r\nResponseID,Question,\r\nR_1,2,\r\nR_2,3,oops\r\n")
    error = _error(path)
    assert (error.row, error.column, error.found) == (4, "#3", "a word of 4 letters")


def test_binary_file(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(b"PK\x03\x04\x00\x00 an xlsx renamed to csv")
    assert "binary" in _error(path).problem


def test_explicit_encoding_errors(frame, tmp_path):
    path = tmp_path / "export.csv"
    edited = frame.copy()
    edited.loc[len(frame) - 1, "RecipientFirstName"] = "Zoë"
    _write_current(edited, path, encoding="cp1252")
    error = _error(path, encoding="utf-8")
    assert "not valid utf-8" in error.problem and error.row == 3 + len(frame)
    assert "unknown encoding" in _error(path, encoding="klingon-8").problem


def test_unreadable_path(tmp_path):
    assert "cannot read" in _error(tmp_path / "missing.csv").problem
