"""SurveyMonkey CSV exports ("All individual responses"; domain reference 1.2).

Two header rows. Row 1 holds the metadata column names (``Respondent ID``, ``Collector ID``,
``Start Date``, ``End Date``, ``IP Address``, ``Email Address``, ``First Name``, ``Last Name``,
``Custom Data 1``) and the question text, written only in the first column of each question
(the question's other columns are blank there). Row 2 holds each column's sub-label:
``Response`` (single choice), ``Open-Ended Response`` (text), the option text (one column per
option of a multi-select question, per row of a matrix, per ranked item), or a sub-field name
(``Name``, ``Email``...). Data start on row 3.

No public sample of a real SurveyMonkey export was found: the layout follows the domain
reference, which cites public parsers, not SurveyMonkey's documentation. The numeric-value
variant's coding is unverified (domain reference, appendix B item 3); cells are read as they
are either way.
"""

from __future__ import annotations

from pathlib import Path

from outcomes.errors import ExportError
from outcomes.ingest.qualtrics import DelimitedSource, check_unique
from outcomes.ingest.rawtable import RawTable

#: Metadata columns of a SurveyMonkey export, named in row 1 (domain reference 1.2).
METADATA_COLUMNS = (
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
)
#: Sub-label of a question with a single column (single choice, dropdown...).
RESPONSE = "Response"
#: Separator between the question text and the sub-label in a column id.
SEPARATOR = " | "


def read_surveymonkey(path: str | Path, *, encoding: str | None = None) -> RawTable:
    """Read a SurveyMonkey CSV export ("All individual responses", expanded columns).

    Parameters
    ----------
    path : str or Path
        The export file (CSV; a tab-delimited file is read the same way).
    encoding : str, optional
        A Python codec name that overrides detection (UTF-16 BOM, else UTF-8 with or without a
        BOM, else Windows-1252 with a warning).

    Returns
    -------
    RawTable
        ``format="surveymonkey"``, ``header_rows=2`` (the file line of data row ``r`` is
        ``r + 2``). ``values`` holds every cell as the file has it (strings, "" when empty),
        indexed by the 1-based data row number ``row_number``.

        Column ids, built from the two header rows (surrounding spaces removed), where the
        question text of a column is its row-1 text, or that of the nearest non-blank cell to
        its left (forward fill):

        - a metadata column (row-1 text in :data:`METADATA_COLUMNS`) keeps its name, e.g.
          ``"Respondent ID"``;
        - a column whose sub-label is ``"Response"`` or blank is named by its question text
          alone, e.g. ``"How old are you?"``;
        - any other column is ``"<question text> | <sub-label>"``, e.g.
          ``"Which activities did you join? | Sports"`` or, for a matrix row,
          ``"Over the last 2 weeks... | Feeling tired"``; an open-ended question becomes
          ``"<question text> | Open-Ended Response"``.

        ``question_text`` maps every column to its full (forward-filled) question text, or to
        its name for metadata; the sub-label is what follows ``" | "`` in the column id.
        ``import_ids`` is empty: SurveyMonkey exports carry no internal ids.

    Raises
    ------
    ExportError
        Naming the file and, where they apply, the row, the column, what was expected and what
        was found: an empty, unreadable or binary file; fewer than two header rows; a first
        column without a name; a column blank in both header rows (other than a trailing
        delimiter); two columns with the same id (two questions with the same text and
        sub-label); header rows of different lengths; a data row with the wrong number of
        fields.
    """
    source = DelimitedSource.open(path, encoding)
    records = source.head(2)
    if not records or not any(cell.strip() for cell in records[0]):
        raise ExportError(
            "the export is empty", file=source.path, expected="a SurveyMonkey CSV export"
        )
    if len(records) < 2:
        raise ExportError(
            "too few header rows for a SurveyMonkey export",
            file=source.path,
            expected="2 header rows (question text, then sub-labels such as 'Response')",
            found="1 row in the whole file",
        )
    row1, row2 = records
    width = max(len(row1), len(row2))
    row1 = row1 + [""] * (width - len(row1))
    row2 = row2 + [""] * (width - len(row2))
    if width > 1 and not row1[-1].strip() and not row2[-1].strip():
        width -= 1  # a trailing delimiter
    for number, row in ((1, records[0]), (2, records[1])):
        if len(row) not in (width, width + 1):
            raise ExportError(
                "the header rows have different numbers of fields",
                file=source.path,
                row=number,
                expected=f"{width} fields",
                found=f"{len(row)} fields",
            )
    names, texts = [], []
    question = None
    for position in range(width):
        text, label = row1[position].strip(), row2[position].strip()
        if text:
            question = text
        elif question is None:
            raise ExportError(
                "the first column has no name",
                file=source.path,
                row=1,
                column="#1",
                expected="a metadata name such as 'Respondent ID' or a question text",
                found="an empty cell",
            )
        elif not label:
            raise ExportError(
                "a column has neither question text nor sub-label",
                file=source.path,
                row=2,
                column=f"#{position + 1} (after {question!r})",
                expected="a sub-label in row 2 under a continued question",
                found="an empty cell in rows 1 and 2",
            )
        if text in METADATA_COLUMNS or label in ("", RESPONSE):
            names.append(question)
        else:
            names.append(f"{question}{SEPARATOR}{label}")
        texts.append(question)
    check_unique(names, names, source.path)
    values = source.read_values(2, names)
    return RawTable(
        path=source.path,
        values=values,
        question_text=dict(zip(names, texts, strict=True)),
        header_rows=2,
        format="surveymonkey",
        sha256=source.sha256,
    )
