"""The common structure every reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd


@dataclass
class RawTable:
    """An export as read, before any mapping.

    Attributes
    ----------
    path : Path
        The file read.
    values : DataFrame
        One row per data row, one column per export column, every cell a string ("" when
        empty). The index is the 1-based data row number (header rows not counted).
    question_text : dict
        Column -> question text (or field label) as the export gives it.
    import_ids : dict
        Column -> the tool's internal id (Qualtrics ImportId), where the export has one.
    value_labels : dict
        Column -> {code: label}, for formats that carry labels beside codes (SPSS value
        labels, a REDCap data dictionary). Codes are strings as they appear in ``values``
        (SPSS numeric codes formatted with ``"%g"``: 1.0 -> "1").
    missing_codes : dict
        Column -> set of codes the file itself declares missing (SPSS user-defined missing
        values); they become missing before mapping.
    identifiers : set
        Columns the file's own metadata marks as identifying (REDCap ``Identifier? = y``,
        ``redcap_survey_identifier``); they are always dropped.
    header_rows : int
        Lines before the first data row; the file line of data row ``r`` is ``header_rows + r``.
    format : str
    sha256 : str
        SHA-256 of the file's bytes.
    """

    path: Path
    values: pd.DataFrame
    question_text: dict[str, str]
    header_rows: int
    format: str
    sha256: str
    import_ids: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    missing_codes: dict[str, set[str]] = field(default_factory=dict)
    identifiers: set[str] = field(default_factory=set)

    def line_of(self, row_number: int) -> int:
        """File line (1-based) of a data row, for error messages."""
        return self.header_rows + int(row_number)
