"""REDCap CSV exports ("flat" records export) and their data dictionary.

A records export has one header row of variable names, then one row per record (per record and
event in longitudinal projects, per instance of a repeating instrument or event). Columns follow
REDCap's conventions (domain reference 1.3.2): ``redcap_event_name``,
``redcap_repeat_instrument``, ``redcap_repeat_instance``, ``redcap_survey_identifier``,
``<instrument>_timestamp``, one ``<field>___<code>`` column per checkbox option and one
``<instrument>_complete`` form-status column per instrument. They are all kept as they are.

Every cell is read as text exactly as written: "" stays "", and the literal text "NA" is not a
missing value. Raw exports hold codes (``1``, ``0``), label exports hold the choice labels; both
are read the same way and the labels are mapped later (by the codebook).

The data dictionary (domain reference 1.3.3), downloaded from the UI (headers such as
"Variable / Field Name") or from the API (headers such as ``field_name``), gives the question
text, the value labels and the fields marked ``Identifier? = y``.
"""

from __future__ import annotations

import csv
import glob
import html
import io
import logging
import re
from pathlib import Path

import pandas as pd

from outcomes.errors import ExportError
from outcomes.ingest.detect import decode_text
from outcomes.ingest.rawtable import RawTable
from outcomes.redact import redact_message
from outcomes.tables import file_sha256

log = logging.getLogger(__name__)

__all__ = [
    "CHECKBOX_LABELS",
    "DICTIONARY_COLUMNS",
    "FORM_STATUS_LABELS",
    "TRUEFALSE_LABELS",
    "YESNO_LABELS",
    "find_dictionary",
    "parse_choices",
    "read_redcap",
    "read_redcap_dictionary",
    "strip_html",
]

#: Value labels of a checkbox option column (``<field>___<code>``) in a raw export.
CHECKBOX_LABELS = {"1": "Checked", "0": "Unchecked"}
#: Value labels of a form-status column (``<instrument>_complete``).
FORM_STATUS_LABELS = {"0": "Incomplete", "1": "Unverified", "2": "Complete"}
#: Value labels of ``yesno`` and ``truefalse`` fields.
YESNO_LABELS = {"1": "Yes", "0": "No"}
TRUEFALSE_LABELS = {"1": "True", "0": "False"}

#: Data dictionary columns: API name -> header of the UI download (domain reference 1.3.3).
DICTIONARY_COLUMNS = {
    "field_name": "Variable / Field Name",
    "form_name": "Form Name",
    "section_header": "Section Header",
    "field_type": "Field Type",
    "field_label": "Field Label",
    "select_choices_or_calculations": "Choices, Calculations, OR Slider Labels",
    "field_note": "Field Note",
    "text_validation_type_or_show_slider_number": "Text Validation Type OR Show Slider Number",
    "text_validation_min": "Text Validation Min",
    "text_validation_max": "Text Validation Max",
    "identifier": "Identifier?",
    "branching_logic": "Branching Logic (Show field only if...)",
    "required_field": "Required Field?",
    "custom_alignment": "Custom Alignment",
    "question_number": "Question Number (surveys only)",
    "matrix_group_name": "Matrix Group Name",
    "matrix_ranking": "Matrix Ranking?",
    "field_annotation": "Field Annotation",
}
#: Field types whose choices are ``code, label`` pairs (sliders and calcs are not).
CHOICE_TYPES = ("radio", "dropdown", "checkbox")

_DELIMITERS = (",", "\t", ";", "|", "^")  # csvDelimiter choices of the REDCap export
_QUOTED = re.compile(r'"[^"]*(?:""[^"]*)*"')
_FIELD_COUNT = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_EOF_IN_QUOTES = re.compile(r"EOF inside string starting at row (\d+)")
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:br|p|div|li|ul|ol|tr|td|th|table|h[1-6]|hr|blockquote)\b[^<>]*>", re.IGNORECASE
)
_TAG = re.compile(r"<!--.*?-->|<\s*/?\s*[A-Za-z][^<>]*>", re.DOTALL)
_VARIABLE_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _header_key(header: str) -> str:
    """Header normalized for matching: lower case, runs of other characters -> "_"."""
    return re.sub(r"[^0-9a-z]+", "_", header.casefold()).strip("_")


_HEADER_TO_API = {_header_key(ui): api for api, ui in DICTIONARY_COLUMNS.items()}
_HEADER_TO_API.update({api: api for api in DICTIONARY_COLUMNS})
# janitor::clean_names() spelling of the UI choices header, seen in R-processed dictionaries
_HEADER_TO_API["choices_calculations_or_slider_labels"] = "select_choices_or_calculations"


def read_redcap(
    path: str | Path,
    *,
    dictionary: str | Path | pd.DataFrame | None = None,
    encoding: str | None = None,
) -> RawTable:
    """Read a REDCap records export (flat CSV, raw or label values, raw variable-name headers).

    Parameters
    ----------
    path : str or Path
        The records export.
    dictionary : str, Path or DataFrame, optional
        The project's data dictionary: a path, or a frame from :func:`read_redcap_dictionary`.
        When omitted, a dictionary beside the export is used if there is one (see
        :func:`find_dictionary`); otherwise ``value_labels`` and ``question_text`` stay empty.
    encoding : str, optional
        Encoding of the export (a Python codec name); by default it is detected
        (:func:`outcomes.ingest.detect.decode_text`). It does not apply to a dictionary given as
        a path or found beside the export, whose encoding is always detected; read the
        dictionary with :func:`read_redcap_dictionary` to set it.

    Returns
    -------
    RawTable
        ``format = "redcap"``, ``header_rows = 1``: the file line of data row ``r`` is
        ``1 + r``, counting CSV records (a quoted cell holding a line break counts as one
        line). ``values``: every export column, every cell a string as written ("" when empty),
        index = 1-based data row number named ``row_number``. From the dictionary:

        - ``question_text``: the field label with HTML tags removed and entities decoded; for
          a checkbox option column ``"<label> (choice=<choice label>)"`` (REDCap's label-header
          convention).
        - ``value_labels``: ``radio``/``dropdown`` fields -> their choices ``{code: label}``;
          ``yesno`` -> ``{"1": "Yes", "0": "No"}``; ``truefalse`` -> ``{"1": "True",
          "0": "False"}``; each checkbox option column -> ``{"1": "Checked", "0":
          "Unchecked"}``; each ``<instrument>_complete`` column -> ``{"0": "Incomplete",
          "1": "Unverified", "2": "Complete"}``. Codes are strings, as in ``values``.
        - ``identifiers``: the columns of fields marked ``Identifier? = y`` (all option
          columns of such a checkbox field).

        ``redcap_survey_identifier`` is always in ``identifiers`` when present, with or
        without a dictionary. Only columns present in the export appear in these maps.

    Raises
    ------
    ExportError
        If the export is empty or not text, has duplicate or blank column names, a data row
        with the wrong number of fields (a truncated file) or a quoted cell that never ends;
        and for the dictionary's errors (see :func:`read_redcap_dictionary`).

    Notes
    -----
    A column that is not in the dictionary is not an error: REDCap adds ``redcap_*``,
    ``*_timestamp``, ``*_complete`` and checkbox option columns, and an export may hold a
    subset of the fields. In a label export a cell holds the choice label instead of the code;
    it is kept as it is. Checkbox option columns are matched to their codes as REDCap names
    them: ``<field>___<code>`` with the code in lower case and ``-`` turned into ``_`` (code
    ``-99`` of ``race`` is ``race____99``). The delimiter is ``,`` unless the header has none
    and holds one of REDCap's other ``csvDelimiter`` characters (tab, ``;``, ``|``, ``^``).
    """
    path = Path(path)
    names, values = _read_table(path, encoding, what="REDCap export")
    if dictionary is None:
        found = find_dictionary(path)
        if found is not None:
            log.info("%s: using the data dictionary %s", path.name, found.name)
            dictionary = found
    if dictionary is not None and not isinstance(dictionary, pd.DataFrame):
        dictionary = read_redcap_dictionary(dictionary)
    question_text: dict[str, str] = {}
    value_labels: dict[str, dict[str, str]] = {}
    identifiers: set[str] = set()
    if dictionary is not None:
        question_text, value_labels, identifiers = _dictionary_metadata(dictionary, names)
        if not question_text and len(dictionary):
            log.warning(
                "%s: no column of the export is a field of its data dictionary (%s): is it the "
                "dictionary of another project?",
                path.name,
                dictionary.attrs.get("path", "given as a frame"),
            )
    if "redcap_survey_identifier" in names:
        identifiers.add("redcap_survey_identifier")
    return RawTable(
        path=path,
        values=values,
        question_text=question_text,
        header_rows=1,
        format="redcap",
        sha256=file_sha256(path),
        value_labels=value_labels,
        identifiers=identifiers,
    )


def read_redcap_dictionary(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a REDCap data dictionary (metadata) CSV, from the UI or from the API.

    Parameters
    ----------
    path : str or Path
    encoding : str, optional
        A Python codec name; detected by default.

    Returns
    -------
    DataFrame
        One row per field, every cell a string ("" when empty). Columns carry the API names
        (``field_name``, ``form_name``, ``field_type``, ``field_label``,
        ``select_choices_or_calculations``, ``identifier``, ...): UI headers such as
        "Variable / Field Name" or "Identifier?" are renamed, and any of the 18 standard
        columns the file lacks is added, empty; other columns are kept under their own names.
        ``field_name`` and ``field_type`` are stripped, ``field_type`` in lower case. The index
        is the 1-based data row number named ``row_number`` (file line = ``1 + row_number``);
        wholly empty rows are dropped. ``attrs`` holds ``path``, ``sha256`` and ``headers``
        (API name -> the header as written in the file).

    Raises
    ------
    ExportError
        If the file is empty, malformed (duplicate headers, rows with the wrong number of
        fields), has no field-name column, a row without a field name, a field name twice, or
        the choices of a ``radio``, ``dropdown`` or ``checkbox`` field that cannot be parsed
        (see :func:`parse_choices`), naming the file line and the column.
    """
    path = Path(path)
    names, frame = _read_table(path, encoding, what="REDCap data dictionary")
    headers: dict[str, str] = {}
    renamed = []
    for name in names:
        api = _HEADER_TO_API.get(_header_key(name), name)
        if api in headers:  # two headers for one API column, e.g. "Field Type" and field_type
            raise ExportError(
                "two columns of the data dictionary mean the same thing",
                file=path,
                row=1,
                column=name,
                expected=f"one column for {api!r}",
                found=f"{headers[api]!r} and {name!r}",
            )
        headers[api] = name
        renamed.append(api)
    frame.columns = renamed
    if "field_name" not in headers:
        raise ExportError(
            "the data dictionary has no field-name column",
            file=path,
            row=1,
            column="field_name",
            expected=f"a column {DICTIONARY_COLUMNS['field_name']!r} (UI download) or "
            "'field_name' (API)",
            found=f"columns {names[:6]}" + (" ..." if len(names) > 6 else ""),
        )
    for api in DICTIONARY_COLUMNS:
        if api not in frame.columns:
            frame[api] = ""
    frame = frame[frame.ne("").any(axis=1)].copy()
    frame["field_name"] = frame["field_name"].str.strip()
    frame["field_type"] = frame["field_type"].str.strip().str.lower()
    field_header = headers["field_name"]
    blank = frame["field_name"].eq("")
    if blank.any():
        row = blank.idxmax()
        raise ExportError(
            "a data dictionary row without a field name",
            file=path,
            row=1 + row,
            column=field_header,
            expected="a variable name",
            found="an empty cell",
        )
    twice = frame["field_name"].duplicated()
    if twice.any():
        row = twice.idxmax()
        name = frame.at[row, "field_name"]
        first = frame.index[frame["field_name"].eq(name)][0]
        raise ExportError(
            "a field name appears twice in the data dictionary",
            file=path,
            row=1 + row,
            column=field_header,
            expected="each field once",
            found=f"{name!r} also on line {1 + first}",
        )
    frame.attrs.update(path=str(path), sha256=file_sha256(path), headers=headers)
    for row in frame.index[frame["field_type"].isin(CHOICE_TYPES)]:
        _field_choices(frame, row)  # raises on a choice string that cannot be parsed
    return frame


def parse_choices(text: str) -> dict[str, str]:
    """Parse a REDCap choices string (``"1, Yes | 0, No"``) into ``{code: label}``.

    The string is split on ``|``, each piece on its **first** comma (a label may hold commas),
    and code and label are stripped of surrounding white space (domain reference 1.3.3). Empty
    pieces (a trailing ``|``) are skipped.

    Parameters
    ----------
    text : str

    Returns
    -------
    dict
        Code -> label, in the order of the string.

    Raises
    ------
    ValueError
        For a piece without a comma, an empty code, or a code given twice.
    """
    choices: dict[str, str] = {}
    for piece in text.split("|"):
        if not piece.strip():
            continue
        code, comma, label = piece.partition(",")
        code, label = code.strip(), label.strip()
        if not comma:
            raise ValueError(f"the choice {piece.strip()!r} has no comma between code and label")
        if not code:
            raise ValueError(f"the choice {piece.strip()!r} has no code")
        if code in choices:
            raise ValueError(f"the code {code!r} is given twice")
        choices[code] = label
    return choices


def strip_html(text: str) -> str:
    """A label as plain text: HTML tags removed, entities decoded, white space collapsed.

    Block tags (``<br>``, ``<p>``, ``<div>``, ``<li>``, ...) become a space, inline tags
    (``<b>``, ``<span style=...>``) disappear; a ``<`` not followed by a letter or ``/``
    (``"age < 18"``) is not a tag. REDCap piping (``[field]``) is left as it is.
    """
    text = _TAG.sub("", _BLOCK_TAG.sub(" ", text))
    return " ".join(html.unescape(text).split())


def find_dictionary(path: str | Path) -> Path | None:
    """The data dictionary stored beside an export, if there is one.

    Looked for in the export's folder, most specific first (``stem`` is the export's file
    name without ``.csv``): ``<stem>_dictionary.csv``; ``<stem>_DataDictionary*.csv``;
    for a UI download named ``<project>_DATA_<date>.csv``, ``<project>_DataDictionary*.csv``;
    then ``dictionary.csv``.

    Returns
    -------
    Path or None

    Raises
    ------
    ExportError
        If several files fit the same pattern (pass the dictionary explicitly).
    """
    path = Path(path)
    folder, stem = path.parent, path.stem
    patterns = [f"{glob.escape(stem)}_dictionary.csv", f"{glob.escape(stem)}_DataDictionary*.csv"]
    for marker in ("_DATA_", "_DATA"):
        if marker in stem:
            project = stem.rsplit(marker, 1)[0]
            patterns.append(f"{glob.escape(project)}_DataDictionary*.csv")
            break
    patterns.append("dictionary.csv")
    for pattern in patterns:
        found = sorted(p for p in folder.glob(pattern) if p.is_file() and p != path)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise ExportError(
                "several data dictionaries beside the export",
                file=path,
                expected="one dictionary (or pass it explicitly)",
                found=", ".join(p.name for p in found),
            )
    return None


# --- reading ------------------------------------------------------------------------------


def _read_table(path: Path, encoding: str | None, what: str) -> tuple[list[str], pd.DataFrame]:
    """Header names and the data rows (all strings, index ``row_number`` from 1)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read the {what}", file=path, found=str(exc)) from None
    if not data.strip():
        raise ExportError(f"the {what} is empty", file=path, expected=f"a {what} (CSV)")
    text = decode_text(data, path, encoding).rstrip("\r\n")  # trailing blank lines
    if not text.strip():
        raise ExportError(f"the {what} is empty", file=path, expected=f"a {what} (CSV)")
    delimiter = _delimiter(text)
    try:
        # header=None: the header line sets the field count; pandas then refuses longer rows
        # (and pads shorter ones, checked below); duplicate names are not renamed.
        frame = pd.read_csv(
            io.StringIO(text, newline=""),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        raise _malformed(text, path, delimiter, str(exc), what) from None
    except pd.errors.EmptyDataError:
        raise ExportError(f"the {what} is empty", file=path, expected=f"a {what} (CSV)") from None
    names = [str(name) for name in frame.iloc[0]]
    _check_names(names, path, what)
    if _may_have_short_rows(text, delimiter, len(names), len(frame)):
        bad = _first_bad_record(text, delimiter)
        if bad is not None:
            raise _field_count_error(path, bad)
    values = frame.iloc[1:].set_axis(names, axis=1)
    values.index = pd.RangeIndex(1, len(values) + 1, name="row_number")
    return names, values


def _delimiter(text: str) -> str:
    """ "," unless the header line has none and holds exactly one other REDCap delimiter."""
    header = _QUOTED.sub("", text[: text.find("\n")] if "\n" in text else text)
    if "," in header:
        return ","
    present = [d for d in _DELIMITERS[1:] if d in header]
    return present[0] if len(present) == 1 else ","


def _check_names(names: list[str], path: Path, what: str) -> None:
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if not name.strip():
            raise ExportError(
                "a column without a name in the header",
                file=path,
                row=1,
                column=f"#{position}",
                expected="a name for every column",
                found="an empty header cell" + (" (trailing delimiter?)" if position > 1 else ""),
            )
        if name in seen:
            hint = ""
            if what == "REDCap export" and not all(_VARIABLE_NAME.match(n) for n in names):
                hint = " (export with variable names as headers, not field labels)"
            raise ExportError(
                "duplicate column name in the header" + hint,
                file=path,
                row=1,
                column=name,
                expected="unique column names",
                found=f"{name!r} in columns {seen[name]} and {position}",
            )
        seen[name] = position


def _may_have_short_rows(text: str, delimiter: str, n_fields: int, n_records: int) -> bool:
    """Cheap test for rows pandas padded: count the delimiters outside quoted cells.

    pandas has already refused rows with too many fields, so every record has exactly
    ``n_fields`` fields iff there are ``(n_fields - 1) * n_records`` delimiters. A False is
    exact for files quoted the way REDCap writes them; a True is confirmed (or not) by
    :func:`_first_bad_record`.
    """
    if n_fields == 1:
        return False
    unquoted = _QUOTED.sub("", text) if '"' in text else text
    return unquoted.count(delimiter) != (n_fields - 1) * n_records


def _first_bad_record(text: str, delimiter: str) -> tuple[int, int, list[str]] | None:
    """(record number from 1, its field count, the header) of the first record whose field
    count differs from the header's; None if there is none (or the csv module cannot tell)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        for number, row in enumerate(reader, start=2):
            if len(row) != len(header):
                return number, len(row), header
    except (csv.Error, StopIteration):
        return None
    return None


def _field_count_error(path: Path, bad: tuple[int, int, list[str]]) -> ExportError:
    line, n_found, names = bad
    return ExportError(
        "a row has the wrong number of fields (truncated or malformed file?)",
        file=path,
        row=line,
        column=names[n_found] if 0 < n_found < len(names) else None,
        expected=f"{len(names)} fields, as in the header",
        found="a blank line" if n_found == 0 else f"{n_found} fields",
    )


def _malformed(text: str, path: Path, delimiter: str, message: str, what: str) -> ExportError:
    eof = _EOF_IN_QUOTES.search(message)
    if eof:
        return ExportError(
            "the file ends inside a quoted cell (truncated file?)",
            file=path,
            row=int(eof.group(1)) + 1,
            expected='a closing quote (")',
            found="the end of the file",
        )
    bad = _first_bad_record(text, delimiter)
    if bad is not None:
        return _field_count_error(path, bad)
    count = _FIELD_COUNT.search(message)
    if count:  # pandas and the csv module disagree on the quoting; trust pandas' count
        return ExportError(
            "a row has the wrong number of fields (truncated or malformed file?)",
            file=path,
            row=int(count.group(2)),
            expected=f"{count.group(1)} fields, as in the header",
            found=f"{count.group(3)} fields",
        )
    return ExportError(
        f"the {what} is not a readable CSV file", file=path, found=redact_message(message)
    )


# --- dictionary -> RawTable metadata ------------------------------------------------------


def _field_choices(dictionary: pd.DataFrame, row) -> dict[str, str]:
    """Parsed choices of one dictionary row, or an ExportError naming its line and column."""
    try:
        return parse_choices(dictionary.at[row, "select_choices_or_calculations"])
    except ValueError as exc:
        header = dictionary.attrs.get("headers", {}).get(
            "select_choices_or_calculations", "select_choices_or_calculations"
        )
        numbered = dictionary.index.name == "row_number"
        raise ExportError(
            "choices that cannot be parsed in the data dictionary",
            file=Path(dictionary.attrs["path"]) if "path" in dictionary.attrs else None,
            row=1 + int(row) if numbered else None,
            column=header,
            expected="'code, label' pieces separated by '|', e.g. '1, Yes | 0, No'",
            found=f"{exc} (field {dictionary.at[row, 'field_name']!r})",
        ) from None


def _checkbox_columns(field: str, codes: list[str], present: set[str]) -> dict[str, str]:
    """Code -> export column of a checkbox field's options that are in the export."""

    def spellings(code: str) -> list[str]:
        lower = code.lower()
        return [
            lower.replace("-", "_"),  # REDCap: lower case, "-" -> "_" (-99 -> ___ _99)
            code,
            re.sub(r"[^0-9a-z_]", "_", lower),
            re.sub(r"[^0-9a-z]", "", lower),  # REDCap versions that dropped "_" from codes
        ]

    columns: dict[str, str] = {}
    taken: set[str] = set()
    for level in range(4):  # exact spellings first, so a fallback never steals a column
        for code in codes:
            if code in columns:
                continue
            column = f"{field}___{spellings(code)[level]}"
            if column in present and column not in taken:
                columns[code] = column
                taken.add(column)
    return columns


def _dictionary_metadata(
    dictionary: pd.DataFrame, names: list[str]
) -> tuple[dict[str, str], dict[str, dict[str, str]], set[str]]:
    """question_text, value_labels and identifiers of the export's columns."""
    if "field_name" not in dictionary.columns:
        raise ExportError(
            "the data dictionary has no field-name column",
            file=Path(dictionary.attrs["path"]) if "path" in dictionary.attrs else None,
            column="field_name",
            expected="a frame from read_redcap_dictionary (API column names)",
            found=f"columns {list(dictionary.columns)[:6]}",
        )
    for api in ("field_type", "field_label", "identifier", "form_name"):
        if api not in dictionary.columns:
            dictionary = dictionary.assign(**{api: ""})
    present = set(names)
    fields = set(dictionary["field_name"])
    question_text: dict[str, str] = {}
    value_labels: dict[str, dict[str, str]] = {}
    identifiers: set[str] = set()
    for row in dictionary.index:
        name = dictionary.at[row, "field_name"]
        kind = str(dictionary.at[row, "field_type"]).strip().lower()
        label = strip_html(dictionary.at[row, "field_label"])
        identifying = dictionary.at[row, "identifier"].strip().lower() == "y"
        if kind == "checkbox":
            choices = _field_choices(dictionary, row)
            for code, column in _checkbox_columns(name, list(choices), present).items():
                question_text[column] = f"{label} (choice={strip_html(choices[code])})"
                value_labels[column] = dict(CHECKBOX_LABELS)
                if identifying:
                    identifiers.add(column)
            continue
        if name not in present:
            continue
        question_text[name] = label
        if kind in ("radio", "dropdown"):
            value_labels[name] = _field_choices(dictionary, row)
        elif kind == "yesno":
            value_labels[name] = dict(YESNO_LABELS)
        elif kind == "truefalse":
            value_labels[name] = dict(TRUEFALSE_LABELS)
        if identifying:
            identifiers.add(name)
    for form in dict.fromkeys(dictionary["form_name"].str.strip()):
        column = f"{form}_complete"
        if form and column in present and column not in fields:
            value_labels[column] = dict(FORM_STATUS_LABELS)
    return question_text, value_labels, identifiers
