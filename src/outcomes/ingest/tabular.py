"""Plain tabular exports: delimited text (CSV/TSV), Excel workbooks and Parquet files.

One header row of column names, then one row per response. Every cell becomes a string with the
rules of :func:`cell_text`, so the same data read from a CSV, an ``.xlsx`` or a ``.parquet`` file
give the same :class:`~outcomes.ingest.rawtable.RawTable` values. Text is never interpreted: ""
stays "", and the literal text "NA" is not a missing value.

Column names: a column whose header cell is empty and whose cells are all empty (a trailing
delimiter, a stray formatted Excel column) is dropped; an unnamed column holding data, or two
columns of the same name, is an error.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from outcomes.errors import ExportError
from outcomes.ingest.detect import decode_text
from outcomes.ingest.rawtable import RawTable
from outcomes.redact import redact_message
from outcomes.tables import file_sha256

#: Delimiters :func:`read_delimited` considers, in order of preference on a tie.
DELIMITERS = (",", "\t", ";", "|")


def cell_text(value: object) -> str:
    """One cell as a string, the same way for every binary export format.

    Parameters
    ----------
    value : object
        A cell as a reader library returns it.

    Returns
    -------
    str
        - missing (``None``, NaN, ``NaT``, ``pd.NA``) -> ``""``;
        - booleans -> ``"TRUE"`` / ``"FALSE"`` (as Excel and R write them);
        - integers, and floats without a fractional part -> integer digits (``3.0`` -> ``"3"``,
          ``-1.0`` -> ``"-1"``);
        - other floats -> the shortest text that reads back as the same number (Python's
          ``repr``: ``1.1`` -> ``"1.1"``, never ``"1.1000000000000001"``; float32 values use
          numpy's shortest form for float32); infinities -> ``"inf"`` / ``"-inf"``;
        - decimals -> digits without trailing zeros (``Decimal("1.50")`` -> ``"1.5"``);
        - datetimes -> ISO 8601 with a space, ``"2018-05-06 10:10:10"`` (fractional seconds
          and a UTC offset only when present); dates -> ``"2018-05-06"``; times ->
          ``"10:10:10"``;
        - strings as they are; bytes decoded as UTF-8 (Latin-1 when not UTF-8);
        - anything else -> ``str(value)``.

    Examples
    --------
    >>> [cell_text(v) for v in (3.0, 1.1, -1000.3, float("nan"), True, "NA")]
    ['3', '1.1', '-1000.3', '', 'TRUE', 'NA']
    >>> cell_text(dt.datetime(2018, 5, 6, 10, 10, 10)), cell_text(dt.date(1583, 1, 1))
    ('2018-05-06 10:10:10', '1583-01-01')
    """
    if value is None or value is pd.NaT or value is pd.NA:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return ""
        if number.is_integer():
            return str(int(number))
        if isinstance(value, np.floating) and value.dtype.itemsize < 8:
            return str(value)  # numpy's shortest form for its own precision
        return repr(number)
    if isinstance(value, Decimal):
        if value.is_nan():
            return ""
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
        if value is pd.NaT:
            return ""
    if isinstance(value, dt.datetime):  # includes pd.Timestamp
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.decode("latin-1")
    return str(value)


def read_delimited(
    path: str | Path, *, delimiter: str | None = None, encoding: str | None = None
) -> RawTable:
    """Read a delimited text export (CSV, TSV) with one header row.

    Parameters
    ----------
    path : str or Path
    delimiter : str, optional
        One character. By default sniffed from the header line: among ``,`` ``\\t`` ``;``
        ``|`` the one that splits it into the most fields (ties in that order); when none
        splits it (a single column), tab for ``.tsv``/``.tab`` files and comma otherwise.
    encoding : str, optional
        A Python codec name. By default :func:`~outcomes.ingest.detect.decode_text` sniffs it:
        UTF-16 by its BOM, UTF-8 with or without BOM, otherwise Windows-1252/Latin-1.

    Returns
    -------
    RawTable
        ``format`` ``"tsv"`` for a tab delimiter, ``"csv"`` otherwise; ``header_rows = 1``
        (data row ``r`` is file line ``1 + r`` unless a quoted cell spans lines);
        ``question_text`` maps each column to its own name. Cells are the text between the
        delimiters, unquoted and otherwise unchanged.

    Raises
    ------
    ExportError
        If the file cannot be read, is empty, does not decode, has an unnamed column holding
        data or a duplicate column name, or has a data row with a different number of fields
        than the header (a blank line inside the data counts as such a row; trailing blank
        lines are ignored). A trailing delimiter on every line is accepted.
    """
    path = Path(path)
    data = _read_bytes(path)
    text = decode_text(data, path, encoding)
    if not text.strip():
        raise ExportError("the export is empty", file=path, expected="a header row and data rows")
    if delimiter is None:
        delimiter = _sniff_delimiter(text, path)
    elif len(delimiter) != 1:
        raise ExportError(
            "the delimiter must be one character",
            file=path,
            column="delimiter",
            expected="one of ',', '\\t', ';', '|' (or another single character)",
            found=repr(delimiter),
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[tuple[int, list[str]]] = []  # (first file line, fields)
    try:
        start = 1
        for fields in reader:
            records.append((start, fields))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ExportError(
            "malformed delimited text",
            file=path,
            row=reader.line_num + 1,
            expected=f"fields separated by {delimiter!r}, quotes balanced",
            found=str(exc),
        ) from None
    while records and not records[-1][1]:
        records.pop()  # trailing blank lines
    (_, header), body = records[0], records[1:]
    n = len(header)
    rows = []
    for line, fields in body:
        if len(fields) == n + 1 and fields[-1] == "":
            fields = fields[:-1]  # trailing delimiter on data rows only
        elif len(fields) == n - 1 and header[-1] == "":
            fields = [*fields, ""]  # trailing delimiter on the header only
        if len(fields) != n:
            raise ExportError(
                "a data row has the wrong number of fields (truncated or malformed file?)",
                file=path,
                row=line,
                expected=f"{n} fields, as in the header (delimiter {delimiter!r})",
                found=f"{len(fields)} fields" if fields else "an empty line",
            )
        rows.append(fields)
    return _table(
        path,
        header,
        rows,
        header_rows=1,
        format="tsv" if delimiter == "\t" else "csv",
        header_row=1,
    )


def read_excel(path: str | Path, *, sheet: str | None = None) -> RawTable:
    """Read one sheet of an ``.xlsx`` workbook (openpyxl, through pandas).

    Parameters
    ----------
    path : str or Path
    sheet : str, optional
        The sheet's name; by default the first sheet.

    Returns
    -------
    RawTable
        ``format = "xlsx"``; row 1 of the sheet holds the column names and data start in row 2
        (``header_rows = 1``: data row ``r`` is sheet row ``1 + r``; blank rows inside the data
        are kept as rows of empty cells, blank rows after the data are not read). Columns are
        read from column A; an empty column without a name is dropped. Cells follow
        :func:`cell_text`, with two Excel specifics: a number stored as a whole float is an
        integer (``3.0`` -> ``"3"``) and a date-time column whose cells are all at midnight is
        a date column (``"2018-05-06"``), since Excel stores dates as date-times. Error cells
        (``#N/A``, ``#DIV/0!``) read as ``""``; text cells are kept as typed (``"007"`` stays
        ``"007"``).

    Raises
    ------
    ExportError
        If the file is empty or not a readable ``.xlsx`` workbook, the sheet does not exist
        (the sheets are listed), the sheet is empty, or a column is unnamed or duplicated.
    """
    path = Path(path)
    _check_not_empty(path)
    try:
        with pd.ExcelFile(path, engine="openpyxl") as book:
            names = book.sheet_names
            if sheet is not None and sheet not in names:
                raise ExportError(
                    "no sheet of that name in the workbook",
                    file=path,
                    column="sheet",
                    expected="one of " + ", ".join(repr(n) for n in names),
                    found=repr(sheet),
                )
            chosen = names[0] if sheet is None else sheet
            frame = pd.read_excel(
                book, sheet_name=chosen, header=None, dtype=object, na_filter=False
            )
    except ExportError:
        raise
    except Exception as exc:  # zip, XML and openpyxl errors all mean "not a workbook"
        raise ExportError(
            "cannot read the file as an Excel workbook",
            file=path,
            expected="an .xlsx workbook (Office Open XML; .xls is not read)",
            found=f"{type(exc).__name__}: {redact_message(exc)}",
        ) from None
    if frame.empty:
        raise ExportError(
            f"sheet {chosen!r} is empty",
            file=path,
            row=1,
            expected="column names in row 1 and data below",
            found="no cells",
        )
    columns = [_excel_column(frame[c]) for c in frame.columns]
    cells = [list(r) for r in zip(*columns, strict=True)]
    return _table(path, cells[0], cells[1:], header_rows=1, format="xlsx", header_row=1)


def read_parquet_export(path: str | Path) -> RawTable:
    """Read a Parquet file as an export: every column to strings.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    RawTable
        ``format = "parquet"``, ``header_rows = 0`` (the row number is the 1-based row of the
        file). Cells follow :func:`cell_text` by the column's Arrow type: date32 -> ISO date,
        timestamp -> ISO date-time, time -> ``HH:MM:SS``, float32 in float32's own shortest
        form. Every stored column is read, including a pandas index stored as a column.

    Raises
    ------
    ExportError
        If the file is empty or not a readable Parquet file, has no columns, a duplicate or
        empty column name, or a nested (list, struct, map) column.
    """
    path = Path(path)
    _check_not_empty(path)
    try:
        with pq.ParquetFile(path) as parquet:  # not read_table: it rejects duplicate names
            table = parquet.read()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise ExportError(
            "cannot read the file as Parquet",
            file=path,
            expected="a Parquet file",
            found=f"{type(exc).__name__}: {redact_message(exc)}",
        ) from None
    if table.num_columns == 0:
        raise ExportError("the Parquet file has no columns", file=path, expected="columns")
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_nested(kind):
            raise ExportError(
                "a column holds nested values",
                file=path,
                column=name,
                expected="flat columns (numbers, text, dates, booleans)",
                found=str(kind),
            )
        if pa.types.is_floating(kind) and kind.bit_width < 64:
            values = column.to_numpy(zero_copy_only=False)  # keeps float32 scalars, null -> NaN
        else:
            values = column.to_pylist()
        columns.append([cell_text(v) for v in values])
    rows = [list(r) for r in zip(*columns, strict=True)]
    return _table(path, list(table.column_names), rows, header_rows=0, format="parquet")


def _read_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportError("cannot read the export", file=path, found=str(exc)) from None
    if not data.strip():
        raise ExportError(
            "the export is empty",
            file=path,
            expected="a header row and data rows",
            found=f"{len(data)} bytes, all blank" if data else "0 bytes",
        )
    return data


def _check_not_empty(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExportError("cannot read the export", file=path, found=str(exc)) from None
    if size == 0:
        raise ExportError(
            "the export is empty", file=path, expected="a header row and data rows", found="0 bytes"
        )


def _sniff_delimiter(text: str, path: Path) -> str:
    line = text.splitlines()[0]
    counts = {d: len(next(csv.reader([line], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # first of the tied maxima
    if counts[best] > 1:
        return best
    return "\t" if path.suffix.lower() in (".tsv", ".tab") else ","


def _excel_column(column: pd.Series) -> list[str]:
    """Cells of one sheet column as strings; midnight-only date-time columns as dates."""
    stamps = [v for v in column.iloc[1:] if isinstance(v, dt.datetime)]
    dates_only = bool(stamps) and all(v.time() == dt.time(0) and v.tzinfo is None for v in stamps)
    out = [cell_text(column.iloc[0])]
    for value in column.iloc[1:]:
        if dates_only and isinstance(value, dt.datetime):
            value = value.date()
        out.append(cell_text(value))
    return out


def _table(
    path: Path,
    header: list[str],
    rows: list[list[str]],
    *,
    header_rows: int,
    format: str,
    header_row: int | None = None,
) -> RawTable:
    """Check the column names, drop empty unnamed columns, and build the RawTable."""
    keep, seen = [], set()
    if all(name == "" for name in header):
        raise ExportError(
            "the header row is empty",
            file=path,
            row=header_row,
            expected="column names" + (f" in row {header_row}" if header_row else ""),
            found="no names",
        )
    for position, name in enumerate(header):
        if name == "":
            filled = sum(row[position] != "" for row in rows)
            if filled:
                raise ExportError(
                    "a column holding data has no name",
                    file=path,
                    row=header_row,
                    column=f"#{position + 1}",
                    expected="a name for every column that holds data",
                    found=f"an empty header cell above {filled} non-empty cells",
                )
            continue
        if name in seen:
            raise ExportError(
                "duplicate column name in the header",
                file=path,
                row=header_row,
                column=name,
                expected="unique column names",
                found=f"{name!r} twice",
            )
        seen.add(name)
        keep.append(position)
    names = [header[p] for p in keep]
    values = pd.DataFrame(
        {
            name: pd.Series([row[p] for row in rows], dtype=str)
            for name, p in zip(names, keep, strict=True)
        }
    )
    values.index = pd.RangeIndex(1, len(rows) + 1, name="row_number")
    return RawTable(
        path=path,
        values=values,
        question_text={name: name for name in names},
        header_rows=header_rows,
        format=format,
        sha256=file_sha256(path),
    )
