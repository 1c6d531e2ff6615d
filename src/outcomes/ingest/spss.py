"""SPSS ``.sav`` (and ``.zsav``) exports, read with pyreadstat (domain reference 1.4).

The file is read with ``user_missing=True``, so user-defined missing values stay visible as
their codes and are listed in ``missing_codes``; system-missing values become "". Variable
labels are the question text, value labels the ``value_labels``. Cells are strings formatted by
:func:`outcomes.ingest.tabular.cell_text`, and value-label codes and missing codes are formatted
the same way, so ``"1"`` in ``values`` is the ``"1"`` of the labels.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyreadstat

from outcomes.errors import ExportError
from outcomes.ingest.rawtable import RawTable
from outcomes.ingest.tabular import cell_text
from outcomes.redact import redact_message
from outcomes.tables import file_sha256


@dataclass
class SpssTable(RawTable):
    """A :class:`RawTable` read from an SPSS file, with its user-missing ranges.

    Attributes
    ----------
    missing_ranges : dict
        Column -> list of ``(lo, hi)`` float pairs, the user-missing *ranges* (``lo < hi``) the
        file declares, inclusive, as SPSS defines them (e.g. ``MISSING VALUES x (2000 THRU
        3000)``). Discrete missing values are not repeated here. Every value of the file (and
        every labelled code) inside a range is already in ``missing_codes``, so consumers of
        this file need only ``missing_codes``; the ranges document the declaration.
    """

    missing_ranges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)


def read_spss(path: str | Path) -> SpssTable:
    """Read an SPSS ``.sav`` or ``.zsav`` file.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    SpssTable
        A :class:`~outcomes.ingest.rawtable.RawTable` with ``format = "spss"`` and
        ``header_rows = 0``: the row number is the case number (1-based). Besides:

        ``values``
            Every cell as a string (:func:`~outcomes.ingest.tabular.cell_text`): numbers
            without a fractional part as integers (``1.0`` -> ``"1"``, ``-1.0`` -> ``"-1"``),
            others in the shortest form that reads back as the same double (``"1.1"``,
            ``"-1000.3"``); system-missing -> ``""``; dates ``"2018-05-06"``, date-times
            ``"2018-05-06 10:10:10"``, times ``"10:10:10"`` (ISO 8601, fractional seconds only
            when present); strings unchanged (an empty string stays ``""``). User-missing
            values keep their codes.
        ``question_text``
            The variable label, or the variable name when it has none.
        ``value_labels``
            ``{column: {code: label}}`` from the value labels, codes formatted as the values.
        ``missing_codes``
            ``{column: {code, ...}}``, the user-defined missing values: every discrete value,
            and, for a range ``lo THRU hi``, every value in the column and every labelled code
            that lies in it (so that the set is complete for this file without expanding
            ranges). Only columns with user-missing values appear.
        ``missing_ranges``
            The ranges themselves, ``{column: [(lo, hi), ...]}`` (see :class:`SpssTable`).
        ``identifiers``
            Empty: an SPSS file does not mark identifying variables (they are recognised by
            name downstream, domain reference 4.1).

    Raises
    ------
    ExportError
        If the file cannot be read, is empty, or is not an SPSS system file.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ExportError("cannot read the export", file=path, found=str(exc)) from None
    if size == 0:
        raise ExportError(
            "the export is empty", file=path, expected="an SPSS .sav file", found="0 bytes"
        )
    try:
        frame, meta = pyreadstat.read_sav(str(path), user_missing=True)
    except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, UnicodeError, OSError) as exc:
        raise ExportError(
            "cannot read the file as an SPSS system file",
            file=path,
            expected="an SPSS .sav or .zsav file",
            found=f"{type(exc).__name__}: {redact_message(exc)}",
        ) from None

    names = [str(c) for c in frame.columns]
    values = pd.DataFrame(
        {name: pd.Series([cell_text(v) for v in frame[name].tolist()], dtype=str) for name in names}
    )
    values.index = pd.RangeIndex(1, len(frame) + 1, name="row_number")

    labels = meta.column_names_to_labels or {}
    question_text = {name: labels.get(name) or name for name in names}
    value_labels = {
        column: {cell_text(code): str(label) for code, label in mapping.items()}
        for column, mapping in (meta.variable_value_labels or {}).items()
    }

    missing_codes: dict[str, set[str]] = {}
    missing_ranges: dict[str, list[tuple[float, float]]] = {}
    for column, declared in (meta.missing_ranges or {}).items():
        codes: set[str] = set()
        for entry in declared:
            lo, hi = entry["lo"], entry["hi"]
            if lo == hi:
                codes.add(cell_text(lo))
            elif isinstance(lo, numbers.Real) and isinstance(hi, numbers.Real):
                missing_ranges.setdefault(column, []).append((float(lo), float(hi)))
        ranges = missing_ranges.get(column, [])
        if ranges and pd.api.types.is_numeric_dtype(frame[column]):
            candidates = set(frame[column].dropna().tolist())
            candidates |= {c for c in meta.variable_value_labels.get(column, {}) if _is_number(c)}
            codes |= {cell_text(v) for v in candidates if any(lo <= v <= hi for lo, hi in ranges)}
        if codes:
            missing_codes[column] = codes

    return SpssTable(
        path=path,
        values=values,
        question_text=question_text,
        header_rows=0,
        format="spss",
        sha256=file_sha256(path),
        value_labels=value_labels,
        missing_codes=missing_codes,
        missing_ranges=missing_ranges,
    )


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)
