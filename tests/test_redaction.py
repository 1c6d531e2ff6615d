"""No raw cell in a message or in the ledger: :mod:`outcomes.redact`, and ingest end to end.

An identifier typed into the wrong place (an email in a PHQ-9 item, a phone number as a GPA)
must not reach stderr, the log or ledger.parquet; the message still names the file, the row and
the column and says what was expected. Non-finite numbers stop the run with a clear message.
"""

from __future__ import annotations

import logging
import re

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from outcomes.cli import main
from outcomes.config import cohort_from_dict
from outcomes.errors import ExportError
from outcomes.ingest import ingest_wave
from outcomes.redact import describe_value, redact_message
from outcomes.simulate import qualtrics_csv_text, simulate_cohort

from .conftest import demo_cohort_dict

EMAIL = "jane.doe@example.org"
PHONE_DIGITS = "5551234567"
PHONE = "(555) 123-4567"
PHQ9 = ["Not at all", "Several days", "More than half the days", "Nearly every day"]


# --- describe_value ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EMAIL, "an email address"),
        ("J.Doe+school@mail.example.co.uk", "an email address"),
        (" student@uni.edu ", "an email address"),
        (PHONE, "a phone number"),
        ("555-123-4567", "a phone number"),
        ("555.123.4567", "a phone number"),
        ("+44 20 7946 0958", "a phone number"),
        ("+1 (555) 123 4567 ext 12", "a phone number"),
        ("555-1234", "a phone number"),
        (PHONE_DIGITS, "a 10-digit number"),
        ("07700900123", "an 11-digit number"),
        ("12345678", "an 8-digit number"),
        ("100001", "a 6-digit number"),
        ("192.168.10.21", "an IP address"),
        ("2001:db8::8a2e:370:7334", "an IP address"),
        ("https://example.org/profile/jane", "a web address"),
        ("40.7128, -74.0060", "a pair of map coordinates"),
        ("123-45-6789", "a number shaped like a national ID (###-##-####)"),
        ("S100001", "a code of 7 characters (letters and digits)"),
        ("R_1a2b3c4d", "a code of 10 characters (letters, digits and '_')"),
        ("3", "a number (1 digit)"),
        ("117", "a number (3 digits)"),
        ("-2", "a negative number (1 digit)"),
        ("4.70", "a decimal number"),
        ("47.5", "a decimal number (2 digits before the point)"),
        ("3,2", "a number written with a comma"),
        ("1e400", "a number in exponent notation"),
        ("inf", "an infinite number"),
        ("-Infinity", "an infinite number"),
        ("NaN", "a NaN text (not a number)"),
        ("85%", "a percentage"),
        ("2026-09-14", "a date"),
        ("14/09/2026", "a date written ##/##/####"),
        ("2026-09-14 10:10:10", "a date and time"),
        ("10:30", "a time"),
        ("", "an empty cell"),
        ("   ", "only white space (3 characters)"),
        (None, "an empty cell"),
        (float("nan"), "an empty cell"),
        (pd.NA, "an empty cell"),
        (3.0, "a number (1 digit)"),
        (-0.25, "a negative decimal number"),
        (5551234567, "a 10-digit number"),
        (True, "a true/false value"),
        ("Jane", "a word of 4 letters"),
        ("Jane Doe", "text of 8 characters (2 words, each capitalised)"),
        ("Sometimes maybe", "text of 15 characters (2 words)"),
        ("I feel fine\nmost days", "text of 21 characters (5 words, on 2 lines)"),
        (
            f"write to {EMAIL} please",
            "text of 36 characters (4 words, containing an email address)",
        ),
        (f"call {PHONE} after 5", "text of 27 characters (5 words, containing a phone number)"),
        ("my id is 100001", "text of 15 characters (4 words, containing a long number)"),
        ("A+", "text of 2 characters (letters and other characters)"),
    ],
)
def test_describe_value(value, expected):
    assert describe_value(value) == expected


IDENTIFYING = [
    EMAIL,
    "firstname.lastname@school.k12.us",
    PHONE,
    PHONE_DIGITS,
    "+33 6 12 34 56 78",
    "192.168.10.21",
    "fe80::1ff:fe23:4567:890a",
    "40.7128,-74.0060",
    "123-45-6789",
    "S100001",
    "Jane Doe",
    "Maria del Carmen Lopez",
    "https://social.example/@jane_doe",
    "I live at 12 Elm Street with my mom, call 555-123-4567",
    "2009-03-14",
]


@pytest.mark.parametrize("value", IDENTIFYING)
def test_identifying_values_are_never_shown(value):
    description = describe_value(value).casefold()
    for token in re.split(r"[^0-9A-Za-z]+", value):
        if len(token) >= 3:
            assert token.casefold() not in description, (value, description)
    # Also when a fixed answer key is given that does not hold the value.
    assert value not in describe_value(value, allowed=set(PHQ9))


def test_allowed_values_are_shown_and_near_misses_hint_at_the_label():
    assert describe_value("Several days", allowed=set(PHQ9)) == "'Several days'"
    assert describe_value(" Several days ", allowed=set(PHQ9)) == "'Several days'"
    assert describe_value("Several dayz", allowed=set(PHQ9)) == (
        "text of 12 characters (2 words), similar to 'Several days'"
    )
    assert describe_value("SEVERAL  DAYS", allowed=set(PHQ9)).endswith(
        "like 'Several days' but for case or spacing"
    )
    assert describe_value("Yes", allowed=None) == "a word of 3 letters"
    assert describe_value(EMAIL, allowed=set(PHQ9)) == "an email address"


def test_redact_message_drops_echoed_rows_and_quoted_values():
    assert redact_message(f"CSV parse error: Expected 3 columns, got 2: S100001,{EMAIL}") == (
        "CSV parse error: Expected 3 columns, got 2"
    )
    message = redact_message(f"bad value {EMAIL!r} near {PHONE} from 10.1.2.3 id 1234567890")
    assert message == (
        "bad value [an email address] near [a phone number] from [an IP address] id "
        "[a 10-digit number]"
    )
    assert redact_message("Expected 3 fields in line 4, saw 5") == (
        "Expected 3 fields in line 4, saw 5"
    )
    assert len(redact_message("x" * 1000)) == 200


# --- end to end through ingest_wave -------------------------------------------------------------


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """A 120-student baseline export (seed 21) as a current Qualtrics CSV, and its frame."""
    folder = tmp_path_factory.mktemp("redaction")
    frame = simulate_cohort(120, seed=21).exports["baseline"]
    return folder, frame


def _with_cell(export, column, value, name):
    """The export with one cell of a finished real response replaced; the cohort reading it,
    the file and the file line of the changed row (3 header rows)."""
    folder, frame = export
    bad = frame.copy()
    bad.attrs = frame.attrs
    target = bad.index[(bad["Status"] == "IP Address") & (bad["Progress"] == "100")
                       & (bad[column] != "")][2]  # fmt: skip
    bad.loc[target, column] = value
    path = folder / name
    path.write_text(qualtrics_csv_text(bad), newline="")
    raw = demo_cohort_dict(folder)
    raw["sources"] = [{"path": str(path), "wave": "baseline"}]
    return raw, path, target + 1 + 3


def _cli_config(raw, folder):
    """The cohort config as a YAML file (every wave needs a source to validate)."""
    raw = dict(raw, sources=[*raw["sources"], {**raw["sources"][0], "wave": "followup"}])
    path = folder / "cohort.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def _refused(raw) -> ExportError:
    with pytest.raises(ExportError) as info:
        ingest_wave(cohort_from_dict(raw), "baseline")
    return info.value


def test_email_in_a_phq9_item(export, caplog):
    raw, path, line = _with_cell(export, "Q3_4", EMAIL, "email_item.csv")
    with caplog.at_level(logging.DEBUG):
        error = _refused(raw)
    message = str(error)
    assert EMAIL not in message and "jane" not in message.casefold()
    assert (error.file, error.row, error.column) == (path, line, "Q3_4")
    assert str(path) in message and f"row {line}" in message and "'Q3_4'" in message
    assert "not in the response key" in error.problem
    assert error.found == "an email address"
    assert all(label in error.expected for label in PHQ9)  # the key is safe to list
    assert EMAIL not in caplog.text


def test_email_in_a_phq9_item_never_reaches_stderr(export, tmp_path, capsys):
    raw, path, line = _with_cell(export, "Q3_4", EMAIL, "email_cli.csv")
    config = _cli_config(raw, tmp_path)
    status = main(["ingest", str(path), "--config", str(config), "-o", str(tmp_path / "r.parquet")])
    err = capsys.readouterr().err
    assert status == 2
    assert EMAIL not in err and f"row {line}" in err and "Q3_4" in err
    assert "an email address" in err
    assert not (tmp_path / "r.parquet").exists()


def test_value_label_from_the_config_is_shown(export):
    # A code labelled in the config is a label of a fixed key: safe to show when it is not in
    # the instrument's key.
    raw, _, line = _with_cell(export, "Q3_4", "9", "labelled.csv")
    raw["sources"][0]["value_labels"] = {"Q3_4": {"9": "Always"}}
    error = _refused(raw)
    assert (error.row, error.column, error.found) == (line, "Q3_4", "'Always'")


def test_near_miss_label_hints_at_the_key(export):
    raw, _, _ = _with_cell(export, "Q3_4", "Several dayz", "near.csv")
    error = _refused(raw)
    assert error.found == "text of 12 characters (2 words), similar to 'Several days'"


def test_email_in_a_numeric_covariate(export):
    raw, path, line = _with_cell(export, "grade_level", EMAIL, "email_covariate.csv")
    error = _refused(raw)
    assert EMAIL not in str(error)
    assert (error.file, error.row, error.column) == (path, line, "grade_level")
    assert error.problem == "a text value in a numeric column"
    assert (error.expected, error.found) == ("a number", "an email address")


def test_formatted_phone_number_as_a_gpa_is_refused(export):
    raw, _, line = _with_cell(export, "gpa", PHONE, "phone_text.csv")
    error = _refused(raw)
    assert PHONE not in str(error) and "4567" not in str(error)
    assert (error.row, error.column, error.found) == (line, "gpa", "a phone number")


def _parquet_text(path) -> str:
    table = pq.read_table(path)
    meta = " ".join(f"{k!r} {v!r}" for k, v in (table.schema.metadata or {}).items())
    return meta + "\n" + table.to_pandas().to_csv()


def test_phone_number_as_a_gpa_is_quarantined_without_its_value(export, tmp_path):
    raw, _, line = _with_cell(export, "gpa", PHONE_DIGITS, "phone_gpa.csv")
    responses, ledger_path = tmp_path / "responses.parquet", tmp_path / "ledger.parquet"
    result = ingest_wave(cohort_from_dict(raw), "baseline", responses, ledger_path)
    row = result.ledger.set_index("row_number").loc[line - 3]
    assert row["disposition"] == "out_of_range"
    assert row["detail"] == "gpa: a number outside 0-4 (a 10-digit number, above the range)"
    for written in (responses, ledger_path):
        assert PHONE_DIGITS not in _parquet_text(written)
        assert PHONE_DIGITS.encode() not in written.read_bytes()
    written_ledger = pd.read_parquet(ledger_path).set_index("row_number")
    assert written_ledger.loc[line - 3, "detail"] == row["detail"]
    assert written_ledger["detail"].dropna().tolist() == [row["detail"]]


def test_low_out_of_range_gpa(export):
    raw, _, line = _with_cell(export, "gpa", "-1", "low_gpa.csv")
    ledger = ingest_wave(cohort_from_dict(raw), "baseline").ledger.set_index("row_number")
    assert ledger.loc[line - 3, "detail"] == (
        "gpa: a number outside 0-4 (a negative number (1 digit), below the range)"
    )


@pytest.mark.parametrize(
    ("value", "problem", "found"),
    [
        ("inf", "a non-finite number in a numeric column", "an infinite number"),
        ("-inf", "a non-finite number in a numeric column", "an infinite number"),
        ("Infinity", "a non-finite number in a numeric column", "an infinite number"),
        ("1e400", "a non-finite number in a numeric column", "a number in exponent notation"),
        ("nan", "a text value in a numeric column", "a NaN text (not a number)"),
        ("NaN", "a text value in a numeric column", "a NaN text (not a number)"),
    ],
)
@pytest.mark.parametrize("column", ["grade_level", "gpa"])
def test_non_finite_numbers_stop_the_run(export, column, value, problem, found):
    raw, path, line = _with_cell(export, column, value, f"nonfinite_{column}.csv")
    error = _refused(raw)
    assert (error.file, error.row, error.column) == (path, line, column)
    assert (error.problem, error.found) == (problem, found)
    assert "finite" in error.expected if "non-finite" in problem else error.expected


def test_non_finite_percentage_grade(export):
    raw, _, line = _with_cell(export, "gpa", "inf", "percent.csv")
    raw["outcomes"]["gpa"]["grade_format"] = "percent"
    error = _refused(raw)
    assert (error.row, error.column) == (line, "gpa")
    assert error.problem == "a non-finite number in a numeric column"


def test_data_cells_of_a_broken_qualtrics_file_are_described(tmp_path):
    from outcomes.ingest.qualtrics import read_qualtrics

    plain = tmp_path / "plain.csv"
    plain.write_text(f"email,score\r\nx,1\r\n{EMAIL},4\r\n", newline="")
    with pytest.raises(ExportError) as info:
        read_qualtrics(plain)
    assert EMAIL not in str(info.value) and info.value.found == "an email address"
    trailing = tmp_path / "legacy.csv"
    trailing.write_text(f"V1,Q1,\r\nResponseID,Question,\r\nR_1,2,\r\nR_2,3,{PHONE}\r\n")
    with pytest.raises(ExportError) as info:
        read_qualtrics(trailing)
    assert PHONE not in str(info.value)
    assert (info.value.row, info.value.column, info.value.found) == (4, "#3", "a phone number")
