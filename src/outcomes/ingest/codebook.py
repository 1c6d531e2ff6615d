"""Map export columns to study variables, and answer labels to item values.

Item answers are mapped by their *label* through the instrument's key, never by the export's
numeric codes (Qualtrics recode values can be anything). Blank cells and the cohort's declared
missing values become missing. Anything else that is not in the key stops the run with the
file, row and column.
"""

from __future__ import annotations

import difflib

import numpy as np
import pandas as pd

from outcomes.config import Cohort, Outcome
from outcomes.errors import ExportError
from outcomes.ingest.rawtable import RawTable
from outcomes.instruments.registry import normalize_label


def mapped_columns(cohort: Cohort) -> dict[str, str]:
    """Every export column the cohort config uses -> the config key that names it."""
    used = {cohort.respondent_id: "respondent_id", cohort.group_column: "group.column"}
    if cohort.cluster:
        used[cohort.cluster] = "cluster"
    for name, spec in cohort.covariates.items():
        used[spec["column"]] = f"covariates.{name}.column"
    for outcome in cohort.outcomes:
        for column in outcome.columns:
            used[column] = f"outcomes.{outcome.name}.columns"
    return used


def check_columns(raw: RawTable, cohort: Cohort) -> None:
    """Raise if a column named in the config is not in the export."""
    for column, key in mapped_columns(cohort).items():
        if column not in raw.values.columns:
            close = difflib.get_close_matches(column, list(raw.values.columns), n=3)
            raise ExportError(
                f"a column named in the cohort config ({key}) is not in the export",
                file=raw.path,
                row=1,
                column=column,
                expected=f"a column {column!r}" + (f" (similar: {close})" if close else ""),
                found=f"{len(raw.values.columns)} columns, none named {column!r}",
            )


def map_rows(raw: RawTable, cohort: Cohort, rows: pd.Index) -> pd.DataFrame:
    """Study variables for the given data rows.

    Returns
    -------
    DataFrame
        Indexed by row number; columns ``group`` (``participant``/``comparison``),
        ``cluster``, one per covariate (float for numeric, string for categorical), and one
        per item named ``{outcome}_{item}`` (float item values; NaN when missing).
    """
    values = raw.values.loc[rows]
    mapped = pd.DataFrame(index=rows)
    group = values[cohort.group_column].str.strip()
    mapped["group"] = np.where(group.isin(cohort.participant_values), "participant", "comparison")
    missing = {normalize_label(v) for v in cohort.missing_values}
    if cohort.cluster:
        mapped["cluster"] = _text(values[cohort.cluster], missing)
    else:
        mapped["cluster"] = None
    for name, spec in cohort.covariates.items():
        column = values[spec["column"]]
        if spec["type"] == "numeric":
            mapped[name] = _numbers(raw, column, missing)
        else:
            mapped[name] = _text(column, missing)
    for outcome in cohort.outcomes:
        for column, item_name in zip(outcome.columns, outcome.item_names, strict=True):
            mapped[item_name] = _item_values(raw, values[column], outcome, missing)
    return mapped


def _text(column: pd.Series, missing: set[str]) -> pd.Series:
    text = column.str.strip()
    return text.where(text.ne("") & ~text.map(normalize_label).isin(missing), None).astype(object)


def _numbers(raw: RawTable, column: pd.Series, missing: set[str], outcome=None) -> pd.Series:
    text = column.str.strip()
    blank = text.eq("") | text.map(normalize_label).isin(missing)
    number = pd.to_numeric(text.where(~blank, None), errors="coerce")
    bad = number.isna() & ~blank
    if bad.any():
        row = bad.idxmax()
        raise ExportError(
            "a text value in a numeric column",
            file=raw.path,
            row=raw.line_of(row),
            column=column.name,
            expected="a number" + (f" ({outcome.instrument.name})" if outcome else ""),
            found=repr(text[row]),
        )
    if outcome is not None:
        lo, hi = outcome.instrument.range
        out = number.lt(lo) | number.gt(hi)
        if out.any():
            row = out.idxmax()
            raise ExportError(
                f"a value outside the range of {outcome.instrument.name}",
                file=raw.path,
                row=raw.line_of(row),
                column=column.name,
                expected=f"{lo:g} to {hi:g}",
                found=repr(text[row]),
            )
    return number.astype(float)


def _item_values(raw: RawTable, column: pd.Series, outcome: Outcome, missing: set[str]):
    if outcome.instrument.kind == "numeric":
        return _numbers(raw, column, missing, outcome)
    normalized = column.map(normalize_label)
    lookup = outcome.instrument._label_lookup
    value = normalized.map(lookup)
    unknown = value.isna() & normalized.ne("") & ~normalized.isin(missing)
    if unknown.any():
        row = unknown.idxmax()
        raise ExportError(
            f"an answer that is not in the response key of {outcome.instrument.name}",
            file=raw.path,
            row=raw.line_of(row),
            column=column.name,
            expected=f"one of {list(outcome.instrument.responses)}, blank, or a declared "
            "missing value (missing_values in the cohort config)",
            found=repr(column[row]),
        )
    return value.astype(float)
