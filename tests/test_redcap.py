"""REDCap reader: the real sample projects, the data dictionary, label exports, errors.

Every expected number below was counted in the sample file named beside it
(tests/fixtures/samples/redcap/, REDCapR test projects, see the samples README).
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest

from outcomes.errors import ExportError
from outcomes.ingest.redcap import (
    CHECKBOX_LABELS,
    FORM_STATUS_LABELS,
    find_dictionary,
    parse_choices,
    read_redcap,
    read_redcap_dictionary,
    strip_html,
)
from outcomes.tables import file_sha256

from .conftest import SAMPLES

REDCAP = SAMPLES / "redcap"
LONGITUDINAL = REDCAP / "longitudinal"
SURVEY = REDCAP / "survey"
CHECKBOXES = REDCAP / "checkboxes"
CHOICES_HEADER = "Choices, Calculations, OR Slider Labels"


def _rows(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write_rows(path, rows, delimiter=",") -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter, lineterminator="\n").writerows(rows)


def _dictionary_csv(*fields: tuple[str, ...]) -> str:
    """A UI-style dictionary: (field_name, form, type, label, choices[, identifier])."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        [
            "Variable / Field Name",
            "Form Name",
            "Section Header",
            "Field Type",
            "Field Label",
            CHOICES_HEADER,
            "Field Note",
            "Identifier?",
        ]
    )
    for name, form, kind, label, choices, *identifier in fields:
        writer.writerow([name, form, "", kind, label, choices, "", "".join(identifier)])
    return buffer.getvalue()


# --- the real samples ---------------------------------------------------------------------


def test_longitudinal_sample():
    raw = read_redcap(LONGITUDINAL / "data.csv")  # finds dictionary.csv beside it
    # data.csv: 19 lines = 1 header + 18 records (no cell spans lines); 125 fields per line
    assert raw.values.shape == (18, 125)
    assert raw.format == "redcap" and raw.header_rows == 1
    assert raw.sha256 == file_sha256(LONGITUDINAL / "data.csv")
    assert raw.values.index.name == "row_number" and list(raw.values.index) == list(range(1, 19))
    assert raw.line_of(18) == 19
    assert raw.values.map(lambda cell: isinstance(cell, str)).all().all()
    # data.csv column 2: records 100 and 220 have the 6 arm-1 events, 304 the 6 arm-2 events
    arm_1 = [
        "enrollment_arm_1",
        "dose_1_arm_1",
        "visit_1_arm_1",
        "dose_2_arm_1",
        "visit_2_arm_1",
        "final_visit_arm_1",
    ]
    arm_2 = [
        "enrollment_arm_2",
        "deadline_to_opt_ou_arm_2",
        "first_dose_arm_2",
        "first_visit_arm_2",
        "final_visit_arm_2",
        "deadline_to_return_arm_2",
    ]
    assert raw.values["redcap_event_name"].tolist() == arm_1 + arm_1 + arm_2
    events = {row[2] for row in _rows(LONGITUDINAL / "event.csv")[1:]}  # unique_event_name
    assert set(raw.values["redcap_event_name"]) == events  # all 12 events of event.csv
    assert raw.values["study_id"].tolist() == ["100"] * 6 + ["220"] * 6 + ["304"] * 6
    # line 2 of data.csv: quoted phone kept as text, empty patient_document is ""
    first = raw.values.loc[1]
    assert first["telephone_1"] == "(415) 555-1212"
    assert first["patient_document"] == ""
    assert first["bmi"] == "31.3"
    assert raw.values.at[13, "patient_document"] == "levon_and_barry.jpg"  # line 14
    # checkbox columns gym___0..4 (dictionary line 16: "0, Monday | ... | 4, Friday")
    assert [f"gym___{code}" for code in range(5)] == [c for c in raw.values if c[:5] == "gym__"]
    assert raw.values.loc[1, [f"gym___{c}" for c in range(5)]].tolist() == ["1", "0", "0", "0", "0"]
    assert raw.value_labels["gym___2"] == CHECKBOX_LABELS
    assert raw.question_text["gym___2"] == "Gym (Weight Training) (choice=Wednesday)"
    # meds (dictionary line 21) has codes 1..5, not 0..4
    assert raw.question_text["meds___5"] == (
        "Is patient taking any of the following medications? (check all that apply) (choice=Zoloft)"
    )
    # radio (dictionary line 11), dropdown (line 12), yesno (line 14)
    assert raw.value_labels["ethnicity"] == {
        "0": "Hispanic or Latino",
        "1": "NOT Hispanic or Latino",
        "2": "Unknown / Not Reported",
    }
    assert raw.value_labels["race"]["4"] == "White" and len(raw.value_labels["race"]) == 7
    assert raw.value_labels["sex"] == {"0": "Female", "1": "Male"}
    assert raw.question_text["sex"] == "Gender"
    assert raw.value_labels["given_birth"] == {"1": "Yes", "0": "No"}
    # form status: 9 forms in the dictionary, 9 *_complete columns in data.csv
    complete = [c for c in raw.values if c.endswith("_complete")]
    assert len(complete) == 9
    assert all(raw.value_labels[c] == FORM_STATUS_LABELS for c in complete)
    # slider labels (line 20, "Very sad | Indifferent | Very happy") and calcs are not codes
    assert "specify_mood" not in raw.value_labels and "bmi" not in raw.value_labels
    assert raw.question_text["specify_mood"] == "Specify the patient's mood"
    # Identifier? = y on dictionary lines 5-9
    assert raw.identifiers == {"first_name", "last_name", "telephone_1", "email", "dob"}
    assert "redcap_event_name" not in raw.question_text


def test_survey_sample():
    raw = read_redcap(SURVEY / "data.csv")
    # data.csv: 3 lines = header + 2 records; 33 fields per line
    assert raw.values.shape == (2, 33)
    # dictionary.csv marks email, first_name, last_name, address, telephone_1 (not dob)
    assert raw.identifiers == {
        "redcap_survey_identifier",
        "email",
        "first_name",
        "last_name",
        "address",
        "telephone_1",
    }
    assert raw.values["redcap_survey_identifier"].tolist() == ["", ""]
    # line 2: survey timestamp, "[not completed]" kept as text
    assert raw.values.at[1, "prescreening_survey_timestamp"] == "2018-03-06 15:52:43"
    assert raw.values.at[1, "participant_morale_questionnaire_timestamp"] == "[not completed]"
    assert raw.values.at[2, "participant_morale_questionnaire_timestamp"] == ""
    assert raw.value_labels["has_diabetes"] == {"1": "True", "0": "False"}  # truefalse, line 5
    assert raw.value_labels["pmq3"] == {"1": "Yes", "0": "No"}  # yesno, line 18
    assert raw.value_labels["pmq1"] == {  # dropdown, line 16
        "0": "Less than 5",
        "1": "5-10",
        "2": "6-15",
        "3": "Over 15",
    }
    assert raw.value_labels["consent___1"] == CHECKBOX_LABELS
    assert raw.question_text["consent___1"].endswith(
        "freely to participant in this study. (choice=I consent)"
    )
    # 4 forms -> 4 *_complete columns; timestamps get no labels
    assert sorted(c for c in raw.value_labels if c.endswith("_complete")) == [
        "completion_data_complete",
        "participant_info_survey_complete",
        "participant_morale_questionnaire_complete",
        "prescreening_survey_complete",
    ]
    assert "prescreening_survey_timestamp" not in raw.value_labels


def test_survey_identifier_without_a_dictionary(tmp_path):
    shutil.copy(SURVEY / "data.csv", tmp_path / "export.csv")
    raw = read_redcap(tmp_path / "export.csv")
    assert raw.values.shape == (2, 33)
    assert raw.identifiers == {"redcap_survey_identifier"}
    assert raw.value_labels == {} and raw.question_text == {}


def test_checkboxes_sample():
    raw = read_redcap(CHECKBOXES / "data.csv")
    # data.csv: 5 lines = header + 4 records, 13 fields
    assert raw.values.shape == (4, 13)
    columns = [f"check_one___{c}" for c in "1234"] + [f"check_two___{c}" for c in "abcde"]
    assert all(raw.value_labels[c] == CHECKBOX_LABELS for c in columns)
    # dictionary line 4: "a, A|b, B|c, C|d, D|e, E" (no spaces around |)
    assert raw.question_text["check_two___c"] == "check two (choice=C)"
    assert raw.question_text["check_one___4"] == "check one (choice=four)"
    # line 4 of data.csv: check_one___1..4 all 1
    assert raw.values.loc[3, columns[:4]].tolist() == ["1", "1", "1", "1"]
    assert raw.value_labels["form_1_complete"] == FORM_STATUS_LABELS
    assert raw.value_labels["form_2_complete"] == FORM_STATUS_LABELS
    assert raw.values["form_2_complete"].tolist() == ["2", "0", "2", "0"]
    assert raw.identifiers == set()
    assert raw.values.at[4, "desired_result"] == ""


# --- data dictionary ----------------------------------------------------------------------


def test_dictionary_ui_headers_become_api_names():
    dictionary = read_redcap_dictionary(LONGITUDINAL / "dictionary.csv")
    # dictionary.csv: 96 lines = header + 95 fields, the 18 standard columns
    assert dictionary.shape == (95, 18)
    assert list(dictionary.columns[:6]) == [
        "field_name",
        "form_name",
        "section_header",
        "field_type",
        "field_label",
        "select_choices_or_calculations",
    ]
    assert dictionary.index.name == "row_number"
    assert dictionary.at[10, "field_name"] == "ethnicity"  # file line 11
    assert dictionary.attrs["headers"]["identifier"] == "Identifier?"
    assert dictionary.loc[dictionary["identifier"].eq("y"), "field_name"].tolist() == [
        "first_name",
        "last_name",
        "telephone_1",
        "email",
        "dob",
    ]


def test_dictionary_with_api_headers_gives_the_same_labels(tmp_path):
    rows = _rows(LONGITUDINAL / "dictionary.csv")
    rows[0] = [
        "field_name",
        "form_name",
        "section_header",
        "field_type",
        "field_label",
        "select_choices_or_calculations",
        "field_note",
        "text_validation_type_or_show_slider_number",
        "text_validation_min",
        "text_validation_max",
        "identifier",
        "branching_logic",
        "required_field",
        "custom_alignment",
        "question_number",
        "matrix_group_name",
        "matrix_ranking",
        "field_annotation",
    ]
    _write_rows(tmp_path / "metadata.csv", rows)
    api = read_redcap(LONGITUDINAL / "data.csv", dictionary=tmp_path / "metadata.csv")
    ui = read_redcap(LONGITUDINAL / "data.csv")
    assert api.value_labels == ui.value_labels
    assert api.question_text == ui.question_text
    assert api.identifiers == ui.identifiers


def test_dictionary_given_as_a_frame():
    dictionary = read_redcap_dictionary(CHECKBOXES / "dictionary.csv")
    raw = read_redcap(CHECKBOXES / "data.csv", dictionary=dictionary)
    assert raw.value_labels == read_redcap(CHECKBOXES / "data.csv").value_labels


def test_parse_choices():
    assert parse_choices("1, Yes | 0, No") == {"1": "Yes", "0": "No"}
    # split on the first comma only; labels keep theirs
    assert parse_choices("1, 5-10, or more|2,none ") == {"1": "5-10, or more", "2": "none"}
    assert parse_choices("-99, Refused | 1, White |") == {"-99": "Refused", "1": "White"}
    assert parse_choices("") == {}
    for bad in ("1, Yes | 0 No", "1, Yes | , No", "1, a | 1, b"):
        with pytest.raises(ValueError):
            parse_choices(bad)


def test_html_is_stripped_from_question_text(tmp_path):
    (tmp_path / "data.csv").write_text("record_id,mood,age,like___1\n1,2,15,1\n")
    (tmp_path / "dictionary.csv").write_text(
        _dictionary_csv(
            ("record_id", "f", "text", "Record ID", ""),
            (
                "mood",
                "f",
                "radio",
                '<b>How</b> do you <span style="color:red">feel</span><br>today?',
                "1, <i>Good</i> | 2, Bad",
            ),
            ("age", "f", "text", "Age &lt; 18 or age < 65 &amp; over", ""),
            ("like", "f", "checkbox", "<p>Things you like</p>", "1, <b>Music</b>"),
        )
    )
    raw = read_redcap(tmp_path / "data.csv")
    assert raw.question_text["mood"] == "How do you feel today?"
    assert raw.question_text["age"] == "Age < 18 or age < 65 & over"
    assert raw.question_text["like___1"] == "Things you like (choice=Music)"
    assert raw.value_labels["mood"] == {"1": "<i>Good</i>", "2": "Bad"}  # dictionary text as is
    assert strip_html("a<br/>b &nbsp; c") == "a b c"


def test_checkbox_codes_with_minus_and_capitals(tmp_path):
    # REDCap names option columns <field>___<code>, code lower-cased and "-" -> "_"
    (tmp_path / "data.csv").write_text(
        "record_id,race___1,race____99,pick___a,pick___b\n1,0,1,1,0\n"
    )
    (tmp_path / "dictionary.csv").write_text(
        _dictionary_csv(
            ("record_id", "f", "text", "Record ID", ""),
            ("race", "f", "checkbox", "Race", "1, White | -99, Refused", "y"),
            ("pick", "f", "checkbox", "Pick", "A, Apple | B, Banana"),
        )
    )
    raw = read_redcap(tmp_path / "data.csv")
    assert raw.question_text["race____99"] == "Race (choice=Refused)"
    assert raw.question_text["pick___b"] == "Pick (choice=Banana)"
    assert raw.value_labels["race____99"] == CHECKBOX_LABELS
    assert raw.identifiers == {"race___1", "race____99"}


def test_a_column_missing_from_the_dictionary_is_not_an_error(tmp_path):
    rows = _rows(CHECKBOXES / "data.csv")
    rows = [[*row, value] for row, value in zip(rows, ["extra_col", *"abcd"], strict=True)]
    _write_rows(tmp_path / "data.csv", rows)
    shutil.copy(CHECKBOXES / "dictionary.csv", tmp_path / "dictionary.csv")
    raw = read_redcap(tmp_path / "data.csv")
    assert raw.values.shape == (4, 14)
    assert "extra_col" not in raw.value_labels and "extra_col" not in raw.question_text


def test_label_export_reads_with_cells_as_written(tmp_path):
    # label export: codes replaced by labels (dictionary lines 11, 13, 14, 16; form status)
    rows = _rows(LONGITUDINAL / "data.csv")[:4]
    header = rows[0]
    labels = {
        "ethnicity": {"0": "Hispanic or Latino", "2": "Unknown / Not Reported"},
        "sex": {"0": "Female", "1": "Male"},
        "given_birth": {"0": "No", "1": "Yes"},
        "demographics_complete": {"0": "Incomplete", "2": "Complete"},
        "redcap_event_name": {"enrollment_arm_1": "Enrollment (Arm 1: Drug A)"},
        **{f"gym___{c}": {"0": "Unchecked", "1": "Checked"} for c in range(5)},
    }
    for row in rows[1:]:
        for column, mapping in labels.items():
            i = header.index(column)
            row[i] = mapping.get(row[i], row[i])
    _write_rows(tmp_path / "data.csv", rows)
    shutil.copy(LONGITUDINAL / "dictionary.csv", tmp_path / "dictionary.csv")
    raw = read_redcap(tmp_path / "data.csv")
    assert raw.values.shape == (3, 125)
    first = raw.values.loc[1]
    assert first["ethnicity"] == "Hispanic or Latino"  # code 0 in the raw sample
    assert first["sex"] == "Male"
    assert first["gym___0"] == "Checked" and first["gym___1"] == "Unchecked"
    assert first["demographics_complete"] == "Complete"
    assert first["redcap_event_name"] == "Enrollment (Arm 1: Drug A)"
    # the labels are the same as for the raw export; no reverse map is added
    assert raw.value_labels == read_redcap(LONGITUDINAL / "data.csv").value_labels


def test_cells_are_text_exactly_as_written(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text(
        'record_id,notes,score\n1,"line one\nline two",NA\n2,"a, ""b""",\n3,5\'11",07\n'
    )
    raw = read_redcap(path)
    assert raw.values.to_dict("index") == {
        1: {"record_id": "1", "notes": "line one\nline two", "score": "NA"},
        2: {"record_id": "2", "notes": 'a, "b"', "score": ""},
        3: {"record_id": "3", "notes": "5'11\"", "score": "07"},
    }


def test_semicolon_delimited_export(tmp_path):
    _write_rows(tmp_path / "data.csv", [["record_id", "q"], ["1", "a, b"]], delimiter=";")
    raw = read_redcap(tmp_path / "data.csv")
    assert raw.values.to_dict("list") == {"record_id": ["1"], "q": ["a, b"]}


# --- finding the dictionary ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("export", "dictionary"),
    [
        ("wave1.csv", "wave1_dictionary.csv"),
        ("wave1.csv", "wave1_DataDictionary_2024-05-01.csv"),
        ("MyStudy_DATA_2024-05-01_1230.csv", "MyStudy_DataDictionary_2024-05-01.csv"),
        ("wave1.csv", "dictionary.csv"),
    ],
)
def test_dictionary_beside_the_export_is_found(tmp_path, export, dictionary):
    shutil.copy(CHECKBOXES / "data.csv", tmp_path / export)
    shutil.copy(CHECKBOXES / "dictionary.csv", tmp_path / dictionary)
    assert find_dictionary(tmp_path / export) == tmp_path / dictionary
    assert read_redcap(tmp_path / export).value_labels["check_two___e"] == CHECKBOX_LABELS


def test_several_dictionaries_are_refused(tmp_path):
    shutil.copy(CHECKBOXES / "data.csv", tmp_path / "w.csv")
    for name in ("w_DataDictionary_2024-01-01.csv", "w_DataDictionary_2024-02-01.csv"):
        shutil.copy(CHECKBOXES / "dictionary.csv", tmp_path / name)
    with pytest.raises(ExportError, match="several data dictionaries"):
        read_redcap(tmp_path / "w.csv")
    raw = read_redcap(tmp_path / "w.csv", dictionary=tmp_path / "w_DataDictionary_2024-02-01.csv")
    assert len(raw.value_labels) == 11  # 9 checkbox options + 2 form status columns


# --- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf"])
def test_empty_export(tmp_path, content):
    (tmp_path / "data.csv").write_bytes(content)
    with pytest.raises(ExportError, match="empty") as info:
        read_redcap(tmp_path / "data.csv")
    assert info.value.file == tmp_path / "data.csv"


def test_truncated_export_names_row_and_column(tmp_path):
    text = (CHECKBOXES / "data.csv").read_text()
    cut = text[: text.rindex("\n4,0,0,0") + len("\n4,0,0,0")]  # line 5 ends after 4 fields
    (tmp_path / "data.csv").write_text(cut)
    with pytest.raises(ExportError, match="wrong number of fields") as info:
        read_redcap(tmp_path / "data.csv")
    # 4 of 13 fields: record_id, form_1_complete, check_one___1, check_one___2
    assert (info.value.row, info.value.column) == (5, "check_one___3")
    assert info.value.found == "4 fields"


def test_export_cut_inside_a_quoted_cell(tmp_path):
    text = (CHECKBOXES / "data.csv").read_text()
    (tmp_path / "data.csv").write_text(text[: text.index("check_one___1 should be 1")])
    with pytest.raises(ExportError, match="inside a quoted cell") as info:
        read_redcap(tmp_path / "data.csv")
    assert info.value.row == 2  # the quote opens in desired_result on line 2


def test_row_with_too_many_fields(tmp_path):
    rows = _rows(CHECKBOXES / "data.csv")
    rows[3].append("extra")  # line 4
    _write_rows(tmp_path / "data.csv", rows)
    with pytest.raises(ExportError, match="wrong number of fields") as info:
        read_redcap(tmp_path / "data.csv")
    assert (info.value.row, info.value.found) == (4, "14 fields")


def test_short_row_after_a_multiline_cell(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text('record_id,notes,score\n1,"two\nlines",3\n2,x,4\n3,y\n')
    with pytest.raises(ExportError) as info:
        read_redcap(path)
    assert (info.value.row, info.value.column) == (4, "score")  # rows count CSV records


def test_blank_line_inside_the_export(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("record_id,score\n1,3\n\n2,4\n\n")  # trailing blank line is fine
    with pytest.raises(ExportError) as info:
        read_redcap(path)
    assert (info.value.row, info.value.found) == (3, "a blank line")


def test_duplicate_column_names(tmp_path):
    (tmp_path / "data.csv").write_text("record_id,score,age,score\n1,2,3,4\n")
    with pytest.raises(ExportError, match="duplicate column") as info:
        read_redcap(tmp_path / "data.csv")
    assert (info.value.row, info.value.column) == (1, "score")
    assert info.value.found == "'score' in columns 2 and 4"


def test_label_headers_are_explained(tmp_path):
    (tmp_path / "data.csv").write_text("Record ID,Confirmed?,Confirmed?\n1,Yes,No\n")
    with pytest.raises(ExportError, match="variable names as headers") as info:
        read_redcap(tmp_path / "data.csv")
    assert (info.value.row, info.value.column) == (1, "Confirmed?")


def test_dictionary_without_a_field_name_column(tmp_path):
    shutil.copy(CHECKBOXES / "data.csv", tmp_path / "data.csv")
    rows = _rows(CHECKBOXES / "dictionary.csv")
    rows[0][0] = "Variable"
    _write_rows(tmp_path / "dictionary.csv", rows)
    with pytest.raises(ExportError, match="no field-name column") as info:
        read_redcap(tmp_path / "data.csv")
    assert (info.value.file, info.value.row, info.value.column) == (
        tmp_path / "dictionary.csv",
        1,
        "field_name",
    )


def test_unparseable_choices_name_dictionary_line_and_column(tmp_path):
    shutil.copy(LONGITUDINAL / "data.csv", tmp_path / "data.csv")
    text = (LONGITUDINAL / "dictionary.csv").read_text()
    assert '"0, Female | 1, Male"' in text  # line 13, the radio field sex
    (tmp_path / "dictionary.csv").write_text(
        text.replace('"0, Female | 1, Male"', '"0, Female | 1 Male"')
    )
    with pytest.raises(ExportError, match="choices that cannot be parsed") as info:
        read_redcap(tmp_path / "data.csv")
    error = info.value
    assert (error.file, error.row, error.column) == (
        tmp_path / "dictionary.csv",
        13,
        CHOICES_HEADER,
    )
    assert "'1 Male'" in error.found and "'sex'" in error.found


def test_dictionary_errors(tmp_path):
    path = tmp_path / "dictionary.csv"
    path.write_text("")
    with pytest.raises(ExportError, match="empty"):
        read_redcap_dictionary(path)
    path.write_text(_dictionary_csv(("a", "f", "text", "A", ""), ("a", "f", "text", "A2", "")))
    with pytest.raises(ExportError, match="appears twice") as info:
        read_redcap_dictionary(path)
    assert (info.value.row, info.value.column) == (3, "Variable / Field Name")


@pytest.mark.parametrize(("encoding", "given"), [("cp1252", None), ("latin-1", "latin-1")])
def test_encodings(tmp_path, encoding, given):
    (tmp_path / "data.csv").write_bytes("record_id,name\n1,José\n".encode(encoding))
    raw = read_redcap(tmp_path / "data.csv", encoding=given)
    assert raw.values.at[1, "name"] == "José"
