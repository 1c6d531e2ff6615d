"""Qualtrics exports: current and legacy layouts, CSV or TSV, choice text or numeric values.

Layouts (domain reference 1.1.1), recognised from the content, never from the file name:

- **current** ("Data Table") exporter: row 1 the column ids (export tags), row 2 the question
  text, row 3 one JSON object per column with its ``ImportId``; data from row 4.
- **legacy** exporter: row 1 ``V1`` ... ``V10`` for the metadata, then the question tags; row 2
  the labels (``ResponseID``, ``ResponseSet``, ... then the question text); data from row 3. The
  sample carries a UTF-8 BOM and ends every line with a comma.

CSV (comma) and TSV (tab, usually UTF-16 with a BOM) are read alike; the delimiter is the one the
first line holds more of. Every cell is read as text: "" stays "", and the literal text "NA" is
not a missing value.

Speed: the header is parsed with :mod:`csv`, the data once with pyarrow's multithreaded CSV
parser, straight from the file's bytes when they are UTF-8. Only when pyarrow refuses the data
(a row with the wrong number of fields, bytes that are not UTF-8) is the file decoded in Python
and, for a broken row, walked with :mod:`csv` to name the row.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from outcomes.errors import ExportError
from outcomes.ingest.detect import decode_text
from outcomes.ingest.rawtable import RawTable
from outcomes.redact import describe_value, redact_message

#: Legacy metadata labels (row 2 of a legacy export, under ``V1`` ... ``V10``) -> the current
#: column name (domain reference 1.1.1 and 1.1.2).
LEGACY_METADATA = {
    "ResponseID": "ResponseId",
    "ResponseSet": "ResponseSet",
    "Name": "Name",
    "ExternalDataReference": "ExternalReference",
    "EmailAddress": "RecipientEmail",
    "IPAddress": "IPAddress",
    "Status": "Status",
    "StartDate": "StartDate",
    "EndDate": "EndDate",
    "Finished": "Finished",
}
_LEGACY_ID = re.compile(r"V\d+")
_PREFIX_BYTES = 1 << 16  # first guess of the header's size in bytes; doubled as needed
_UTF8 = {"utf-8", "utf-8-sig"}
_FIELD_LIMIT = 2**31 - 1  # the largest field csv accepts on every platform


def read_qualtrics(path: str | Path, *, encoding: str | None = None) -> RawTable:
    """Read a Qualtrics export (current or legacy layout, CSV or TSV).

    Parameters
    ----------
    path : str or Path
        The export file.
    encoding : str, optional
        A Python codec name that overrides detection (``utf-8``, ``utf-16``, ``cp1252``...).
        By default: UTF-16 when the file starts with a UTF-16 BOM, else UTF-8 (BOM optional),
        else Windows-1252 with a warning (:func:`outcomes.ingest.detect.decode_text`).

    Returns
    -------
    RawTable
        ``format="qualtrics"`` for every layout. ``values`` holds every cell as the file has it
        (strings, "" when empty), indexed by the 1-based data row number ``row_number``.

        Current layout: ``header_rows=3``; ``question_text`` from row 2 (for sub-items
        ``"<question> - <statement>"``, in the survey's language); ``import_ids`` from the
        ``ImportId`` of row 3 (``timeZone`` and ``choiceId`` are not kept).

        Legacy layout: ``header_rows=2``; the metadata columns ``V1`` ... ``V10`` are renamed
        after their row-2 label with :data:`LEGACY_METADATA` (``ResponseID`` -> ``ResponseId``,
        ``ResponseSet``, ``Name``, ``ExternalDataReference`` -> ``ExternalReference``,
        ``EmailAddress`` -> ``RecipientEmail``, ``IPAddress``, ``Status``, ``StartDate``,
        ``EndDate``, ``Finished``); a ``V`` column with another label keeps its id.
        ``import_ids`` maps each renamed column to its original id (``"ResponseId": "V1"``);
        legacy exports have no ImportIds, so no other column is in ``import_ids``.
        ``question_text`` holds the row-2 labels as written (``"ResponseID"`` for
        ``ResponseId``). Legacy exports have no ``Progress``, ``Duration (in seconds)``,
        ``RecordedDate``, recipient names, ``DistributionChannel`` or ``UserLanguage``, and
        carry ``ResponseSet``, ``Name`` and ``LocationAccuracy`` instead.

        A trailing delimiter (an unnamed, empty last column) is dropped in both layouts.

    Raises
    ------
    ExportError
        Naming the file and, where they apply, the row, the column, what was expected and what
        was found: an empty, unreadable or binary file; a layout that is neither current (row 3
        of ImportId JSON) nor legacy (first column id ``V1``); too few header rows; an empty or
        duplicate column id; header rows of different lengths; a data row with the wrong number
        of fields (a truncated file, a blank line); a value under the unnamed trailing column.

    Notes
    -----
    Choice text vs numeric values (domain reference 1.1.4): cells are returned as they are, so
    the same survey gives ``Finished`` ``"True"``/``"False"`` (choice text) or ``"1"``/``"0"``
    (numeric values), ``Status`` a label (``"IP Address"``, ``"Survey Preview"``...) or a code
    (``"0"``, ``"1"``...), and items a choice label (``"Several days"``) or the survey's recode
    value (``"2"``, not necessarily the instrument's score). Consumers must accept both forms
    (the exclusion rules do); mapping recodes to scores is the codebook's job. The legacy
    exporter's ``Status`` and ``Finished`` are codes (``0``, ``1``) in the sample.
    """
    source = DelimitedSource.open(path, encoding)
    records = source.head(4)
    if not records or not any(cell.strip() for cell in records[0]):
        raise ExportError(
            "the export is empty", file=source.path, expected="a Qualtrics CSV or TSV export"
        )
    first_cell = records[0][0].strip()
    if len(records) >= 3 and _import_id(records[2][0]) is not None:
        layout, header_rows = "current", 3
    elif first_cell == "V1":
        layout, header_rows = "legacy", 2
    elif len(records) < 3:
        raise ExportError(
            "too few header rows for a Qualtrics export",
            file=source.path,
            expected="3 header rows (column ids, question text, ImportId JSON), or 2 for a "
            "legacy export whose first column id is V1",
            found=f"{len(records)} rows in the whole file",
        )
    else:
        raise ExportError(
            "not a Qualtrics export: row 3 is not ImportId JSON (current layout) and the first "
            "column id is not V1 (legacy layout)",
            file=source.path,
            row=3,
            column=first_cell or "#1",
            expected='{"ImportId": "..."} in row 3, or "V1" as the first column id',
            found=_row3_cell(records[2][0]),
        )
    if len(records) < header_rows:
        raise ExportError(
            "too few header rows for a legacy Qualtrics export",
            file=source.path,
            expected="2 header rows (V1... column ids, then labels)",
            found=f"{len(records)} row in the whole file",
        )
    header = records[:header_rows]
    ids = named_columns(header, source.path)
    texts = header[1][: len(ids)]
    if layout == "current":
        import_ids = {}
        for position, (name, cell) in enumerate(zip(ids, header[2], strict=False)):
            import_id = _import_id(cell)
            if import_id is None:
                raise ExportError(
                    "row 3 is not Qualtrics ImportId JSON in every column",
                    file=source.path,
                    row=3,
                    column=name or f"#{position + 1}",
                    expected='{"ImportId": "..."}',
                    found=_row3_cell(cell),
                )
            import_ids[name] = import_id
        names = ids
    else:
        names, import_ids = _legacy_names(ids, texts)
    check_unique(names, ids, source.path)
    values = source.read_values(header_rows, names)
    return RawTable(
        path=source.path,
        values=values,
        question_text=dict(zip(names, texts, strict=True)),
        import_ids=import_ids,
        header_rows=header_rows,
        format="qualtrics",
        sha256=source.sha256,
    )


def _import_id(cell: str) -> str | None:
    """The ImportId of a row-3 cell, or None when the cell is not ImportId JSON."""
    try:
        parsed = json.loads(cell)
    except ValueError:
        return None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("ImportId"), str):
        return None
    return parsed["ImportId"]


def _row3_cell(cell: str) -> str:
    """A row-3 cell that is not ImportId JSON, described: in a file that is not a Qualtrics
    export, row 3 is a data row and may hold anything a respondent typed."""
    try:
        parsed = json.loads(cell)
    except ValueError:
        return describe_value(cell)
    if isinstance(parsed, dict) and "ImportId" in parsed:
        return 'JSON whose "ImportId" is not text'
    if isinstance(parsed, dict):
        return 'JSON without an "ImportId" key'
    return describe_value(cell)


def _legacy_names(ids: list[str], labels: list[str]) -> tuple[list[str], dict[str, str]]:
    """Current names for a legacy header, and new name -> original id for renamed columns."""
    names, originals = [], {}
    for column_id, label in zip(ids, labels, strict=True):
        new = LEGACY_METADATA.get(label.strip()) if _LEGACY_ID.fullmatch(column_id) else None
        if new is None:
            names.append(column_id)
        else:
            names.append(new)
            originals[new] = column_id
    return names, originals


def named_columns(header: list[list[str]], path: Path) -> list[str]:
    """Column ids of row 1 without a trailing empty one; checks the header rows' lengths.

    Parameters
    ----------
    header : list of list of str
        The header rows, row 1 first.
    path : Path
        The file, for error messages.

    Returns
    -------
    list of str
        Row 1's cells, less one trailing empty cell (a trailing delimiter).

    Raises
    ------
    ExportError
        If a header row has another number of fields than row 1 (one trailing empty field
        more or less is accepted), or a column id is empty.
    """
    ids = header[0]
    if len(ids) > 1 and ids[-1] == "":
        ids = ids[:-1]
    for number, row in enumerate(header[1:], start=2):
        if len(row) != len(ids) and not (len(row) == len(ids) + 1 and row[-1] == ""):
            raise ExportError(
                "the header rows have different numbers of fields",
                file=path,
                row=number,
                expected=f"{len(ids)} fields, as in row 1",
                found=f"{len(row)} fields",
            )
    for position, name in enumerate(ids, start=1):
        if not name.strip():
            raise ExportError(
                "a column has no id in the header",
                file=path,
                row=1,
                column=f"#{position}",
                expected="a column id in every column of row 1",
                found="an empty cell",
            )
    return list(ids)


def check_unique(names: list[str], ids: list[str], path: Path) -> None:
    """Raise :class:`ExportError` when two columns end up with the same name.

    Parameters
    ----------
    names : list of str
        The column names the reader gives (after any renaming).
    ids : list of str
        The ids as the file writes them, in the same order (named in the error).
    path : Path
        The file, for error messages.
    """
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            first = seen[name]
            found = (
                f"{name!r} twice (columns {first + 1} and {position + 1})"
                if ids[first] == ids[position]
                else f"{name!r} for columns {first + 1} ({ids[first]!r}) and {position + 1} "
                f"({ids[position]!r})"
            )
            raise ExportError(
                "duplicate column id in the header",
                file=path,
                row=1,
                column=name,
                expected="unique column ids",
                found=found,
            )
        seen[name] = position


@dataclass
class DelimitedSource:
    """A delimited text export, read fast: the header with :mod:`csv`, the data with pyarrow.

    Create it with :meth:`open`; use :meth:`head` for the first records and
    :meth:`read_values` for the data. Shared by the Qualtrics and SurveyMonkey readers.

    Attributes
    ----------
    path : Path
    data : bytes
        The file's bytes.
    sha256 : str
        SHA-256 of ``data``.
    delimiter : str
        ``"\\t"`` when the first line holds more tabs than commas, else ``","``.
    encoding : str or None
        The explicit encoding, if any.
    text : str or None
        The decoded text; None while the UTF-8 bytes are read directly.
    """

    path: Path
    data: bytes
    sha256: str
    delimiter: str = ","
    encoding: str | None = None
    text: str | None = None
    _offset: int = 0  # bytes before the text in ``data`` (a UTF-8 BOM)
    _head: str = ""  # decoded start of the file (the whole text in text mode)
    _complete: bool = False  # whether ``_head`` is the whole file
    _size: int = 0  # bytes decoded into ``_head`` (bytes mode)
    _ends: list[int] = field(default_factory=list)

    @classmethod
    def open(cls, path: str | Path, encoding: str | None = None) -> DelimitedSource:
        """Read a file's bytes and decide how to decode it.

        Parameters
        ----------
        path : str or Path
        encoding : str, optional
            Explicit codec name; otherwise detected (see :func:`read_qualtrics`).

        Returns
        -------
        DelimitedSource

        Raises
        ------
        ExportError
            If the file cannot be read, is binary, or does not decode.
        """
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ExportError("cannot read the export", file=path, found=str(exc)) from None
        source = cls(path=path, data=data, sha256=hashlib.sha256(data).hexdigest())
        source.encoding = encoding
        utf8 = encoding is None or _codec_name(encoding, path) in _UTF8
        if utf8 and data[:2] not in (b"\xff\xfe", b"\xfe\xff") and b"\x00" not in data[:4096]:
            source._offset = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
            if not source._decode_head(_PREFIX_BYTES):
                source._to_text()
        else:
            source._to_text()
        first = source._head.split("\n", 1)[0]
        source.delimiter = "\t" if first.count("\t") > first.count(",") else ","
        return source

    def _decode_head(self, size: int) -> bool:
        """Decode the first ``size`` bytes as UTF-8; False when they are not UTF-8."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        self._size = size
        end = self._offset + size
        self._complete = end >= len(self.data)
        try:
            self._head = decoder.decode(self.data[self._offset : end], final=self._complete)
        except UnicodeDecodeError:
            return False
        return True

    def _to_text(self) -> None:
        """Decode the whole file in Python (any encoding); from now on read from the text."""
        if self.text is None:
            self.text = decode_text(self.data, self.path, self.encoding)
            self._head, self._complete = self.text, True

    def head(self, count: int) -> list[list[str]]:
        """The first ``count`` records of the file (fewer if the file has fewer).

        Parameters
        ----------
        count : int

        Returns
        -------
        list of list of str
            The records as :mod:`csv` parses them; a blank line is an empty record.
        """
        while True:
            try:
                records, self._ends = _records(self._head, self.delimiter, count, self._complete)
                return records
            except _NeedMore:
                if not self._decode_head(2 * self._size):
                    self._to_text()
            except csv.Error as exc:
                raise ExportError(
                    "malformed header", file=self.path, found=str(exc), expected="CSV/TSV text"
                ) from None

    def read_values(self, header_rows: int, names: list[str]) -> pd.DataFrame:
        """The data rows, after ``header_rows`` header rows, as a DataFrame of strings.

        Parameters
        ----------
        header_rows : int
            Records before the first data row.
        names : list of str
            The column names, in file order.

        Returns
        -------
        DataFrame
            One column per name, every cell a string ("" when empty); the index is the 1-based
            data row number, named ``row_number``.

        Raises
        ------
        ExportError
            If a data row (a blank line included) has another number of fields than the
            first, or than the header; or if the column after the last name (a trailing
            delimiter) holds a value.
        """
        n = len(names)
        body = self._body(header_rows)
        if body is None:
            values = pd.DataFrame({i: pd.Series(dtype=str) for i in range(n)})
            values.columns = names
            values.index = pd.RangeIndex(1, 1, name="row_number")
            return values
        width = len(self.head(header_rows + 1)[header_rows])
        if width not in (n, n + 1):
            raise self._field_count_error(header_rows + 1, n, width)
        try:
            table = self._parse(body, width)
        except pa.ArrowInvalid as exc:
            if self.text is None:  # maybe not UTF-8: decode in Python, then parse again
                self._to_text()
                try:
                    table = self._parse(self._body(header_rows), width)
                except pa.ArrowInvalid as again:
                    raise self._diagnose(header_rows, width, n, again) from None
            else:
                raise self._diagnose(header_rows, width, n, exc) from None
        if _has_blank_rows(table):  # pyarrow reads a blank line as a row of empty fields
            error = self._bad_row(header_rows, width, n)
            if error is not None:
                raise error
        values = table.to_pandas()
        values.columns = range(width)
        if width == n + 1:
            extra = values[n].ne("")
            if extra.any():
                row = int(extra.to_numpy().argmax()) + 1
                raise ExportError(
                    "a value in the unnamed column after the last column id",
                    file=self.path,
                    row=header_rows + row,
                    column=f"#{n + 1}",
                    expected=f"{n} fields, or an empty field after them (a trailing delimiter)",
                    found=describe_value(values[n].iloc[row - 1]),
                )
            values = values.drop(columns=n)
        values.columns = names
        values.index = pd.RangeIndex(1, len(values) + 1, name="row_number")
        return values

    def _body(self, header_rows: int) -> pa.Buffer | None:
        """The data part as UTF-8 bytes, without trailing line breaks (None when empty)."""
        self.head(header_rows)
        start = self._ends[header_rows - 1] if header_rows else 0
        if self.text is not None:
            body = self.text[start:].rstrip("\r\n").encode("utf-8")
            return pa.py_buffer(body) if body else None
        begin = self._offset + len(self._head[:start].encode("utf-8"))
        end = len(self.data)
        while end > begin and self.data[end - 1] in b"\r\n":
            end -= 1
        return pa.py_buffer(memoryview(self.data)[begin:end]) if end > begin else None

    def _parse(self, body: pa.Buffer, width: int) -> pa.Table:
        # Fast path: pyarrow parses blocks in parallel only when no value holds a line break.
        # A quoted line break then splits a row, which changes its field count, and pyarrow
        # refuses it: the careful path below reads the file again allowing them.
        try:
            return self._parse_blocks(body, width, 1 << 20, newlines=False)
        except pa.ArrowInvalid:
            pass
        try:
            return self._parse_blocks(body, width, 1 << 20, newlines=True)
        except pa.ArrowInvalid as exc:
            if "straddl" not in str(exc):  # a row longer than a block: retry with larger ones
                raise
            return self._parse_blocks(body, width, 1 << 28, newlines=True)

    def _parse_blocks(
        self, body: pa.Buffer, width: int, block_size: int, newlines: bool
    ) -> pa.Table:
        columns = [f"f{i}" for i in range(width)]
        return pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(
                column_names=columns, use_threads=True, block_size=block_size
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=self.delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=newlines,
                ignore_empty_lines=False,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(columns, pa.large_string()),  # pandas "str" as is
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )

    def _diagnose(self, header_rows: int, width: int, n: int, exc: Exception) -> ExportError:
        """The error for data pyarrow refused: the first bad row, else pyarrow's message."""
        return self._bad_row(header_rows, width, n) or ExportError(
            "the data rows cannot be parsed",
            file=self.path,
            expected=f"{width} fields per row",
            found=redact_message(exc),
        )

    def _bad_row(self, header_rows: int, width: int, n: int) -> ExportError | None:
        """Name the first data row with a wrong number of fields (a slow pass, for errors)."""
        self._to_text()
        self.head(header_rows)
        start = self._ends[header_rows - 1] if header_rows else 0
        body = self.text[start:].rstrip("\r\n")
        _allow_long_fields()
        reader = csv.reader(_lines(body), delimiter=self.delimiter)
        number = 0
        try:
            for number, row in enumerate(reader, start=1):
                if len(row) != width:
                    return self._field_count_error(header_rows + number, n, len(row), width)
        except csv.Error as err:
            return ExportError(
                "malformed data row", file=self.path, row=header_rows + number + 1, found=str(err)
            )
        return None

    def _field_count_error(
        self, row: int, n: int, found: int, width: int | None = None
    ) -> ExportError:
        expected = f"{n} fields" if width in (None, n) else f"{n} fields and a trailing delimiter"
        if width is not None and width != n:
            expected += f" ({width} fields, as in the first data row)"
        return ExportError(
            "a data row has the wrong number of fields (truncated or malformed file?)",
            file=self.path,
            row=row,
            expected=expected,
            found=f"{found} fields" + (" (a blank line)" if found == 0 else ""),
        )


def _has_blank_rows(table: pa.Table) -> bool:
    """Whether some row has only empty fields (looked for among rows whose first one is)."""
    candidates = table.filter(pc.equal(table.column(0), ""))
    for position in range(1, table.num_columns):
        if not len(candidates):
            return False
        candidates = candidates.filter(pc.equal(candidates.column(position), ""))
    return len(candidates) > 0


class _NeedMore(Exception):
    """The decoded start of the file ended inside the records asked for."""


def _records(
    text: str, delimiter: str, count: int, complete: bool
) -> tuple[list[list[str]], list[int]]:
    """The first ``count`` records of ``text`` and the offset just after each one."""
    position = 0

    def lines():
        nonlocal position
        while True:
            end = text.find("\n", position)
            if end < 0:
                if not complete:
                    raise _NeedMore
                if position < len(text):
                    line, position = text[position:], len(text)
                    yield line
                return
            line, position = text[position : end + 1], end + 1
            yield line

    records, ends = [], []
    if count <= 0:
        return records, ends
    _allow_long_fields()
    for row in csv.reader(lines(), delimiter=delimiter):
        records.append(row)
        ends.append(position)
        if len(records) == count:
            break
    return records, ends


def _allow_long_fields() -> None:
    """Let :mod:`csv` read fields longer than its default 128 KiB limit (a process setting,
    only ever raised): long free-text answers and question texts are legitimate."""
    if csv.field_size_limit() < _FIELD_LIMIT:
        csv.field_size_limit(_FIELD_LIMIT)


def _lines(text: str):
    """Lines of ``text`` with their line endings, lazily."""
    position = 0
    while position < len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end + 1
        yield text[position:end]
        position = end


def _codec_name(encoding: str, path: Path) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        decode_text(b"", path, encoding)  # raises the standard error for an unknown codec
        raise
