"""Map export columns to study variables, and answer labels to item values.

Item answers are mapped by their *label* through the instrument's key, never by the export's
numeric codes (Qualtrics recode values can be anything). A code becomes a label first, through
the labels the file carries (SPSS value labels, a REDCap dictionary) or those declared for the
source in the config (``value_labels``). Blank cells, the file's declared missing codes and the
cohort's ``missing_values`` become missing. An answer that is not in the key stops the run with
the file, row and column; a number outside a numeric instrument's range is quarantined: the row
is excluded as ``out_of_range`` and the ledger names the column and the kind of value.

No message and no ledger detail quotes a cell: a cell is described by
:func:`outcomes.redact.describe_value` (``'an email address'``, ``'a 10-digit number'``,
``'text of 15 characters (2 words)'``); only labels from a fixed answer key (the instrument's
responses, the value labels of the file or the config) are shown as they are.
"""

from __future__ import annotations

import difflib
import fnmatch
import logging
import re
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from outcomes.config import Cohort, Outcome, Source, expand_columns
from outcomes.errors import ExportError
from outcomes.ingest.rawtable import RawTable
from outcomes.instruments.registry import normalize_label
from outcomes.redact import describe_value

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ColumnMap:
    """The export columns of one source for every variable of the cohort."""

    respondent_id: str
    group: str | None
    cluster: str | None
    covariates: dict[str, str | None]
    outcomes: dict[str, tuple[str, ...]]

    def used(self) -> set[str]:
        names = {self.respondent_id, *(c for c in self.covariates.values() if c)}
        names |= {self.group} if self.group else set()
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


def resolve_columns(
    raw: RawTable, cohort: Cohort, waves: tuple[str, ...] | None = None
) -> ColumnMap:
    """Find every configured column in the export.

    ``waves`` are the waves the export holds. An export of later waves only (neither the
    assignment nor the baseline wave) may lack the cluster and covariate columns, and - when
    none of its waves needs the group recorded
    (:meth:`outcomes.config.Cohort.group_required`) - the group column: they are None in the
    map, and the analysis takes them from the assignment (or baseline) wave.

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
    # Background columns of a student (group, cluster, covariates) come from the assignment
    # and baseline waves; an export holding only later waves may leave them out.
    later_only = waves is not None and not any(
        w in (cohort.plan.assignment_wave, cohort.plan.baseline_wave) for w in waves
    )

    def background(column: str, key: str, required: bool = False) -> str | None:
        if column in raw.values.columns or not later_only or required:
            return need(column, key)
        log.info("%s: no column %r (%s); taken from the assignment wave", raw.path.name,
                 column, key)  # fmt: skip
        return None

    group_required = waves is None or any(cohort.group_required(w) for w in waves)
    return ColumnMap(
        respondent_id=need(cohort.respondent_id, "respondent_id"),
        group=background(cohort.group_column, "group.column", group_required),
        cluster=background(cohort.cluster, "cluster") if cohort.cluster else None,
        covariates={
            name: background(spec["column"], f"covariates.{name}.column")
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


def labelled(raw: RawTable, column: str, positions: np.ndarray | None = None) -> pd.Series:
    """The cells of a column as answer text: stripped, file-declared missing codes blanked,
    codes replaced by their labels where the file or the config gives labels.

    Parameters
    ----------
    raw : RawTable
    column : str
    positions : array of int, optional
        Positions (not labels) of the rows wanted in ``raw.values``; all rows when None.

    Returns
    -------
    Series
        Categorical, one category per distinct answer among the rows wanted, so that every
        further step works on the few distinct answers, not on every cell.
    """
    codes, uniques = pd.factorize(raw.values[column])  # whole column: cheaper than a take
    if positions is not None:
        codes = codes[positions]
    texts = pd.Series(uniques, dtype=object).str.strip()
    if (codes < 0).any():  # readers give "" for empty; a null is treated the same
        texts = pd.concat([texts, pd.Series([""], dtype=object)], ignore_index=True)
        codes = np.where(codes < 0, len(texts) - 1, codes)
    missing = raw.missing_codes.get(column)
    if missing:
        texts = texts.where(~texts.isin({str(m) for m in missing}), "")
    labels = raw.value_labels.get(column)
    if labels:
        texts = texts.map(lambda v: labels.get(v, v))
    remap, categories = pd.factorize(texts)
    codes = remap[codes]
    if positions is not None:
        # Only the answers of these rows: an excluded row's odd value must not stop the run.
        used = np.bincount(codes, minlength=len(categories)) > 0
        categories, codes = categories[used], (np.cumsum(used) - 1)[codes]
    answers = pd.Categorical.from_codes(codes, categories=pd.Index(categories, dtype=object))
    index = raw.values.index if positions is None else raw.values.index[positions]
    return pd.Series(answers, index=index, name=column)


def _per_category(cells: pd.Series, values: pd.Series) -> pd.Series:
    """Spread per-category ``values`` (aligned with ``cells.cat.categories``) to every cell."""
    taken = values.to_numpy()[cells.cat.codes.to_numpy()]
    return pd.Series(taken, index=cells.index, name=cells.name, dtype=values.dtype)


def _first_row(cells: pd.Series, category_mask) -> object:
    """Row label of the first cell whose category is flagged."""
    flagged = np.asarray(category_mask)[cells.cat.codes.to_numpy()]
    return cells.index[int(np.flatnonzero(flagged)[0])]


def map_rows(
    raw: RawTable, cohort: Cohort, columns: ColumnMap, rows: pd.Index
) -> tuple[pd.DataFrame, pd.Series]:
    """Study variables for the given data rows.

    Returns
    -------
    mapped : DataFrame
        Indexed by row number; columns ``group`` (``participant``/``comparison``; None
        where a wave that does not need it leaves it blank or has no group column),
        ``cluster``, one per covariate (float for numeric, string for categorical and for
        coarsened dates), and one per item named ``{outcome}_{item}`` (float; NaN missing).
    quarantine : Series
        Row number -> ``"<column>: a number outside <lo>-<hi> (<kind of value>, above the
        range)"`` (e.g. ``"gpa: a number outside 0-4 (a 10-digit number, above the range)"``)
        for rows holding a number outside a numeric instrument's range; those rows are to be
        excluded as ``out_of_range``. The value itself is never written
        (:func:`outcomes.redact.describe_value`).
    """
    mapped = pd.DataFrame(index=rows)
    missing = {normalize_label(v) for v in cohort.missing_values}
    positions = raw.values.index.get_indexer(rows)
    if columns.group is None:
        mapped["group"] = None
    else:
        group = labelled(raw, columns.group, positions)
        mapped["group"] = np.where(
            group.isin(cohort.participant_values),
            "participant",
            np.where(group.isin(cohort.comparison_values), "comparison", None),
        )
    mapped["cluster"] = (
        _text(labelled(raw, columns.cluster, positions), missing) if columns.cluster else None
    )
    for name, spec in cohort.covariates.items():
        if columns.covariates[name] is None:  # not in this (later-wave) export
            mapped[name] = np.nan if spec["type"] == "numeric" else None
            continue
        cells = labelled(raw, columns.covariates[name], positions)
        if spec["type"] == "numeric":
            mapped[name] = numeric_values(raw, cells, missing)
        elif spec["type"] == "date":
            mapped[name] = _coarse_dates(raw, cells, missing, spec.get("coarsen", "month"))
        else:
            mapped[name] = _text(cells, missing)
    quarantine = pd.Series(dtype=object)
    for outcome in cohort.outcomes:
        cols = columns.outcomes[outcome.name]
        for column, item_name in zip(cols, outcome.item_names, strict=True):
            cells = labelled(raw, column, positions)
            if outcome.instrument.kind == "numeric":
                values = _grade_points(raw, cells, outcome, missing)
                lo, hi = outcome.instrument.range
                out = values.lt(lo) | values.gt(hi)
                details = _out_of_range_details(cells, values, out, lo, hi)
                quarantine = pd.concat([quarantine, details[~details.index.isin(quarantine.index)]])
                mapped[item_name] = values.where(~out)
            else:
                mapped[item_name] = _item_values(raw, cells, outcome, missing)
    return mapped, quarantine.sort_index()


def _out_of_range_details(
    cells: pd.Series, values: pd.Series, out: pd.Series, lo: float, hi: float
) -> pd.Series:
    """Ledger detail of each out-of-range cell: the column and the kind of value, not the
    value (described once per distinct answer)."""
    bounds = f"{lo:g}-{hi:g}" if lo >= 0 else f"{lo:g} to {hi:g}"
    flagged = cells[out.to_numpy()]
    above = values[out.to_numpy()].gt(hi).to_numpy()
    kinds = {c: describe_value(c) for c in pd.unique(flagged.astype(object))}
    details = [
        f"{cells.name}: a number outside {bounds} ({kinds[c]}, {'above' if a else 'below'} "
        "the range)"
        for c, a in zip(flagged.astype(object), above, strict=True)
    ]
    return pd.Series(details, index=flagged.index, dtype=object)


def _blank(cells: pd.Series, missing: set[str]) -> pd.Series:
    """Per category: empty, or one of the cohort's declared missing values."""
    categories = pd.Series(cells.cat.categories, dtype=object)
    return categories.eq("") | categories.map(normalize_label).isin(missing)


def _refuse(
    raw: RawTable,
    cells: pd.Series,
    bad_categories,
    problem: str,
    expected: str,
    allowed: set[str] = frozenset(),
):
    """Stop at the first cell whose answer is flagged, naming its file line and column.

    The cell is described, not quoted (:func:`outcomes.redact.describe_value`); it is shown
    only when it is one of the ``allowed`` labels of a fixed answer key or a value label of
    the column (from the file or the config).
    """
    if bad_categories.any():
        row = _first_row(cells, bad_categories)
        labels = set(raw.value_labels.get(cells.name, {}).values()) | set(allowed)
        raise ExportError(
            problem,
            file=raw.path,
            row=raw.line_of(row),
            column=cells.name,
            expected=expected,
            found=describe_value(cells[row], allowed=labels),
        )


def _text(cells: pd.Series, missing: set[str]) -> pd.Series:
    categories = pd.Series(cells.cat.categories, dtype=object)
    return _per_category(cells, categories.where(~_blank(cells, missing), None))


def numeric_values(raw: RawTable, cells: pd.Series, missing: set[str] = frozenset()) -> pd.Series:
    """Numbers of a :func:`labelled` column; blank and declared missing -> NaN.

    Any other text (``"nan"`` included) stops with the file, row and column, as does a
    non-finite number (``inf``, ``-inf``, ``Infinity``, or a number too large for a float,
    such as ``1e400``): the analysis needs finite numbers.
    """
    categories = pd.Series(cells.cat.categories, dtype=object)
    blank = _blank(cells, missing)
    number = pd.to_numeric(categories.where(~blank, None), errors="coerce").astype(float)
    _refuse(raw, cells, number.isna() & ~blank, "a text value in a numeric column", "a number")
    _refuse_non_finite(raw, cells, number)
    return _per_category(cells, number)


def _refuse_non_finite(raw: RawTable, cells: pd.Series, number: pd.Series) -> None:
    _refuse(
        raw,
        cells,
        np.isinf(number.to_numpy(dtype=float)),
        "a non-finite number in a numeric column",
        "a finite number (not inf, -inf or Infinity)",
    )


def _coarse_dates(raw: RawTable, cells: pd.Series, missing: set[str], coarsen: str):
    categories = pd.Series(cells.cat.categories, dtype=object)
    blank = _blank(cells, missing)
    parsed = pd.to_datetime(categories.where(~blank, None), errors="coerce", format="ISO8601")
    problem = "a value that is not an ISO date (YYYY-MM-DD[ HH:MM:SS])"
    _refuse(
        raw, cells, parsed.isna() & ~blank, problem, f"an ISO 8601 date, e.g. {date(2026, 9, 14)}"
    )
    text = parsed.dt.strftime("%Y-%m" if coarsen == "month" else "%Y")
    return _per_category(cells, text.astype(object).where(~blank, None))


def _grade_points(raw: RawTable, cells: pd.Series, outcome: Outcome, missing: set[str]):
    """A numeric outcome's values; grades given as letters or percentages are put on the
    instrument's scale (letter -> points; percent -> letter -> points). A GPA column of which
    more than 1% lies in (4, 5] is on a weighted scale: it stops the run rather than being
    read as out of range."""
    instrument = outcome.instrument
    if outcome.grade_format == "points":
        values = numeric_values(raw, cells, missing)
        weighted = values.gt(instrument.range[1]) & values.le(5.0)
        if instrument.id == "gpa" and weighted.mean() > 0.01:
            raise ExportError(
                "the GPA looks weighted (values above 4.0, up to 5.0)",
                file=raw.path,
                column=cells.name,
                expected="an unweighted 4.0 GPA, or instrument gpa5 for a weighted 5.0 scale",
                found=f"{int(weighted.sum())} of {int(values.notna().sum())} values in (4, 5]",
            )
        return values
    points = outcome.letter_points or instrument.letter_points
    categories = pd.Series(cells.cat.categories, dtype=object)
    blank = _blank(cells, missing)
    if outcome.grade_format == "percent":
        percent = pd.to_numeric(categories.where(~blank, None), errors="coerce").astype(float)
        _refuse(raw, cells, percent.isna() & ~blank, "a text value in a numeric column",
                "a number from 0 to 100")  # fmt: skip
        _refuse_non_finite(raw, cells, percent)
        bad = (percent.lt(0) | percent.gt(100)) & ~blank
        _refuse(raw, cells, bad, "a percentage grade outside 0-100", "a number from 0 to 100")
        letters = percent.map(
            lambda p: (
                next((letter for letter, low in instrument.percent_letters if p >= low), None)
                if pd.notna(p)
                else None
            )
        )
    else:
        letters = categories.str.strip().str.upper().where(~blank, None)
    values = letters.map(points)
    expected = f"one of {list(points)}" if outcome.grade_format == "letter" else "0-100"
    _refuse(raw, cells, values.isna() & ~blank, "a grade that is not in the table", expected,
            set(points))  # fmt: skip
    return _per_category(cells, values.astype(float))


def _item_values(raw: RawTable, cells: pd.Series, outcome: Outcome, missing: set[str]):
    normalized = pd.Series(cells.cat.categories, dtype=object).map(normalize_label)
    declared_missing = normalized.isin(missing)
    values = normalized.map(outcome.instrument._label_lookup).astype(float)
    values = values.where(~declared_missing)
    _refuse(
        raw,
        cells,
        values.isna() & normalized.ne("") & ~declared_missing,
        f"an answer that is not in the response key of {outcome.instrument.name}",
        f"one of {list(outcome.instrument.responses)}, blank, or a declared missing value "
        "(missing_values in the cohort config); numeric codes need labels (value_labels in "
        "the source config)",
        set(outcome.instrument.responses),
    )
    return _per_category(cells, values).astype(float)
