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
import hashlib
import logging
import re
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import pandas as pd

from outcomes.config import Cohort, Outcome, Source, expand_columns
from outcomes.errors import ExportError
from outcomes.ingest.privacy import (
    MIN_LEVEL_COUNT,
    refuse_identifier_columns,
    refuse_identifying_values,
)
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


def _take(cells: pd.Series, positions: np.ndarray) -> pd.Series:
    """The cells at ``positions`` of a :func:`labelled` column of every row, with only their
    categories: the same as ``labelled(raw, column, positions)``, without reading the column
    again."""
    if len(positions) == len(cells) and np.array_equal(positions, np.arange(len(cells))):
        return cells
    categories = cells.cat.categories
    codes = cells.cat.codes.to_numpy()[positions]
    used = np.bincount(codes, minlength=len(categories)) > 0
    codes = (np.cumsum(used) - 1)[codes]
    answers = pd.Categorical.from_codes(codes, categories=pd.Index(categories[used], dtype=object))
    return pd.Series(answers, index=cells.index[positions], name=cells.name)


def _per_category(cells: pd.Series, values: pd.Series) -> pd.Series:
    """Spread per-category ``values`` (aligned with ``cells.cat.categories``) to every cell."""
    taken = values.to_numpy()[cells.cat.codes.to_numpy()]
    return pd.Series(taken, index=cells.index, name=cells.name, dtype=values.dtype)


def _first_row(cells: pd.Series, category_mask) -> object:
    """Row label of the first cell whose category is flagged."""
    flagged = np.asarray(category_mask)[cells.cat.codes.to_numpy()]
    return cells.index[int(np.flatnonzero(flagged)[0])]


def map_rows(
    raw: RawTable,
    cohort: Cohort,
    columns: ColumnMap,
    rows: pd.Index,
    *,
    min_level_count: int = MIN_LEVEL_COUNT,
) -> tuple[pd.DataFrame, pd.Series]:
    """Study variables for the given data rows.

    Parameters
    ----------
    raw : RawTable
        The rows of one wave of an export.
    cohort : Cohort
    columns : ColumnMap
    rows : Index
        The data rows to map (those the exclusions keep).
    min_level_count : int
        Smallest number of responses a category label needs to be kept as it is (k, the
        project's minimum cell size, 10 by default).

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
        (:func:`outcomes.redact.describe_value`). Besides, ``quarantine.attrs["recoded"]``:
        row number -> ``"gender: rare level recoded to other (fewer than 10 responses)"``
        (``; ``-joined when several) for the kept rows whose category or cluster label was
        replaced (see Notes), for their ledger ``detail``
        (:func:`outcomes.ingest.ledger.build_ledger` ``recoded=``); and
        ``quarantine.attrs["recoded_counts"]``: study variable -> number of such rows, for
        the per-source record.

    Notes
    -----
    Identifiers, before anything is mapped. The group, cluster and covariate columns are
    refused when their name marks an identifier or free text
    (:func:`outcomes.ingest.privacy.refuse_identifier_columns`), and every one of their
    cells, on all rows of the wave (excluded rows too), is checked by value
    (:func:`outcomes.ingest.privacy.refuse_identifying_values`): an email, phone number,
    IP address... stops the run with the file line and the column, never the value. A
    covariate spec with ``safe: "<reason>"`` (``cluster_safe`` / ``group.safe`` at the top
    level for those columns) accepts the name and skips the heuristic shapes (long numbers,
    names, free text); the unambiguous ones are always refused.

    Categories. A categorical covariate keeps only its declared levels (``levels: [...]``
    in its spec, matched ignoring case and spacing, written as declared) or, without a
    list, the levels of ``min_level_count`` kept responses or more in this export; any other
    value becomes ``"other"`` (or the spelling of a kept ``Other`` level). The cluster keeps
    the labels of clusters of ``min_level_count`` responses or more (and any listed in
    ``cluster_levels``); a smaller cluster keeps its members together but its label is
    replaced by a code derived from it, ``cluster_<10 hex digits of SHA-256>``: merging small
    clusters would change the cluster-robust standard errors (60 schools of 5 students
    would become one cluster), and a code that is a function of the label alone is the same
    in every wave, for any row order and any pseudonym key (matching breaks ties on it). The
    group needs no rule: only the configured group values are kept. Each replacement is
    counted: logged per column (``gender: 4 kept responses rare level recoded to other``)
    and returned row by row in ``quarantine.attrs`` (see Returns). Only the kept rows
    (not quarantined) count towards ``min_level_count``.
    """
    safe = declared_safe(cohort, columns)
    numeric = {
        columns.covariates[n] for n, s in cohort.covariates.items() if s["type"] == "numeric"
    }
    refuse_identifier_columns(raw, _roles(cohort, columns), safe, numeric=numeric)
    mapped = pd.DataFrame(index=rows)
    missing = {normalize_label(v) for v in cohort.missing_values}
    positions = raw.values.index.get_indexer(rows)
    k = min_level_count

    def scan(every: pd.Series, key: str, levels=(), **kind) -> None:
        """Check every cell of a column (all rows of the wave) for identifiers; blank and
        missing values, value labels and declared levels are not looked at."""
        column = str(every.name)
        categories = pd.Series(every.cat.categories, dtype=object)
        allowed = set(categories[_blank(every, missing).to_numpy()])
        allowed |= set(raw.value_labels.get(column, {}).values()) | set(levels)
        refuse_identifying_values(raw, every, key, safe=column in safe, allowed=allowed,
                                  min_level_count=k, **kind)  # fmt: skip

    def checked(column: str, key: str, **kind) -> pd.Series:
        """The column's cells of the rows to map, once all its cells are checked."""
        every = labelled(raw, column)
        scan(every, key, **kind)
        return _take(every, positions)

    if columns.group is None:
        mapped["group"] = None
    else:
        values = [*cohort.participant_values, *cohort.comparison_values]
        group = checked(columns.group, "group.column", levels=values)
        mapped["group"] = np.where(
            group.isin(cohort.participant_values),
            "participant",
            np.where(group.isin(cohort.comparison_values), "comparison", None),
        )
    categorical = {}  # study variable -> its cells, recoded once the kept rows are known
    if columns.cluster:
        levels = _levels(cohort.raw.get("cluster_levels"))
        cells = checked(columns.cluster, "cluster", person_names=True, levels=levels)
        categorical["cluster"] = cells
        mapped["cluster"] = _text(cells, missing)
    else:
        mapped["cluster"] = None
    for name, spec in cohort.covariates.items():
        column = columns.covariates[name]
        if column is None:  # not in this (later-wave) export
            mapped[name] = np.nan if spec["type"] == "numeric" else None
            continue
        key = f"covariates.{name}.column"
        if spec["type"] == "numeric":
            every = labelled(raw, column)
            # Text in a numeric column is refused as such first (described, never shown).
            mapped[name] = numeric_values(raw, _take(every, positions), missing)
            scan(every, key, numeric=True)
        elif spec["type"] == "date":
            cells = labelled(raw, column, positions)
            mapped[name] = _coarse_dates(raw, cells, missing, spec.get("coarsen", "month"))
        else:
            levels = _levels(spec.get("levels"))
            cells = checked(column, key, person_names=True, levels=levels)
            categorical[name] = cells
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
    kept = ~rows.isin(quarantine.index)
    notes = []
    for name, cells in categorical.items():
        if name == "cluster":
            declared, rule = _levels(cohort.raw.get("cluster_levels")), "clusters"
        else:
            declared = _levels(cohort.covariates[name].get("levels"))
            rule = "declared" if declared else "common"
        values, note = _keep_levels(cells, missing, kept, name, rule, declared, k)
        if values is not None:
            mapped[name] = values
        if note is not None and len(note):
            log.info("%s: %s: %d kept responses %s", raw.path.name, name, int(note.size),
                     note.iloc[0].split(": ", 1)[1])  # fmt: skip
            notes.append(note)
    quarantine = quarantine.sort_index()
    quarantine.attrs["recoded"] = _join_notes(notes)
    quarantine.attrs["recoded_counts"] = {n.iloc[0].split(":", 1)[0]: int(n.size) for n in notes}
    return mapped, quarantine


#: The label rare categories are recoded to.
OTHER = "other"


def _levels(declared) -> tuple[str, ...]:
    """A declared list of levels (``levels`` of a covariate spec, ``cluster_levels``)."""
    return tuple(str(v).strip() for v in declared or ())


def declared_safe(cohort: Cohort, columns: ColumnMap) -> dict[str, str]:
    """Export column -> the reason the config gives for declaring it safe: ``safe`` in a
    covariate spec, ``cluster_safe`` and ``group.safe`` at the top level (a non-empty text;
    anything else declares nothing)."""

    def reason(value) -> str | None:
        return value.strip() if isinstance(value, str) and value.strip() else None

    found = {}
    group = cohort.raw.get("group")
    if columns.group and isinstance(group, dict) and reason(group.get("safe")):
        found[columns.group] = reason(group.get("safe"))
    if columns.cluster and reason(cohort.raw.get("cluster_safe")):
        found[columns.cluster] = reason(cohort.raw.get("cluster_safe"))
    for name, spec in cohort.covariates.items():
        if columns.covariates.get(name) and reason(spec.get("safe")):
            found[columns.covariates[name]] = reason(spec.get("safe"))
    return found


def _roles(cohort: Cohort, columns: ColumnMap) -> dict[str, str]:
    """Export column -> config key, for the group, the cluster and the covariates that are not
    dates (a date is kept only coarsened, so a birth date may be mapped)."""
    roles = {columns.group: "group.column"} if columns.group else {}
    if columns.cluster:
        roles[columns.cluster] = "cluster"
    for name, spec in cohort.covariates.items():
        if columns.covariates.get(name) and spec["type"] != "date":
            roles[columns.covariates[name]] = f"covariates.{name}.column"
    return roles


def cluster_code(label: str) -> str:
    """The label of a cluster too small to be shown by name: ``cluster_`` and the first 10
    hex digits of SHA-256 of the label (the same in every wave and export).

    >>> cluster_code("Oak Ridge") == cluster_code("Oak Ridge") != cluster_code("Elm Park")
    True
    """
    digest = hashlib.sha256(b"outcomes: cluster label v1\x00" + label.encode()).hexdigest()
    return f"cluster_{digest[:10]}"


def _keep_levels(
    cells: pd.Series,
    missing: set[str],
    kept: np.ndarray,
    name: str,
    rule: str,
    declared: tuple[str, ...],
    k: int,
) -> tuple[pd.Series, pd.Series | None]:
    """Apply the category rule of :func:`map_rows` to one column.

    ``cells``: the column's categorical cells of the mapped rows; ``missing``: the cohort's
    missing values (normalized); ``kept``: which mapped rows stay (not quarantined);
    ``rule``: ``"declared"``, ``"common"`` or ``"clusters"``. Returns the new values and
    the ledger note of each kept row changed (None when nothing changes).
    """
    codes = cells.cat.codes.to_numpy()
    categories = pd.Series(cells.cat.categories, dtype=object)
    texts = categories.where(~_blank(cells, missing), None)
    counts = np.bincount(codes[kept], minlength=len(texts))
    filled = texts.notna().to_numpy()
    folded = {" ".join(d.split()).casefold(): d for d in declared}
    as_declared = texts.map(lambda t: folded.get(" ".join(t.split()).casefold()) if t else None)
    if rule == "declared":
        # A declared level in another case or spacing is written as declared (not a recode).
        other = next((d for d in declared if d.casefold() == OTHER), OTHER)
        recoded = filled & as_declared.isna().to_numpy()
        new = as_declared.where(~recoded, other)
        note = f"{name}: a level not among the declared levels recoded to {other}"
    elif rule == "common":
        rare = filled & (counts < k)
        common = texts[~rare & filled]
        other = next((t for t in common if t.casefold() == OTHER), OTHER)
        recoded = rare & texts.ne(other).to_numpy()
        new = texts.where(~rare, other)
        note = f"{name}: rare level recoded to {other} (fewer than {k} responses)"
    else:  # clusters: small ones keep their members together under a code
        recoded = filled & (counts < k) & as_declared.isna().to_numpy()
        new = texts.copy()
        new[recoded] = [cluster_code(t) for t in texts[recoded]]
        note = f"{name}: a cluster of fewer than {k} responses, its label replaced by a code"
    changed = np.array([a != b for a, b in zip(new, texts, strict=True)], dtype=bool) & filled
    if not changed.any():
        return None, None
    result = _per_category(cells, new.astype(object).where(new.notna(), None))
    rows = recoded[codes] & kept
    return result, pd.Series(note, index=cells.index[rows], dtype=object)


def _join_notes(notes: list[pd.Series]) -> pd.Series:
    """One ledger note per row: the notes of several columns joined with ``; ``."""
    if not notes:
        return pd.Series(dtype=object)
    if len(notes) == 1:
        return notes[0].sort_index()
    joined = pd.concat(notes)
    return joined.groupby(level=0, sort=True).agg("; ".join)


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
