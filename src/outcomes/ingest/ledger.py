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
) -> pd.DataFrame:
    """Ledger rows for one source: ``source``, ``row_number``, ``wave``, ``respondent_id``
    (pseudonym or None), ``disposition`` (``analysed`` or a reason code), ``detail`` (for
    ``out_of_range``: the quarantined cell's column and the kind of value, e.g.
    ``gpa: a number outside 0-4 (a decimal number, above the range)``, never the value)."""
    detail = details.reindex(row_numbers).to_numpy(dtype=object) if details is not None else None
    return pd.DataFrame(
        {
            "source": source,
            "row_number": row_numbers.to_numpy(dtype="int64"),
            "wave": wave,
            "respondent_id": pseudonyms.to_numpy(dtype=object),
            "disposition": reasons.fillna(KEPT).to_numpy(dtype=object),
            "detail": detail,
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
