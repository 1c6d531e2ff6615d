"""Which responses are excluded, and why.

Each row gets at most one reason code, the first that applies in this order:

=====================  ===============================================================
``preview``            Qualtrics Status is a survey preview (label or code 1, 17)
``test``               Status is a generated test response (label or code 2)
``spam``               any other excluded Status (spam flags, codes 8, 9, 12)
``repeat_instance``    a REDCap repeating-instrument row (``redcap_repeat_instrument`` set):
                       an extra instance, not a wave
``missing_id``         the respondent id is blank
``unknown_group``      the participant flag has a value in neither group list
``ineligible``         a value listed by an ``exclude.ineligible`` rule
``below_min_progress`` Progress (%) below ``exclude.min_progress``
``speeder``            Duration (in seconds) below ``exclude.min_duration_s``
``duplicate``          another response of the same id in the same wave was kept
``out_of_range``       (after mapping) a number outside a numeric instrument's range; the
                       ledger's ``detail`` names the column and the kind of value, never
                       the value (``gpa: a number outside 0-4 (a 10-digit number, ...)``)
``unmapped_wave``      (multi-wave files) the wave column holds a value mapped to no wave
=====================  ===============================================================

Duplicates are resolved among the rows that survive the earlier rules: ``keep_last_complete``
keeps the latest finished response (by StartDate, then file order), or the latest one when none
finished; ``keep_first`` keeps the earliest.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from outcomes.config import Cohort
from outcomes.errors import ExportError
from outcomes.ingest.codebook import ColumnMap, labelled, numeric_values
from outcomes.ingest.rawtable import RawTable

REASONS = (
    "preview",
    "test",
    "spam",
    "repeat_instance",
    "missing_id",
    "unknown_group",
    "ineligible",
    "below_min_progress",
    "speeder",
    "duplicate",
    "out_of_range",
    "unmapped_wave",
)
_STATUS_REASON = {
    "survey preview": "preview",
    "offline survey preview": "preview",
    "1": "preview",
    "17": "preview",
    "survey test": "test",
    "2": "test",
}


def exclusion_reasons(
    raw: RawTable, cohort: Cohort, columns: ColumnMap, wave: str | None = None
) -> pd.Series:
    """Reason code for each row of ``raw`` (None when the row is kept), up to ``duplicate``.

    ``wave``: the rows' wave. At a wave that does not need the group recorded
    (:meth:`outcomes.config.Cohort.group_required`) a blank group is kept; a value in
    neither list is ``unknown_group`` at every wave.

    Returns
    -------
    Series
        Indexed like ``raw.values``; values are codes from :data:`REASONS` or None.
    """
    values = raw.values
    rule = cohort.exclude
    reason = pd.Series(None, index=values.index, dtype=object)

    def flag(mask, code):
        reason[mask & reason.isna()] = code

    if "Status" in values:
        status = labelled(raw, "Status")
        excluded = {str(s).strip().casefold() for s in rule["status"]}
        hit = status.str.casefold().isin(excluded)
        flag(hit, status.str.casefold().map(_STATUS_REASON).fillna("spam"))
    if "redcap_repeat_instrument" in values:
        flag(
            values["redcap_repeat_instrument"].astype(object).str.strip().ne(""), "repeat_instance"
        )
    ids = values[columns.respondent_id].str.strip()
    flag(ids.eq(""), "missing_id")
    if columns.group is not None:
        group = labelled(raw, columns.group)
        known = set(cohort.participant_values) | set(cohort.comparison_values)
        unknown = ~group.isin(known)
        if wave is not None and not cohort.group_required(wave):
            unknown &= ~group.isin([""])
        flag(unknown, "unknown_group")
    for ineligible in rule.get("ineligible", []):
        cells = labelled(raw, _need(raw, ineligible["column"], "exclude.ineligible"))
        flag(cells.isin({str(v) for v in ineligible["values"]}), "ineligible")
    if rule["min_progress"] > 0:
        progress = _numeric_column(raw, "Progress")
        flag(progress < rule["min_progress"], "below_min_progress")
    if rule["min_duration_s"] > 0:
        duration = _numeric_column(raw, "Duration (in seconds)")
        flag(duration < rule["min_duration_s"], "speeder")

    candidates = reason.isna()
    needed = [c for c in ("StartDate", "Finished") if c in values]
    keep = _keep_one_per_id(values.loc[candidates, needed], ids[candidates], rule["duplicates"])
    flag(candidates & ~values.index.isin(keep), "duplicate")
    return reason


def _need(raw: RawTable, column: str, key: str) -> str:
    if column not in raw.values:
        raise ExportError(
            f"the export has no column needed by an exclusion rule ({key})",
            file=raw.path,
            column=column,
            expected=f"a {column!r} column (or remove the rule from the cohort config)",
            found="no such column",
        )
    return column


def _numeric_column(raw: RawTable, column: str) -> pd.Series:
    return numeric_values(raw, labelled(raw, _need(raw, column, "exclude")))


def _keep_one_per_id(values: pd.DataFrame, ids: pd.Series, policy: str) -> pd.Index:
    """Row labels to keep: one per respondent id, following ``policy``. Only ids that occur
    more than once are sorted (in a large export they are few)."""
    repeated = ids.duplicated(keep=False).to_numpy()
    if not repeated.any():
        return values.index
    once = ids.index[~repeated]
    values, ids = values[repeated], ids[repeated]
    order = pd.DataFrame({"id": ids, "position": np.arange(len(ids))}, index=values.index)
    order["start"] = values.get("StartDate", "")
    if policy == "keep_first":
        order = order.sort_values(["id", "start", "position"])
        chosen = order.groupby("id", sort=False).head(1).index
    else:
        finished = values["Finished"].str.strip().str.casefold() if "Finished" in values else None
        order["finished"] = finished.isin(["true", "1"]) if finished is not None else True
        order = order.sort_values(["id", "finished", "start", "position"])
        chosen = order.groupby("id", sort=False).tail(1).index
    return once.append(pd.Index(chosen))
