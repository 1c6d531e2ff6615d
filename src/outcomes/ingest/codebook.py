"""Map export columns to study variables, and answer labels to item values.

Item answers are mapped by their *label* through the instrument's key, never by the export's
numeric codes (Qualtrics recode values can be anything). A code becomes a label first, through
the labels the file carries (SPSS value labels, a REDCap dictionary) or those declared for the
source in the config (``value_labels``). Blank cells, the file's declared missing codes and the
cohort's ``missing_values`` become missing. An answer that is not in the key stops the run with
the file, row and column; a number outside a numeric instrument's range is quarantined: the row
is excluded as ``out_of_range`` and the ledger names the cell.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from outcomes.config import Cohort, Outcome, Source, expand_columns
from outcomes.errors import ExportError
from outcomes.ingest.rawtable import RawTable
from outcomes.instruments.registry import normalize_label


@dataclass(frozen=True)
class ColumnMap:
    """The export columns of one source for every variable of the cohort."""

    respondent_id: str
    group: str
    cluster: str | None
    covariates: dict[str, str]
    outcomes: dict[str, tuple[str, ...]]

    def used(self) -> set[str]:
        names = {self.respondent_id, self.group, *self.covariates.values()}
        names |= {c for cols in self.outcomes.values() for c in cols}
        return names | ({self.cluster} if self.cluster else set())


def apply_source_settings(raw: RawTable, source: Source) -> RawTable:
    """Rename columns and add the source's declared value labels (config ``rename`` and
    ``value_labels``)."""
    missing = [c for c in source.rename if c not in raw.values.columns]
    if missing:
        raise ExportError(
            "a column to rename (sources.rename) is not in the export",
            file=raw.path,
            row=raw.header_rows or None,
            column=missing[0],
            expected=f"a column {missing[0]!r}",
            found=_close(missing[0], raw.values.columns),
        )
    rename = dict(source.rename)

    def renamed(mapping):
        return {rename.get(k, k): v for k, v in mapping.items()}

    labels = renamed(raw.value_labels)
    for pattern, codes in source.value_labels.items():
        for column in raw.values.columns.map(lambda c: rename.get(c, c)):
            if fnmatch.fnmatchcase(column, pattern):
                labels[column] = {str(k): str(v) for k, v in codes.items()}
    return replace(
        raw,
        values=raw.values.rename(columns=rename),
        question_text=renamed(raw.question_text),
        import_ids=renamed(raw.import_ids),
        value_labels=labels,
        missing_codes=renamed(raw.missing_codes),
        identifiers={rename.get(c, c) for c in raw.identifiers},
    )


def resolve_columns(raw: RawTable, cohort: Cohort) -> ColumnMap:
    """Find every configured column in the export.

    Raises
    ------
    ExportError
        Naming the config key and the missing column (with similar names), or a selector that
        matches the wrong number of columns.
    """
    header = list(raw.values.columns)

    def need(column: str, key: str) -> str:
        if column not in raw.values.columns:
            raise ExportError(
                f"a column named in the cohort config ({key}) is not in the export",
                file=raw.path,
                row=raw.header_rows or None,
                column=column,
                expected=f"a column {column!r}",
                found=_close(column, header),
            )
        return column

    outcomes = {}
    for outcome in cohort.outcomes:
        key = f"outcomes.{outcome.name}.columns"
        if outcome.columns is not None:
            outcomes[outcome.name] = tuple(need(c, key) for c in outcome.columns)
        else:
            outcomes[outcome.name] = _select(raw, outcome, key)
    return ColumnMap(
        respondent_id=need(cohort.respondent_id, "respondent_id"),
        group=need(cohort.group_column, "group.column"),
        cluster=need(cohort.cluster, "cluster") if cohort.cluster else None,
        covariates={
            name: need(spec["column"], f"covariates.{name}.column")
            for name, spec in cohort.covariates.items()
        },
        outcomes=outcomes,
    )


def _select(raw: RawTable, outcome: Outcome, key: str) -> tuple[str, ...]:
    ((kind, pattern),) = outcome.selector.items()
    header = list(raw.values.columns)
    if kind == "regex":
        found = [c for c in header if re.search(pattern, c)]
    elif kind == "text":
        needle = normalize_label(pattern)
        found = [c for c in header if needle in normalize_label(raw.question_text.get(c, ""))]
    else:  # import_id
        wanted = expand_columns(pattern)
        by_id = {v: k for k, v in raw.import_ids.items()}
        found = [by_id[i] for i in wanted if i in by_id]
    if len(found) != outcome.n_items:
        raise ExportError(
            f"the column selector of {outcome.name} does not match one column per item",
            file=raw.path,
            row=raw.header_rows or None,
            column=key,
            expected=f"{outcome.n_items} columns for {outcome.instrument.name} ({kind}: "
            f"{pattern!r})",
            found=f"{len(found)}: {found[:12]}",
        )
    return tuple(found)


def _close(column: str, header) -> str:
    close = difflib.get_close_matches(column, list(header), n=3)
    return "no such column" + (f" (similar: {close})" if close else "")


def labelled(raw: RawTable, column: str, rows=None) -> pd.Series:
    """The cells of a column as answer text: file-declared missing codes blanked, codes
    replaced by their labels where the file or the config gives labels."""
    cells = raw.values[column] if rows is None else raw.values.loc[rows, column]
    cells = cells.astype(object).str.strip()
    missing = raw.missing_codes.get(column)
    labels = raw.value_labels.get(column)
    if not missing and not labels:
        return cells
    codes, uniques = pd.factorize(cells)
    uniques = pd.Series(uniques, dtype=object)
    if missing:
        uniques = uniques.where(~uniques.isin({str(m) for m in missing}), "")
    if labels:
        uniques = uniques.map(lambda v: labels.get(v, v))
    mapped = uniques.to_numpy(dtype=object)[codes] if len(uniques) else cells.to_numpy()
    return pd.Series(mapped, index=cells.index, dtype=object)


def map_rows(
    raw: RawTable, cohort: Cohort, columns: ColumnMap, rows: pd.Index
) -> tuple[pd.DataFrame, pd.Series]:
    """Study variables for the given data rows.

    Returns
    -------
    mapped : DataFrame
        Indexed by row number; columns ``group`` (``participant``/``comparison``),
        ``cluster``, one per covariate (float for numeric, string for categorical and for
        coarsened dates), and one per item named ``{outcome}_{item}`` (float; NaN missing).
    quarantine : Series
        Row number -> ``"<column>=<value>"`` for rows holding a number outside a numeric
        instrument's range; those rows are to be excluded as ``out_of_range``.
    """
    mapped = pd.DataFrame(index=rows)
    missing = {normalize_label(v) for v in cohort.missing_values}
    group = labelled(raw, columns.group, rows)
    mapped["group"] = np.where(group.isin(cohort.participant_values), "participant", "comparison")
    mapped["cluster"] = (
        _text(labelled(raw, columns.cluster, rows), missing) if columns.cluster else None
    )
    for name, spec in cohort.covariates.items():
        cells = labelled(raw, columns.covariates[name], rows)
        if spec["type"] == "numeric":
            mapped[name] = _numbers(raw, cells, missing)
        elif spec["type"] == "date":
            mapped[name] = _coarse_dates(raw, cells, missing, spec.get("coarsen", "month"))
        else:
            mapped[name] = _text(cells, missing)
    quarantine = pd.Series(dtype=object)
    for outcome in cohort.outcomes:
        cols = columns.outcomes[outcome.name]
        for column, item_name in zip(cols, outcome.item_names, strict=True):
            cells = labelled(raw, column, rows)
            if outcome.instrument.kind == "numeric":
                values = _numbers(raw, cells, missing)
                lo, hi = outcome.instrument.range
                out = values.lt(lo) | values.gt(hi)
                details = column + "=" + cells[out].astype(str)
                quarantine = pd.concat([quarantine, details[~details.index.isin(quarantine.index)]])
                mapped[item_name] = values.where(~out)
            else:
                mapped[item_name] = _item_values(raw, cells, outcome, missing)
    return mapped, quarantine.sort_index()


def _text(cells: pd.Series, missing: set[str]) -> pd.Series:
    keep = cells.ne("") & ~cells.map(normalize_label).isin(missing)
    return cells.where(keep, None).astype(object)


def _numbers(raw: RawTable, cells: pd.Series, missing: set[str]) -> pd.Series:
    blank = cells.eq("") | cells.map(normalize_label).isin(missing)
    number = pd.to_numeric(cells.where(~blank, None), errors="coerce")
    bad = number.isna() & ~blank
    if bad.any():
        row = bad.idxmax()
        raise ExportError(
            "a text value in a numeric column",
            file=raw.path,
            row=raw.line_of(row),
            column=cells.name,
            expected="a number",
            found=repr(cells[row]),
        )
    return number.astype(float)


def _coarse_dates(raw: RawTable, cells: pd.Series, missing: set[str], coarsen: str):
    blank = cells.eq("") | cells.map(normalize_label).isin(missing)
    parsed = pd.to_datetime(cells.where(~blank, None), errors="coerce", format="ISO8601")
    bad = parsed.isna() & ~blank
    if bad.any():
        row = bad.idxmax()
        raise ExportError(
            "a value that is not an ISO date (YYYY-MM-DD[ HH:MM:SS])",
            file=raw.path,
            row=raw.line_of(row),
            column=cells.name,
            expected=f"an ISO 8601 date, e.g. {date(2026, 9, 14)}",
            found=repr(cells[row]),
        )
    text = parsed.dt.strftime("%Y-%m" if coarsen == "month" else "%Y")
    return text.where(~blank, None).astype(object)


def _item_values(raw: RawTable, cells: pd.Series, outcome: Outcome, missing: set[str]):
    codes, uniques = pd.factorize(cells)
    normalized = pd.Series(uniques, dtype=object).map(normalize_label)
    lookup = outcome.instrument._label_lookup
    declared_missing = normalized.isin(missing)
    values = normalized.map(lookup).astype(float).where(~declared_missing)
    unknown = values.isna() & normalized.ne("") & ~declared_missing
    if unknown.any():
        bad_value = uniques[int(np.flatnonzero(unknown.to_numpy())[0])]
        row = cells.index[np.flatnonzero(cells.to_numpy() == bad_value)[0]]
        raise ExportError(
            f"an answer that is not in the response key of {outcome.instrument.name}",
            file=raw.path,
            row=raw.line_of(row),
            column=cells.name,
            expected=f"one of {list(outcome.instrument.responses)}, blank, or a declared "
            "missing value (missing_values in the cohort config); numeric codes need labels "
            "(value_labels in the source config)",
            found=repr(bad_value),
        )
    result = values.to_numpy()[codes] if len(values) else np.full(len(cells), np.nan)
    return pd.Series(np.where(codes < 0, np.nan, result), index=cells.index, dtype=float)
