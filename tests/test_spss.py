"""SPSS reader on the real pyreadstat samples (tests/fixtures/samples/spss, see its README).

Expected values come from the samples' own expected readings (the .csv files beside each .sav,
written by SPSS/pyreadstat) and from the files' metadata as SPSS wrote it; a few error cases use
fixtures written in ``tmp_path``.
"""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pytest

from outcomes.errors import ExportError
from outcomes.ingest.rawtable import RawTable
from outcomes.ingest.spss import SpssTable, read_spss
from outcomes.tables import file_sha256
from tests.conftest import SAMPLES

SPSS = SAMPLES / "spss"
COLUMNS = ["mychar", "mynum", "mydate", "dtime", "mylabl", "myord", "mytime"]


def expected_rows(name: str) -> list[dict[str, str]]:
    """An expected-reading CSV of the samples folder, as text (BOM removed)."""
    with open(SPSS / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def normalized(column: str, cell: str) -> str:
    """An expected-CSV cell in the reader's conventions: SPSS's "#NULL!" and pandas' "NaN" are
    missing; numbers compare as numbers; ISO "T" date-times and "0:00:00.000000" times are
    written the reader's way (space, no zero fraction, two-digit hours)."""
    if cell in ("", "#NULL!", "NaN"):
        return ""
    if column == "dtime":
        return dt.datetime.fromisoformat(cell).isoformat(sep=" ")
    if column == "mytime":
        hours, rest = cell.split(":", 1)
        return dt.time.fromisoformat(f"{int(hours):02d}:{rest}").isoformat()
    if column in ("mynum", "mylabl", "myord", "var1"):
        number = float(cell)
        return str(int(number)) if number.is_integer() else repr(number)
    return cell


def blank_missing(table: RawTable) -> pd.DataFrame:
    """The values with the file's user-missing codes blanked (what SPSS itself exports)."""
    values = table.values.copy()
    for column, codes in table.missing_codes.items():
        values[column] = values[column].where(~values[column].isin(codes), "")
    return values


def test_sample_sav_shape_metadata_and_provenance():
    # source: sample.sav (5 cases, 7 variables) and sample.csv, its expected reading
    path = SPSS / "sample.sav"
    table = read_spss(path)
    assert isinstance(table, RawTable) and isinstance(table, SpssTable)
    assert table.format == "spss"
    assert table.header_rows == 0
    assert table.sha256 == file_sha256(path)
    assert list(table.values.columns) == COLUMNS
    assert table.values.shape == (5, 7)
    assert list(table.values.index) == [1, 2, 3, 4, 5]
    assert table.values.index.name == "row_number"
    assert table.line_of(5) == 5  # case number
    # variable labels of sample.sav (pyreadstat meta.column_names_to_labels)
    assert table.question_text == {
        "mychar": "character",
        "mynum": "numeric",
        "mydate": "date",
        "dtime": "datetime",
        "mylabl": "labeled",
        "myord": "ordinal",
        "mytime": "time",
    }
    # value labels of sample.sav: no -1 here (that label is in sample_missing.sav)
    assert table.value_labels == {
        "mylabl": {"1": "Male", "2": "Female"},
        "myord": {"1": "low", "2": "medium", "3": "high"},
    }
    assert table.missing_codes == {}
    assert table.missing_ranges == {}
    assert table.identifiers == set()
    assert table.import_ids == {}


def test_sample_sav_cells_match_expected_csv():
    # source: sample.sav against sample.csv (cell by cell, in the reader's conventions)
    table = read_spss(SPSS / "sample.sav")
    expected = expected_rows("sample.csv")
    assert len(expected) == len(table.values)
    for row_number, row in enumerate(expected, start=1):
        for column in COLUMNS:
            assert table.values.at[row_number, column] == normalized(column, row[column]), (
                row_number,
                column,
            )
    # the formatting rules, spelled out on cells of sample.csv
    assert all(isinstance(v, str) for v in table.values.to_numpy().ravel())
    assert table.values.loc[1].tolist() == [
        "a", "1.1", "2018-05-06", "2018-05-06 10:10:10", "1", "1", "10:10:10",
    ]  # fmt: skip
    assert table.values.at[3, "mynum"] == "-1000.3"  # not "-1000.3000000000001" nor "-1000.30"
    assert table.values.at[3, "mytime"] == "00:00:00"  # sample.csv: 0:00:00.000000
    assert table.values.at[4, "mydate"] == "1583-01-01"  # before 1677, outside ns timestamps
    assert table.values.loc[5, ["mydate", "dtime", "mytime"]].tolist() == ["", "", ""]


def test_sample_missing_sav_user_missing_values_and_ranges():
    # source: sample_missing.sav: MISSING VALUES mynum (2000 THRU 3000, -1), mylabl (-1),
    # myord (-1, -2, -3); cases 6 and 7 hold such values (sample_missing.csv shows #NULL!)
    table = read_spss(SPSS / "sample_missing.sav")
    assert table.values.shape == (7, 7)
    assert table.missing_codes == {
        "mynum": {"-1", "2500"},  # -1 discrete; 2500 = the value of case 7 in 2000..3000
        "mylabl": {"-1"},
        "myord": {"-1", "-2", "-3"},
    }
    assert table.missing_ranges == {"mynum": [(2000.0, 3000.0)]}
    # user-missing codes stay visible in the values
    assert table.values.loc[6].tolist() == ["Z", "-1", "", "", "-1", "-1", ""]
    assert table.values.loc[7].tolist() == ["", "2500", "", "", "", "-3", ""]
    # the label of -1 (the README's "mylabl: 1 Male, 2 Female, -1 undetermined")
    assert table.value_labels["mylabl"] == {"-1": "undetermined", "1": "Male", "2": "Female"}
    assert table.value_labels["myord"] == {"-1": "missing", "1": "low", "2": "medium", "3": "high"}


def test_sample_missing_sav_blanked_matches_expected_csv():
    # source: sample_missing.sav against sample_missing.csv (SPSS's export: "#NULL!" for
    # system- and user-missing, numbers as F8.2 "1.10")
    table = read_spss(SPSS / "sample_missing.sav")
    values = blank_missing(table)
    expected = expected_rows("sample_missing.csv")
    assert len(expected) == len(values) == 7
    for row_number, row in enumerate(expected, start=1):
        for column in COLUMNS:
            assert values.at[row_number, column] == normalized(column, row[column]), (
                row_number,
                column,
            )


def test_missing_test_sav():
    # source: missing_test.sav (var1: 1, 2; value 1 labelled "missing" and declared missing),
    # missing_sav_unformatted.csv (NaN, 2.0) and missing_sav_labeled.csv ("missing", 2)
    table = read_spss(SPSS / "missing_test.sav")
    assert table.values.shape == (2, 1)
    assert table.values["var1"].tolist() == ["1", "2"]
    assert table.value_labels == {"var1": {"1": "missing"}}
    assert table.missing_codes == {"var1": {"1"}}
    assert table.missing_ranges == {}
    assert table.question_text == {"var1": "var1"}  # no variable label: the name
    unformatted = [
        normalized("var1", r["var1"]) for r in expected_rows("missing_sav_unformatted.csv")
    ]
    assert blank_missing(table)["var1"].tolist() == unformatted == ["", "2"]
    labeled = [r["var1"] for r in expected_rows("missing_sav_labeled.csv")]
    labels = table.value_labels["var1"]
    assert [labels.get(v, v) for v in table.values["var1"]] == labeled == ["missing", "2"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"id,score\n1,2\n", "cannot read the file as an SPSS system file"),  # CSV renamed .sav
    ],
)
def test_unreadable_sav(tmp_path, content, problem):
    # source: fixtures written here
    path = tmp_path / "export.sav"
    path.write_bytes(content)
    with pytest.raises(ExportError, match=problem) as info:
        read_spss(path)
    assert info.value.file == path
    assert info.value.expected is not None and "SPSS" in info.value.expected


def test_missing_file(tmp_path):
    # source: a path that does not exist
    with pytest.raises(ExportError, match="cannot read"):
        read_spss(tmp_path / "absent.sav")
