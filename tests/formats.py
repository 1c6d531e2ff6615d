"""Writers of one simulated baseline export in every format the ingest reads (test support).

Each ``write_<format>(frame, folder)`` writes ``frame`` -- a Qualtrics-style baseline export from
:func:`outcomes.simulate.simulate_cohort` (a DataFrame of strings in file column order, with
``attrs["question_text"]`` and ``attrs["import_ids"]``) -- as that tool would export it, and
returns the *source* entry of a cohort config (``path``, ``format`` and whatever ``rename``,
``value_labels``, ``dictionary`` or ``encoding`` it needs) such that the demo cohort config, with
this single source, maps it onto the demo's canonical names (``ExternalReference``,
``mentoring``, ``school``, ``gender``, ``grade_level``, ``Q1_1`` ... ``Q5_3``, ``gpa``).

The layouts follow the domain reference, Part 1 (``/work/shared/reference/domain.md``):
Qualtrics 1.1.1-1.1.6, SurveyMonkey 1.2, REDCap 1.3, SPSS 1.4. Item answers are always the same
choice labels (or codes that the file's own labels, or the source's ``value_labels``, turn into
those labels), so every format must ingest to the same responses.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyreadstat

from outcomes.instruments import get_instrument
from outcomes.simulate import DEMO_SCALES, qualtrics_csv_text, simulate_cohort

#: The cohort of the roundtrip: 80 students, seed 31, without the mess (no previews, no
#: unfinished or duplicate responses), so that every row of every format is analysed.
N_STUDENTS = 80
SEED = 31

#: Cells blanked in the simulated frame (row position, column): a skipped item, a skipped GPA,
#: a skipped categorical covariate and a skipped numeric covariate, so that every format must
#: also carry "no answer" through (empty cell, SPSS system-missing, Excel empty cell, null).
BLANKS = [(2, "Q3_4"), (5, "gpa"), (9, "gender"), (13, "grade_level"), (21, "Q5_2")]

#: Metadata columns of the current Qualtrics exporter (domain reference 1.1.2), as the
#: simulated frame holds them.
QUALTRICS_METADATA = [
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)",
    "Finished", "RecordedDate", "ResponseId", "RecipientLastName", "RecipientFirstName",
    "RecipientEmail", "ExternalReference", "LocationLatitude", "LocationLongitude",
    "DistributionChannel", "UserLanguage",
]  # fmt: skip
#: The free-text question of the demo survey (column Q6, ImportId QID6_TEXT).
COMMENTS = "Q6"

#: Qualtrics "numeric values" recodes (domain reference 1.1.4: whatever the survey author set,
#: typically 1..k in creation order, with gaps where a choice was deleted). Position i is the
#: recode of the i-th response of the instrument's key (in the key's printed order).
RECODES = {
    "pss10": [1, 2, 3, 4, 5],
    "rses": [1, 2, 3, 4],
    "phq9": [1, 2, 3, 5],  # a deleted choice left a gap at 4
    "gad7": [1, 2, 4, 5],  # a gap at 3
    "ucla3": [1, 2, 4],  # scored 1..3: a gap, else the codes would equal the scores
}
#: REDCap field name prefix of each instrument's items (``phq_1`` ...); their choice codes are
#: 0-based in the key's order ("0, Not at all | 1, Several days | ..."), unlike the Qualtrics
#: recodes.
REDCAP_FIELD_PREFIX = {
    "pss10": "pss",
    "rses": "rses",
    "phq9": "phq",
    "gad7": "gad",
    "ucla3": "ucla",
}
#: Codes of the categorical fields in the REDCap and SPSS files.
SCHOOL_CODES = {
    "Northside High": 1, "Riverside High": 2, "Lakeview Academy": 3, "Hillcrest High": 4,
    "Eastgate High": 5, "Westfield High": 6,
}  # fmt: skip
GENDER_CODES = {"Female": 1, "Male": 2, "Non-binary": 3}
MENTORING_CODES = {"Yes": 1, "No": 0}
#: Qualtrics Status codes and labels (domain reference 1.1.3) and Finished (1.1.4).
STATUS_CODES = {
    "IP Address": 0, "Survey Preview": 1, "Survey Test": 2, "Imported": 4, "Spam": 8,
    "Survey Preview Spam": 9, "Imported Spam": 12, "Offline": 16, "Offline Survey Preview": 17,
}  # fmt: skip
FINISHED_CODES = {"True": 1, "False": 0}


def cohort_frame() -> pd.DataFrame:
    """The baseline export of the roundtrip cohort, with the :data:`BLANKS` left unanswered."""
    frame = simulate_cohort(N_STUDENTS, seed=SEED, mess=False).exports["baseline"]
    attrs = dict(frame.attrs)
    frame = frame.copy()
    for row, column in BLANKS:
        frame.loc[row, column] = ""
    frame.attrs.update(attrs)
    return frame


def scale_items() -> list[tuple[str, str, int]]:
    """(column, instrument id, item id) of every item of the demo survey, in file order."""
    return [
        (f"{tag}_{item}", instrument_id, item)
        for instrument_id, tag in DEMO_SCALES.values()
        for item in get_instrument(instrument_id).items
    ]


def response_labels(instrument_id: str) -> list[str]:
    """The instrument's response labels in the printed order of its key."""
    return list(get_instrument(instrument_id).responses)


def _csv_text(
    rows: list[list[str]], delimiter: str = ",", trailing: bool = False, newline: str = "\r\n"
) -> str:
    """Rows as delimited text (csv quoting, CRLF lines unless told), optionally with a trailing
    delimiter on every line."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    for row in rows:
        writer.writerow([*row, ""] if trailing else row)
    return buffer.getvalue()


def _entry(path: Path, fmt: str, **settings) -> dict:
    return {"path": str(path), "format": fmt, **settings}


# --- Qualtrics ----------------------------------------------------------------------------


def _qualtrics_header(frame: pd.DataFrame) -> list[list[str]]:
    ids = [json.dumps({"ImportId": i}, separators=(",", ":")) for i in frame.attrs["import_ids"]]
    return [list(frame.columns), list(frame.attrs["question_text"]), ids]


def write_qualtrics_csv(frame: pd.DataFrame, folder: Path) -> dict:
    """(1) The reference: current layout (3 header rows), choice text, UTF-8, CRLF -- written
    by the simulator's own writer, :func:`outcomes.simulate.qualtrics_csv_text`."""
    path = Path(folder) / "baseline.csv"
    path.write_bytes(qualtrics_csv_text(frame).encode("utf-8"))
    return _entry(path, "qualtrics")


def write_qualtrics_tsv_utf16(frame: pd.DataFrame, folder: Path) -> dict:
    """(2) Current layout as TSV in UTF-16 with a BOM (domain reference 1.1.6)."""
    path = Path(folder) / "baseline.tsv"
    rows = _qualtrics_header(frame) + frame.to_numpy().tolist()
    path.write_bytes(_csv_text(rows, delimiter="\t").encode("utf-16"))  # "utf-16" writes a BOM
    return _entry(path, "qualtrics")


#: The legacy exporter's V1..V10 (domain reference 1.1.1): row-2 label and the current column
#: of the simulated frame it is filled from (None: a column the current exporter has not).
LEGACY_V = [
    ("ResponseID", "ResponseId"),
    ("ResponseSet", None),
    ("Name", None),
    ("ExternalDataReference", "ExternalReference"),
    ("EmailAddress", "RecipientEmail"),
    ("IPAddress", "IPAddress"),
    ("Status", "Status"),
    ("StartDate", "StartDate"),
    ("EndDate", "EndDate"),
    ("Finished", "Finished"),
]


def write_qualtrics_legacy(frame: pd.DataFrame, folder: Path) -> dict:
    """(3) Legacy layout: row 1 ``V1``..``V10`` then the question tags, row 2 the labels, data
    from row 3; then LocationLatitude, LocationLongitude, LocationAccuracy; UTF-8 BOM and a
    trailing comma on every line (domain reference 1.1.1, as ``sample_legacy.csv``). Status and
    Finished are codes, as in that sample; there is no Progress or Duration column."""
    path = Path(folder) / "baseline_legacy.csv"
    texts = dict(zip(frame.columns, frame.attrs["question_text"], strict=True))
    questions = [c for c in frame.columns if c not in QUALTRICS_METADATA]
    n = len(frame)
    columns: list[tuple[str, str, list[str]]] = []
    for number, (label, current) in enumerate(LEGACY_V, start=1):
        if current == "Status":
            cells = [str(STATUS_CODES[v]) for v in frame["Status"]]
        elif current == "Finished":
            cells = [str(FINISHED_CODES[v]) for v in frame["Finished"]]
        elif label == "ResponseSet":
            cells = ["Default Response Set"] * n
        elif label == "Name":
            cells = [
                f"{last}, {first}"
                for last, first in zip(
                    frame["RecipientLastName"], frame["RecipientFirstName"], strict=True
                )
            ]
        else:
            cells = frame[current].tolist()
        columns.append((f"V{number}", label, cells))
    columns += [(c, texts[c], frame[c].tolist()) for c in questions]
    for name in ("LocationLatitude", "LocationLongitude"):
        columns.append((name, name, frame[name].tolist()))
    columns.append(("LocationAccuracy", "LocationAccuracy", ["-1"] * n))
    rows = [[c[0] for c in columns], [c[1] for c in columns]]
    rows += [list(r) for r in zip(*(c[2] for c in columns), strict=True)]
    path.write_bytes(b"\xef\xbb\xbf" + _csv_text(rows, trailing=True).encode("utf-8"))
    return _entry(path, "qualtrics")


def numeric_value_labels() -> dict[str, dict[str, str]]:
    """The ``value_labels`` of the numeric export: recode -> choice label, per item glob."""
    return {
        f"{tag}_*": {
            str(code): label for code, label in zip(RECODES[i], response_labels(i), strict=True)
        }
        for i, tag in DEMO_SCALES.values()
    }


def write_qualtrics_numeric(frame: pd.DataFrame, folder: Path) -> dict:
    """(4) Current layout, "use numeric values" (domain reference 1.1.4): items are the
    survey's recodes (:data:`RECODES`, not starting at 0, with gaps), Status a code and Finished
    ``1``/``0``; embedded data stay text. The recodes' labels go in ``value_labels``."""
    path = Path(folder) / "baseline_numeric.csv"
    numeric = frame.copy()
    for column, instrument_id, _item in scale_items():
        recode = dict(zip(response_labels(instrument_id), RECODES[instrument_id], strict=True))
        numeric[column] = [str(recode[v]) if v else "" for v in numeric[column]]
    numeric["Status"] = [str(STATUS_CODES[v]) for v in numeric["Status"]]
    numeric["Finished"] = [str(FINISHED_CODES[v]) for v in numeric["Finished"]]
    rows = _qualtrics_header(frame) + numeric.to_numpy().tolist()
    path.write_bytes(_csv_text(rows).encode("utf-8"))
    return _entry(path, "qualtrics", value_labels=numeric_value_labels())


# --- SurveyMonkey -------------------------------------------------------------------------

#: The embedded fields asked as single questions in the SurveyMonkey survey (row-1 text).
SURVEYMONKEY_QUESTIONS = {
    "school": "Which school do you attend?",
    "gender": "What is your gender?",
    "grade_level": "What grade are you in?",
    "mentoring": "Are you taking part in the peer-mentoring program?",
    "gpa": "Grade point average (school records)",
}
SURVEYMONKEY_COMMENTS = "Is there anything else you would like to tell us?"  # Q6


def _surveymonkey_date(stamp: str) -> str:
    return dt.datetime.fromisoformat(stamp).strftime("%m/%d/%Y %I:%M:%S %p")


def write_surveymonkey(frame: pd.DataFrame, folder: Path) -> dict:
    """(5) SurveyMonkey "All individual responses" CSV (domain reference 1.2): the 9 metadata
    columns (Custom Data 1 holds the student id), each instrument a matrix question (stem in
    row 1 over its first column only, statements in row 2), the embedded fields as single
    questions (sub-label ``Response``) and the comment box (``Open-Ended Response``)."""
    path = Path(folder) / "baseline_surveymonkey.csv"
    n = len(frame)
    columns: list[tuple[str, str, list[str]]] = [
        ("Respondent ID", "", [str(114_020_000_000 + 137 * i) for i in range(n)]),
        ("Collector ID", "", ["431876209"] * n),
        ("Start Date", "", [_surveymonkey_date(v) for v in frame["StartDate"]]),
        ("End Date", "", [_surveymonkey_date(v) for v in frame["EndDate"]]),
        ("IP Address", "", frame["IPAddress"].tolist()),
        ("Email Address", "", frame["RecipientEmail"].tolist()),
        ("First Name", "", frame["RecipientFirstName"].tolist()),
        ("Last Name", "", frame["RecipientLastName"].tolist()),
        ("Custom Data 1", "", frame["ExternalReference"].tolist()),
    ]
    rename = {"Custom Data 1": "ExternalReference"}
    for instrument_id, tag in DEMO_SCALES.values():
        instrument = get_instrument(instrument_id)
        for position, item in enumerate(instrument.items):
            topic = instrument.item_topics[item]
            stem = instrument.stem if position == 0 else ""  # over the first column only
            columns.append((stem, topic, frame[f"{tag}_{item}"].tolist()))
            rename[f"{instrument.stem} | {topic}"] = f"{tag}_{item}"
    columns.append((SURVEYMONKEY_COMMENTS, "Open-Ended Response", frame[COMMENTS].tolist()))
    for name, question in SURVEYMONKEY_QUESTIONS.items():
        columns.append((question, "Response", frame[name].tolist()))
        rename[question] = name
    rows = [[c[0] for c in columns], [c[1] for c in columns]]
    rows += [list(r) for r in zip(*(c[2] for c in columns), strict=True)]
    path.write_bytes(_csv_text(rows).encode("utf-8"))
    return _entry(path, "surveymonkey", rename=rename)


# --- REDCap -------------------------------------------------------------------------------

#: Data dictionary headers of the UI download (domain reference 1.3.3), in order.
DICTIONARY_UI = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
]  # fmt: skip
#: The same columns as the API names them (domain reference 1.3.3).
DICTIONARY_API = [
    "field_name", "form_name", "section_header", "field_type", "field_label",
    "select_choices_or_calculations", "field_note", "text_validation_type_or_show_slider_number",
    "text_validation_min", "text_validation_max", "identifier", "branching_logic",
    "required_field", "custom_alignment", "question_number", "matrix_group_name",
    "matrix_ranking", "field_annotation",
]  # fmt: skip


def _choices(codes: dict[str, int]) -> str:
    return " | ".join(f"{code}, {label}" for label, code in codes.items())


def redcap_fields(frame: pd.DataFrame) -> list[dict]:
    """The REDCap project's fields, in dictionary order, each with its export cells (raw codes
    under ``raw``, labels under ``label``) and the canonical column it is renamed to."""
    n = len(frame)
    empty = {"choices": "", "validation": "", "identifier": "", "min": "", "max": ""}

    def coded(column, codes):
        raw = [str(codes[v]) if v else "" for v in frame[column]]
        return {"raw": raw, "label": frame[column].tolist()}

    def text(column):
        return {"raw": frame[column].tolist(), "label": frame[column].tolist()}

    fields = [
        {**empty, "name": "record_id", "form": "enrollment", "type": "text",
         "label_text": "Student ID", **text("ExternalReference"), "rename": "ExternalReference"},
        {**empty, "name": "first_name", "form": "enrollment", "type": "text",
         "label_text": "First name", **text("RecipientFirstName"), "identifier": "y"},
        {**empty, "name": "last_name", "form": "enrollment", "type": "text",
         "label_text": "Last name", **text("RecipientLastName"), "identifier": "y"},
        {**empty, "name": "email", "form": "enrollment", "type": "text",
         "label_text": "<b>Email</b> address", "validation": "email",
         **text("RecipientEmail"), "identifier": "y"},
        {**empty, "name": "school", "form": "enrollment", "type": "dropdown",
         "label_text": "School", "choices": _choices(SCHOOL_CODES),
         **coded("school", SCHOOL_CODES)},
        {**empty, "name": "gender", "form": "enrollment", "type": "radio",
         "label_text": "Gender", "choices": _choices(GENDER_CODES),
         **coded("gender", GENDER_CODES)},
        {**empty, "name": "grade_level", "form": "enrollment", "type": "text",
         "label_text": "Grade level", "validation": "integer", "min": "9", "max": "12",
         **text("grade_level")},
        {**empty, "name": "mentoring", "form": "enrollment", "type": "yesno",
         "label_text": "Joined peer mentoring this term", **coded("mentoring", MENTORING_CODES)},
        {**empty, "name": "gpa", "form": "enrollment", "type": "text",
         "label_text": "GPA (school records)", "validation": "number", "min": "0", "max": "4",
         **text("gpa")},
    ]  # fmt: skip
    for column, instrument_id, item in scale_items():
        instrument = get_instrument(instrument_id)
        codes = {label: k for k, label in enumerate(instrument.responses)}
        fields.append(
            {
                **empty,
                "name": f"{REDCAP_FIELD_PREFIX[instrument_id]}_{item}",
                "form": "student_survey",
                "type": "radio",
                "label_text": f"{instrument.stem} - {instrument.item_topics[item]}",
                "choices": _choices(codes),
                **coded(column, codes),
                "rename": column,
            }
        )
    fields.append(
        {**empty, "name": "comments", "form": "student_survey", "type": "notes",
         "label_text": "Is there anything else you would like to tell us?", **text(COMMENTS)}
    )  # fmt: skip
    assert all(len(f["raw"]) == n for f in fields)
    return fields


def _redcap_export(frame: pd.DataFrame, kind: str) -> tuple[list[list[str]], dict[str, str]]:
    """Rows of a flat records export (raw codes or labels) and the rename to canonical names.

    Columns, as REDCap orders them with ``exportSurveyFields=true`` (domain reference 1.3.2):
    record_id, redcap_survey_identifier, the enrollment fields, enrollment_complete,
    student_survey_timestamp, the survey fields, student_survey_complete."""
    n = len(frame)
    fields = redcap_fields(frame)
    complete = ["2"] * n if kind == "raw" else ["Complete"] * n
    columns: list[tuple[str, list[str]]] = [(fields[0]["name"], fields[0][kind])]
    columns.append(("redcap_survey_identifier", [""] * n))
    columns += [(f["name"], f[kind]) for f in fields[1:] if f["form"] == "enrollment"]
    columns.append(("enrollment_complete", complete))
    columns.append(("student_survey_timestamp", [v[:16] for v in frame["EndDate"]]))
    columns += [(f["name"], f[kind]) for f in fields if f["form"] == "student_survey"]
    columns.append(("student_survey_complete", complete))
    rows = [[c[0] for c in columns]] + [list(r) for r in zip(*(c[1] for c in columns), strict=True)]
    rename = {f["name"]: f["rename"] for f in fields if "rename" in f}
    return rows, rename


def _redcap_dictionary(frame: pd.DataFrame, headers: list[str]) -> str:
    rows = [headers]
    for f in redcap_fields(frame):
        rows.append(
            [
                f["name"], f["form"], "", f["type"], f["label_text"], f["choices"], "",
                f["validation"], f["min"], f["max"], f["identifier"], "", "", "", "", "", "", "",
            ]
        )  # fmt: skip
    return _csv_text(rows, newline="\n")


def write_redcap_raw(frame: pd.DataFrame, folder: Path) -> dict:
    """(6) REDCap raw records export (codes) and its data dictionary (UI headers), given in the
    source's ``dictionary``; the record id and the item fields are renamed."""
    folder = Path(folder)
    path = folder / "baseline_redcap.csv"
    dictionary = folder / "baseline_redcap_metadata.csv"
    rows, rename = _redcap_export(frame, "raw")
    path.write_bytes(_csv_text(rows, newline="\n").encode("utf-8"))
    dictionary.write_bytes(_redcap_dictionary(frame, DICTIONARY_UI).encode("utf-8"))
    return _entry(path, "redcap", dictionary=str(dictionary), rename=rename)


def write_redcap_labels(frame: pd.DataFrame, folder: Path) -> dict:
    """(7) REDCap label export (choice labels in the cells) and its data dictionary (API
    headers), stored beside it as ``<stem>_dictionary.csv`` so that the reader finds it."""
    folder = Path(folder)
    path = folder / "baseline_redcap_labels.csv"
    rows, rename = _redcap_export(frame, "label")
    path.write_bytes(_csv_text(rows, newline="\n").encode("utf-8"))
    beside = folder / "baseline_redcap_labels_dictionary.csv"
    beside.write_bytes(_redcap_dictionary(frame, DICTIONARY_API).encode("utf-8"))
    return _entry(path, "redcap", rename=rename)


# --- SPSS ---------------------------------------------------------------------------------


def spss_codes() -> dict[str, dict[str, int]]:
    """Label -> code of every labelled variable of the .sav file (Qualtrics writes its recode
    values, :data:`RECODES`, with the choice text as value labels; domain reference 1.4)."""
    codes = {
        "Status": STATUS_CODES,
        "Finished": FINISHED_CODES,
        "school": SCHOOL_CODES,
        "gender": GENDER_CODES,
        "mentoring": MENTORING_CODES,
    }
    for column, instrument_id, _item in scale_items():
        codes[column] = dict(
            zip(response_labels(instrument_id), RECODES[instrument_id], strict=True)
        )
    return codes


#: SPSS name of a Qualtrics column whose name is not a valid SPSS name (domain reference 1.4).
SPSS_NAMES = {"Duration (in seconds)": "Duration__in_seconds_"}
#: Numeric (unlabelled) variables of the .sav file.
SPSS_NUMERIC = ["Progress", "Duration (in seconds)", "grade_level", "gpa"]
#: Date-time columns of the Qualtrics export, typed as date-times in the .sav and .xlsx files.
DATETIME_COLUMNS = ["StartDate", "EndDate", "RecordedDate"]


def write_spss(frame: pd.DataFrame, folder: Path) -> dict:
    """(8) SPSS ``.sav`` as Qualtrics writes it: labelled variables as numeric codes with value
    labels (items, Status, Finished, school, gender, mentoring), numbers as numbers, dates as
    SPSS date-times, text as strings, question text as variable labels."""
    path = Path(folder) / "baseline.sav"
    codes = spss_codes()
    data = {}
    for column in frame.columns:
        cells = frame[column]
        if column in codes:
            data[column] = [float(codes[column][v]) if v else np.nan for v in cells]
        elif column in SPSS_NUMERIC:
            data[column] = [float(v) if v else np.nan for v in cells]
        elif column in DATETIME_COLUMNS:
            data[column] = pd.to_datetime(cells.to_numpy(dtype=str))
        else:
            data[column] = cells.to_numpy(dtype=object)
    out = pd.DataFrame(data).rename(columns=SPSS_NAMES)
    labels = list(frame.attrs["question_text"])  # row 2 of the CSV export
    value_labels = {
        SPSS_NAMES.get(column, column): {float(code): label for label, code in mapping.items()}
        for column, mapping in codes.items()
    }
    pyreadstat.write_sav(out, str(path), column_labels=labels, variable_value_labels=value_labels)
    return _entry(path, "spss")


# --- plain tables -------------------------------------------------------------------------


def write_xlsx(frame: pd.DataFrame, folder: Path) -> dict:
    """(9) The choice-text export as an Excel workbook, one header row; numbers and dates
    typed as Excel stores them (as after opening the CSV in Excel and saving it)."""
    path = Path(folder) / "baseline.xlsx"
    typed = frame.copy().astype(object)
    for column in ("Progress", "Duration (in seconds)", "grade_level"):
        typed[column] = [int(v) if v else None for v in frame[column]]
    typed["gpa"] = [float(v) if v else None for v in frame["gpa"]]
    for column in DATETIME_COLUMNS:
        typed[column] = [dt.datetime.fromisoformat(v) for v in frame[column]]
    typed = typed.replace({"": None})
    typed.to_excel(path, index=False, engine="openpyxl")
    return _entry(path, "xlsx")


def write_csv(frame: pd.DataFrame, folder: Path) -> dict:
    """(10) The choice-text export as a plain CSV: one header row of column names."""
    path = Path(folder) / "baseline_plain.csv"
    rows = [list(frame.columns), *frame.to_numpy().tolist()]
    path.write_bytes(_csv_text(rows).encode("utf-8"))
    return _entry(path, "csv")


def write_parquet(frame: pd.DataFrame, folder: Path) -> dict:
    """(11) The choice-text export as Parquet, every column a string column; a blank answer
    is a null, as a data frame's missing value is when it is saved as Parquet."""
    path = Path(folder) / "baseline.parquet"
    columns = {c: pa.array([v or None for v in frame[c]], type=pa.string()) for c in frame}
    pq.write_table(pa.table(columns), path)
    return _entry(path, "parquet")


#: Every writer, the reference first.
WRITERS = [
    write_qualtrics_csv,
    write_qualtrics_tsv_utf16,
    write_qualtrics_legacy,
    write_qualtrics_numeric,
    write_surveymonkey,
    write_redcap_raw,
    write_redcap_labels,
    write_spss,
    write_xlsx,
    write_csv,
    write_parquet,
]
