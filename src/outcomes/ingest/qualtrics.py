"""Qualtrics CSV exports (current "Data Table" layout: three header rows).

Row 1 holds the column ids (export tags), row 2 the question text, row 3 a JSON object per
column with its ImportId; data start on row 4 (domain reference 1.1.1). Every cell is read as
text: "" stays "", and the literal text "NA" is not a missing value.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from outcomes.errors import ExportError
from outcomes.ingest.detect import decode_text
from outcomes.ingest.rawtable import RawTable
from outcomes.tables import file_sha256


def read_qualtrics(path: str | Path) -> RawTable:
    """Read a current-format Qualtrics CSV export.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    RawTable
        ``question_text`` from row 2, ``import_ids`` from row 3, ``header_rows = 3``.

    Raises
    ------
    ExportError
        If the file is empty, not text, has fewer than three header rows, a third row that is
        not ImportId JSON, duplicate column ids, or a data row with the wrong number of fields.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportError("cannot read the export", file=path, found=str(exc)) from None
    if not data.strip():
        raise ExportError("the export is empty", file=path, expected="a Qualtrics CSV export")
    text = decode_text(data, path)
    rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [next(rows, None) for _ in range(3)]
    except csv.Error as exc:
        raise ExportError("malformed CSV header", file=path, found=str(exc)) from None
    if any(h is None for h in header):
        raise ExportError(
            "too few header rows for a Qualtrics export",
            file=path,
            expected="3 header rows (column ids, question text, ImportId JSON)",
            found=f"{sum(h is not None for h in header)} rows in the whole file",
        )
    names, texts, id_cells = header
    if names and names[-1] == "" and all(len(h) == len(names) for h in header):
        names, texts, id_cells = names[:-1], texts[:-1], id_cells[:-1]  # trailing comma
    import_ids = {}
    for position, (name, cell) in enumerate(zip(names, id_cells, strict=False)):
        try:
            import_ids[name] = json.loads(cell)["ImportId"]
        except (ValueError, KeyError, TypeError):
            raise ExportError(
                "row 3 is not Qualtrics ImportId JSON: is this a legacy (2-row) or a non-Qualtrics "
                "export?",
                file=path,
                row=3,
                column=name or f"#{position + 1}",
                expected='{"ImportId": "..."}',
                found=repr(cell[:80]),
            ) from None
    seen = set()
    for name in names:
        if name in seen:
            raise ExportError(
                "duplicate column id in the header",
                file=path,
                row=1,
                column=name,
                expected="unique column ids",
                found=f"{name!r} twice",
            )
        seen.add(name)

    try:
        values = pd.read_csv(
            io.StringIO(text, newline=""),
            header=None,
            skiprows=3,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            usecols=range(len(names)),
            names=list(range(len(names))),
            engine="c",
        )
    except pd.errors.ParserError as exc:
        raise ExportError(
            "a data row has the wrong number of fields (truncated or malformed file?)",
            file=path,
            expected=f"{len(names)} fields per row",
            found=str(exc),
        ) from None
    except pd.errors.EmptyDataError:
        values = pd.DataFrame({i: pd.Series(dtype=str) for i in range(len(names))})
    values.columns = names
    _check_field_counts(text, path, len(names))
    values.index = pd.RangeIndex(1, len(values) + 1, name="row_number")
    return RawTable(
        path=path,
        values=values,
        question_text=dict(zip(names, texts, strict=False)),
        import_ids=import_ids,
        header_rows=3,
        format="qualtrics",
        sha256=file_sha256(path),
    )


def _check_field_counts(text: str, path: Path, n_fields: int) -> None:
    """pandas pads short rows with empty cells; a short row means a truncated or broken file."""
    for line_number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
        if line_number > 3 and row and len(row) not in (n_fields, n_fields + 1):
            raise ExportError(
                "a data row has the wrong number of fields (truncated or malformed file?)",
                file=path,
                row=line_number,
                expected=f"{n_fields} fields",
                found=f"{len(row)} fields",
            )
