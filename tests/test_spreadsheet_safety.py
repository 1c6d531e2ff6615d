"""Result CSVs are safe to open in a spreadsheet (OWASP CSV injection): text cells that would
be read as a formula get a leading single quote; numbers are never touched."""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd

from outcomes.tables import neutralize_formulas, write_csv


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_formula_text_is_neutralized_and_numbers_are_not(tmp_path):
    labels = [
        '=HYPERLINK("http://evil.example","click")',
        "+1",
        "-cmd",
        "@SUM(A1:A9)",
        "\tTAB",
        "\rCR",
        "C(gender)[T.=1+2]",  # a formula character inside a cell is harmless
        None,
    ]
    frame = pd.DataFrame(
        {
            "term": labels,
            "estimate": [-2.06, -0.5, 0.0, 1.25, -1e-12, -3.0, 4.0, np.nan],
            "n": np.array([-1, 2, 3, 4, 5, 6, 7, 8], dtype="int64"),
            "as_text": ["-0.5", "+3", "1", "2", "3", "4", "5", "6"],
            "flag": [True, False, True, False, True, False, True, False],
        }
    )
    before = frame.copy()
    path = write_csv(frame, tmp_path / "estimates.csv")
    pd.testing.assert_frame_equal(frame, before)  # the caller's table is not changed
    header, *rows = _rows(path)
    assert header == ["term", "estimate", "n", "as_text", "flag"]
    assert [r[0] for r in rows] == [
        '\'=HYPERLINK("http://evil.example","click")',
        "'+1",
        "'-cmd",
        "'@SUM(A1:A9)",
        "'\tTAB",
        "'\nCR",  # and the carriage return a line break: quoted, it cannot split the row
        "C(gender)[T.=1+2]",
        "",
    ]
    assert [r[1] for r in rows] == ["-2.06", "-0.5", "0", "1.25", "-1e-12", "-3", "4", ""]
    assert [r[2] for r in rows] == ["-1", "2", "3", "4", "5", "6", "7", "8"]
    # Text that looks like a number is text: prefixed too (estimates are floats, never text).
    assert [r[3] for r in rows][:3] == ["'-0.5", "'+3", "1"]
    assert rows[0][4] == "True"


def test_categorical_and_string_columns_and_names(tmp_path):
    frame = pd.DataFrame(
        {
            "=cmd": [1.0, 2.0],
            "level": pd.Categorical(["-x", "y"]),
            "label": pd.array(["@a", "b"], dtype="string"),
        }
    )
    header, *rows = _rows(write_csv(frame, tmp_path / "t.csv"))
    assert header == ["'=cmd", "level", "label"]
    assert rows == [["1", "'-x", "'@a"], ["2", "y", "b"]]


def test_a_safe_table_is_written_unchanged(tmp_path):
    frame = pd.DataFrame({"outcome": ["stress", "gpa"], "estimate": [-2.06, 0.1]})
    assert neutralize_formulas(frame) is frame
    text = write_csv(frame, tmp_path / "x.csv").read_text()
    assert text == "outcome,estimate\nstress,-2.06\ngpa,0.1\n"


def test_a_carriage_return_inside_text_cannot_split_a_row(tmp_path):
    frame = pd.DataFrame({"note": ["one\rtwo", "three\r\nfour", "five"], "n": [1, 2, 3]})
    path = write_csv(frame, tmp_path / "notes.csv")
    assert _rows(path) == [["note", "n"], ["one\ntwo", "1"], ["three\nfour", "2"], ["five", "3"]]
    assert pd.read_csv(path)["n"].tolist() == [1, 2, 3]
