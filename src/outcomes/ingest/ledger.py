"""The ledger: one disposition for every input row, and the invariant that checks it."""

from __future__ import annotations

import pandas as pd

from outcomes.errors import OutcomesError

KEPT = "analysed"


def build_ledger(
    source: str,
    wave: str,
    row_numbers: pd.Index,
    pseudonyms: pd.Series,
    reasons: pd.Series,
    details: pd.Series | None = None,
    recoded: pd.Series | None = None,
) -> pd.DataFrame:
    """Ledger rows for one source: ``source``, ``row_number``, ``wave``, ``respondent_id``
    (pseudonym or None), ``disposition`` (``analysed`` or a reason code), ``detail``.

    ``detail``: for ``out_of_range``, the quarantined cell's column and the kind of value,
    e.g. ``gpa: a number outside 0-4 (a decimal number, above the range)`` (``details``);
    when ``recoded`` is given (``quarantine.attrs["recoded"]`` of
    :func:`outcomes.ingest.codebook.map_rows`), for an analysed row whose category was
    recoded, what was done, e.g. ``gender: rare level recoded to other (fewer than 10
    responses)`` or ``cluster: a cluster of fewer than 10 responses, its label replaced by a
    code``. Never a value. Every input row already has its ledger row: a recode adds a
    detail, not a row.
    """
    detail = details.reindex(row_numbers) if details is not None else None
    if recoded is not None and len(recoded):
        notes = recoded.reindex(row_numbers)
        excluded = reasons.reindex(row_numbers).notna().to_numpy()
        notes = notes.where(~excluded)  # an excluded row's recode changes nothing written
        detail = notes if detail is None else detail.where(detail.notna(), notes)
    return pd.DataFrame(
        {
            "source": source,
            "row_number": row_numbers.to_numpy(dtype="int64"),
            "wave": wave,
            "respondent_id": pseudonyms.to_numpy(dtype=object),
            "disposition": reasons.fillna(KEPT).to_numpy(dtype=object),
            "detail": detail.to_numpy(dtype=object) if detail is not None else None,
        }
    )


def check_invariant(ledger: pd.DataFrame, rows_read: dict[str, int], n_kept: dict[str, int]):
    """Raise unless, per source, rows read = rows kept + rows excluded, and every data row
    appears exactly once."""
    for source, n_read in rows_read.items():
        part = ledger[ledger["source"] == source]
        kept = int((part["disposition"] == KEPT).sum())
        excluded = int((part["disposition"] != KEPT).sum())
        complete = part["row_number"].is_unique and len(part) == n_read
        if kept + excluded != n_read or kept != n_kept.get(source, -1) or not complete:
            raise OutcomesError(
                "ledger invariant violated (a bug: please report it)",
                file=source,
                expected=f"rows read {n_read} = kept + excluded, each row once",
                found=f"kept {kept} (written {n_kept.get(source)}), excluded {excluded}, "
                f"{len(part)} ledger rows",
            )


def summarize(ledger: pd.DataFrame) -> pd.DataFrame:
    """Counts by source, wave and disposition (the participant-flow numbers)."""
    return (
        ledger.groupby(["source", "wave", "disposition"], sort=True)
        .size()
        .rename("n")
        .reset_index()
    )
