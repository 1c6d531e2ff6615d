"""The SurveyMonkey reader ("All individual responses" CSV).

No public sample of a real SurveyMonkey export was found (see the README of
``tests/fixtures/samples``), so the fixtures are written here from the layout in the domain
reference, section 1.2: two header rows; row 1 the metadata names and each question's text in
its first column only; row 2 the sub-labels (``Response``, ``Open-Ended Response``, option text,
matrix row text, contact sub-fields).
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from outcomes.errors import ExportError
from outcomes.ingest.surveymonkey import METADATA_COLUMNS, read_surveymonkey

AGE = "How old are you?"
ACTIVITIES = "Which activities did you join?"
MOOD = "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
CONTACT = "May we contact you?"
COMMENTS = "Is there anything else you would like to tell us?"

#: (row 1, row 2) of every column: 9 metadata columns (domain reference 1.2), a single-choice
#: question, a 4-option multi-select, a 3-row matrix, a contact block and an open question.
COLUMNS = [
    *((name, "") for name in METADATA_COLUMNS),
    (AGE, "Response"),
    (ACTIVITIES, "Sports"),
    ("", "Arts, music or drama"),
    ("", "Tutoring"),
    ("", "Other (please specify)"),
    (MOOD, "Little interest or pleasure in doing things"),
    ("", "Feeling down, depressed, or hopeless"),
    ("", "Trouble falling or staying asleep, or sleeping too much"),
    (CONTACT, "Name"),
    ("", "Email"),
    (COMMENTS, "Open-Ended Response"),
]
#: The column ids the reader gives: metadata names, the question alone for "Response",
#: "<question> | <sub-label>" otherwise.
IDS = [
    *METADATA_COLUMNS,
    AGE,
    f"{ACTIVITIES} | Sports",
    f"{ACTIVITIES} | Arts, music or drama",
    f"{ACTIVITIES} | Tutoring",
    f"{ACTIVITIES} | Other (please specify)",
    f"{MOOD} | Little interest or pleasure in doing things",
    f"{MOOD} | Feeling down, depressed, or hopeless",
    f"{MOOD} | Trouble falling or staying asleep, or sleeping too much",
    f"{CONTACT} | Name",
    f"{CONTACT} | Email",
    f"{COMMENTS} | Open-Ended Response",
]
#: Three respondents, answer text variant: a chosen option's text, blank when not chosen.
ROWS = [
    ["114224456789", "431234567", "09/14/2026 08:01:12 AM", "09/14/2026 08:09:40 AM",
     "10.1.2.3", "", "", "", "S100001",
     "15", "Sports", "", "Tutoring", "", "Several days", "Not at all", "Nearly every day",
     "Sam Kim", "sam@example.org", "My mentor helped, a lot.\nThanks!"],
    ["114224456790", "431234567", "09/14/2026 09:15:00 AM", "09/14/2026 09:20:31 AM",
     "10.1.2.4", "", "", "", "S100002",
     "16", "", "Arts, music or drama", "", "Chess club", "Not at all", "", "Several days",
     "", "", ""],
    ["114224456791", "431234568", "09/15/2026 10:00:00 AM", "09/15/2026 10:03:05 AM",
     "10.1.2.5", "", "", "", "",
     "NA", "", "", "", "", "", "", "", "", "", 'She said "yes"'],
]  # fmt: skip


def _write(tmp_path, content: bytes, name="export.csv"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _csv_bytes(rows, *, bom=False, trailing_comma=False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([*row, ""] if trailing_comma else row)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8")


def _header():
    return [[c[0] for c in COLUMNS], [c[1] for c in COLUMNS]]


def test_reads_the_layout_of_the_domain_reference(tmp_path):
    raw = read_surveymonkey(_write(tmp_path, _csv_bytes([*_header(), *ROWS])))
    # 3 data rows; 9 metadata + 1 + 4 + 3 + 2 + 1 = 20 columns (COLUMNS above).
    assert raw.values.shape == (3, 20)
    assert list(raw.values.columns) == IDS
    assert raw.format == "surveymonkey" and raw.header_rows == 2 and raw.line_of(1) == 3
    assert raw.import_ids == {}
    expected = pd.DataFrame(ROWS, columns=IDS, index=pd.RangeIndex(1, 4, name="row_number"))
    pd.testing.assert_frame_equal(raw.values, expected.astype("str"))
    # question_text: forward-filled full text, or the metadata name.
    assert raw.question_text["Respondent ID"] == "Respondent ID"
    assert raw.question_text[AGE] == AGE
    assert raw.question_text[f"{ACTIVITIES} | Tutoring"] == ACTIVITIES
    assert raw.question_text[f"{MOOD} | Feeling down, depressed, or hopeless"] == MOOD
    assert raw.question_text[f"{COMMENTS} | Open-Ended Response"] == COMMENTS
    assert raw.values.loc[1, f"{COMMENTS} | Open-Ended Response"].endswith("a lot.\nThanks!")
    assert raw.values.loc[3, AGE] == "NA"  # text, not a missing value


def test_bom_and_trailing_comma_read_the_same(tmp_path):
    plain = read_surveymonkey(_write(tmp_path, _csv_bytes([*_header(), *ROWS]), "a.csv"))
    variant = _csv_bytes([*_header(), *ROWS], bom=True, trailing_comma=True)
    raw = read_surveymonkey(_write(tmp_path, variant, "b.csv"))
    pd.testing.assert_frame_equal(raw.values, plain.values)
    assert raw.question_text == plain.question_text


def test_numeric_value_variant_reads_as_written(tmp_path):
    # The numeric variant's coding is unverified (domain reference 1.2, appendix B item 3):
    # whatever codes the cells hold are read as they are.
    rows = [
        [*row[:9], "15", "1", "", "3", "", str(k), "1", "4", "", "", ""]
        for k, row in enumerate(ROWS, start=1)
    ]
    raw = read_surveymonkey(_write(tmp_path, _csv_bytes([*_header(), *rows])))
    mood_1 = raw.values[f"{MOOD} | Little interest or pleasure in doing things"]
    assert mood_1.tolist() == ["1", "2", "3"]  # the codes written above, row by row
    assert list(raw.values.columns) == IDS


def test_utf16_tsv_reads_like_the_csv(tmp_path):
    plain = read_surveymonkey(_write(tmp_path, _csv_bytes([*_header(), *ROWS]), "a.csv"))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter="\t", lineterminator="\r\n").writerows([*_header(), *ROWS])
    raw = read_surveymonkey(_write(tmp_path, buffer.getvalue().encode("utf-16"), "b.tsv"))
    pd.testing.assert_frame_equal(raw.values, plain.values)


def test_blank_sub_label_names_the_column_by_its_question(tmp_path):
    # A custom variable column: a name in row 1, nothing in row 2.
    header = [[*_header()[0], "Custom Data 2"], [*_header()[1], ""]]
    rows = [[*row, f"x{k}"] for k, row in enumerate(ROWS)]
    raw = read_surveymonkey(_write(tmp_path, _csv_bytes([*header, *rows])))
    assert raw.values["Custom Data 2"].tolist() == ["x0", "x1", "x2"]


def test_header_only_export(tmp_path):
    raw = read_surveymonkey(_write(tmp_path, _csv_bytes(_header())))
    assert raw.values.shape == (0, 20) and list(raw.values.columns) == IDS


# --- errors ---------------------------------------------------------------------------------


def _error(path) -> ExportError:
    with pytest.raises(ExportError) as info:
        read_surveymonkey(path)
    assert str(path) in str(info.value)
    return info.value


@pytest.mark.parametrize("content", [b"", b"\r\n", b"\xef\xbb\xbf"])
def test_empty_file(tmp_path, content):
    assert "empty" in _error(_write(tmp_path, content)).problem


def test_one_header_row(tmp_path):
    error = _error(_write(tmp_path, _csv_bytes(_header()[:1])))
    assert "too few header rows" in error.problem


def test_first_column_without_a_name(tmp_path):
    header = [["", *_header()[0][1:]], _header()[1]]
    error = _error(_write(tmp_path, _csv_bytes(header)))
    assert (error.row, error.column) == (1, "#1")


def test_column_blank_in_both_header_rows(tmp_path):
    header = [list(row) for row in _header()]
    header[1][11] = ""  # column 12, the continuation "Arts, music or drama" of ACTIVITIES
    error = _error(_write(tmp_path, _csv_bytes(header)))
    assert error.row == 2 and error.column.startswith("#12")


def test_duplicate_column_ids(tmp_path):
    # Two open questions with the same text give the same id.
    header = [[*_header()[0], COMMENTS], [*_header()[1], "Open-Ended Response"]]
    error = _error(_write(tmp_path, _csv_bytes(header)))
    assert error.column == f"{COMMENTS} | Open-Ended Response"
    assert "columns 20 and 21" in error.found


def test_header_rows_of_different_lengths(tmp_path):
    header = [_header()[0], _header()[1][:-2]]
    error = _error(_write(tmp_path, _csv_bytes(header)))
    assert error.row == 2 and error.found == "18 fields"


def test_short_data_row_is_named(tmp_path):
    rows = [ROWS[0], ROWS[1][:-3], ROWS[2]]  # data row 2 (line 4) loses 3 fields
    error = _error(_write(tmp_path, _csv_bytes([*_header(), *rows])))
    assert (error.row, error.found) == (4, "17 fields")  # 20 - 3


def test_truncated_export(tmp_path):
    content = _csv_bytes([*_header(), *ROWS])
    error = _error(_write(tmp_path, content[:-40]))  # cut inside the last row (data row 3)
    assert error.row == 5 and "fields" in error.expected
