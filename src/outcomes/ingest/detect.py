"""Sniff an export's encoding and format; an explicit setting in the config always wins."""

from __future__ import annotations

import codecs
import logging
import re
from pathlib import Path

from outcomes.errors import ExportError

log = logging.getLogger(__name__)


def decode_text(data: bytes, path: str | Path, encoding: str | None = None) -> str:
    """Decode an export's bytes.

    Order: an explicit ``encoding`` (from the config); a UTF-16 BOM (``FF FE``/``FE FF``) ->
    UTF-16; UTF-8 with or without BOM; otherwise Latin-1 (cp1252, the Windows superset), with
    a warning in the log, since a legacy export re-saved by Excel is the usual cause.

    Raises
    ------
    ExportError
        For an unknown encoding name, bytes that do not decode with the explicit encoding,
        binary content (NUL bytes outside UTF-16, near the start or on any later line), or a
        file that mixes valid UTF-8 with bytes that are not UTF-8 (naming the first bad line).
    """
    if encoding is not None:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ExportError(
                "unknown encoding in the config",
                file=path,
                column="encoding",
                expected="a Python codec name such as utf-8, utf-16, latin-1, cp1252",
                found=repr(encoding),
            ) from None
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError as exc:
            raise _undecodable(data, path, exc, encoding) from None
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _undecodable(data, path, exc, "utf-16") from None
    if b"\x00" in data[:4096]:
        raise ExportError(
            "the file looks binary, not a text export",
            file=path,
            expected="a text export (CSV/TSV) in UTF-8, UTF-16 or Latin-1",
            found="NUL bytes near the start (is it an .xlsx, .sav or .parquet file?)",
        )
    nul = data.find(b"\x00")
    if nul >= 0:  # a NUL later in a text file: a damaged or concatenated export
        raise ExportError(
            "the file holds a NUL byte (a damaged export?)",
            file=path,
            row=data[:nul].count(b"\n") + 1,
            expected="text without NUL bytes (export the survey again)",
            found=f"a NUL byte at offset {nul}",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if _has_utf8_sequences(data):
            # Valid UTF-8 beside bytes that are not: two encodings in one file (rows pasted
            # from another program). Reading it either way would garble one part silently.
            line = data[: exc.start].count(b"\n") + 1
            raise ExportError(
                "the file mixes UTF-8 with another encoding",
                file=path,
                row=line,
                expected="one encoding for the whole file (save it again as UTF-8), or "
                "encoding: in the source config to read it as that one",
                found=f"byte {data[exc.start]:#04x} at offset {exc.start}, which is not "
                "UTF-8, in a file that is otherwise UTF-8",
            ) from None
        log.warning("%s is not UTF-8; read as Windows-1252 (Latin-1)", Path(path).name)
        return (
            data.decode("cp1252", errors="strict") if _cp1252_ok(data) else data.decode("latin-1")
        )


_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _has_utf8_sequences(data: bytes) -> bool:
    """Whether ``data`` holds at least one well-formed multi-byte UTF-8 character (a genuine
    Windows-1252 file almost never does: its accented letters are single bytes)."""
    return _UTF8_MULTIBYTE.search(data) is not None


def _cp1252_ok(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _undecodable(data: bytes, path, exc: UnicodeDecodeError, encoding: str) -> ExportError:
    line = data[: exc.start].count(b"\n") + 1
    return ExportError(
        f"the file is not valid {encoding}",
        file=path,
        row=line,
        expected=f"text encoded as {encoding}",
        found=f"byte {data[exc.start]:#04x} at offset {exc.start}",
    )


def sniff_format(path: str | Path, encoding: str | None = None) -> str:
    """Guess an export's format from its extension and, for text files, its header.

    ``.sav`` -> spss, ``.xlsx`` -> xlsx, ``.parquet`` -> parquet. For text: a third row of
    ``{"ImportId": ...}`` JSON or a first cell ``V1`` -> qualtrics; ``Respondent ID`` and
    ``Collector ID`` in the first row -> surveymonkey; ``redcap_event_name``,
    ``redcap_repeat_instrument``, a ``*_complete`` or ``*___<code>`` column -> redcap;
    otherwise csv (or tsv when the first line has more tabs than commas).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".sav", ".zsav"}:
        return "spss"
    if suffix in {".xlsx", ".xlsm"}:
        return "xlsx"
    if suffix == ".parquet":
        return "parquet"
    lines = _first_records(path, encoding)
    first = lines[0] if lines else ""
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    cells = [c.strip().strip('"') for c in first.split(delimiter)]
    if len(lines) > 2 and '"ImportId"' in lines[2].replace('""', '"'):
        return "qualtrics"
    if cells and cells[0] == "V1":
        return "qualtrics"
    if "Respondent ID" in cells and "Collector ID" in cells:
        return "surveymonkey"
    if any(
        c in ("redcap_event_name", "redcap_repeat_instrument") or c.endswith("_complete")
        or "___" in c
        for c in cells
    ):  # fmt: skip
        return "redcap"
    return "tsv" if delimiter == "\t" else "csv"


def _first_records(path: Path, encoding: str | None, wanted: int = 3) -> list[str]:
    """The first ``wanted`` CSV records of a text file, reading only as much as needed: the
    header rows of a wide survey can be megabytes, and quoted cells may hold line breaks.
    Decoding is lenient here (a chunk may end inside a character): sniffing needs names only.
    """
    limit = 64 * 1024
    with open(path, "rb") as handle:
        head = handle.read(limit)
        while True:
            utf16 = head[:2] in (b"\xff\xfe", b"\xfe\xff")
            codec = "utf-16" if utf16 else (encoding or "utf-8-sig")
            body = head[: len(head) - len(head) % 2] if utf16 else head
            records = _split_records(body.decode(codec, errors="ignore"))
            if len(records) > wanted or len(head) < limit or limit >= 64 * 2**20:
                return records[:wanted]
            head += handle.read(limit)
            limit *= 2


def _split_records(text: str) -> list[str]:
    """Split text into CSV records (line breaks inside double quotes do not end a record)."""
    records, start, quoted = [], 0, False
    for position, char in enumerate(text):
        if char == '"':
            quoted = not quoted
        elif char == "\n" and not quoted:
            records.append(text[start:position].rstrip("\r"))
            start = position + 1
    if start < len(text):
        records.append(text[start:])
    return records
