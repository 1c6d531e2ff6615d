"""Ingest: survey exports -> pseudonymized responses and a ledger for every row.

:func:`ingest_wave` is the stage's one entry point, used by the workflow, the command line and
the Python API alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa

from outcomes.config import Cohort
from outcomes.errors import ExportError
from outcomes.ingest.codebook import check_columns, map_rows, mapped_columns
from outcomes.ingest.exclusions import exclusion_reasons
from outcomes.ingest.ledger import KEPT, build_ledger, check_invariant, summarize
from outcomes.ingest.privacy import classify_columns, pseudonymize, resolve_key
from outcomes.ingest.qualtrics import read_qualtrics
from outcomes.ingest.rawtable import RawTable
from outcomes.tables import LEDGER_SCHEMA, responses_schema, write_parquet

READERS = {"qualtrics": read_qualtrics}
log = logging.getLogger(__name__)

__all__ = ["READERS", "IngestResult", "RawTable", "ingest_wave", "read_export"]


@dataclass
class IngestResult:
    """What :func:`ingest_wave` produced: the responses, the ledger and a per-source record."""

    responses: pd.DataFrame
    ledger: pd.DataFrame
    sources: list[dict]

    def summary(self) -> pd.DataFrame:
        return summarize(self.ledger)


def read_export(path: str | Path, format: str = "qualtrics") -> RawTable:
    """Read an export with the reader of its format."""
    return READERS[format](path)


def item_dtypes(cohort: Cohort) -> dict[str, pa.DataType]:
    """Arrow type of each item column: int8 for whole-number keys, float64 otherwise."""
    types = {}
    for outcome in cohort.outcomes:
        whole = outcome.instrument.kind == "items" and all(
            float(v).is_integer() and -128 <= v <= 127
            for v in outcome.instrument.responses.values()
        )
        for name in outcome.item_names:
            types[name] = pa.int8() if whole else pa.float64()
    return types


def ingest_wave(
    cohort: Cohort,
    wave: str,
    responses_path: str | Path | None = None,
    ledger_path: str | Path | None = None,
) -> IngestResult:
    """Ingest every export of one wave of a cohort.

    Parameters
    ----------
    cohort : Cohort
    wave : str
        One of ``cohort.waves``; every source of that wave is read.
    responses_path, ledger_path : path, optional
        When given, the responses and the ledger are written there as Parquet (atomically;
        both or, on error, neither).

    Returns
    -------
    IngestResult
        ``responses``: one row per kept response with ``respondent_id`` (pseudonym), ``wave``,
        ``group``, ``cluster``, covariates and item values ``{outcome}_{item}``; ``ledger``:
        one row per input row (see :data:`outcomes.tables.LEDGER_SCHEMA`).

    Notes
    -----
    Only mapped columns survive; the respondent id is replaced by HMAC-SHA256 pseudonyms
    before anything is written. Invariant, checked here: rows read = rows kept + rows
    excluded, per source.
    """
    sources = cohort.sources_for(wave)
    if not sources:
        raise ExportError(f"no source for wave {wave!r}", file=cohort.path, column="sources")
    key = resolve_key(cohort)
    frames, ledgers, records = [], [], []
    for source in sources:
        raw = read_export(source.path, source.format)
        check_columns(raw, cohort)
        reasons = exclusion_reasons(raw, cohort)
        pseudonyms = pseudonymize(raw.values[cohort.respondent_id], key)
        kept_rows = reasons.index[reasons.isna()]
        mapped = map_rows(raw, cohort, kept_rows)
        mapped.insert(0, "respondent_id", pseudonyms.loc[kept_rows])
        mapped.insert(1, "wave", wave)
        frames.append(mapped)
        name = Path(source.path).name
        ledgers.append(build_ledger(name, wave, raw.values.index, pseudonyms, reasons))
        classes = classify_columns(raw, set(mapped_columns(cohort)))
        records.append(
            {
                "file": name,
                "sha256": raw.sha256,
                "format": raw.format,
                "rows_read": len(raw.values),
                "rows_kept": len(kept_rows),
                "rows_excluded": int(reasons.notna().sum()),
                "dropped_columns": {
                    kind: sorted(c for c, k in classes.items() if k == kind)
                    for kind in ("direct_identifier", "free_text", "other")
                },
            }
        )
    for record, ledger_part in zip(records, ledgers, strict=True):
        excluded = ledger_part.loc[ledger_part["disposition"] != KEPT, "disposition"]
        log.info(
            "%s (%s): %d rows read, %d kept, %d excluded %s",
            record["file"], wave, record["rows_read"], record["rows_kept"],
            record["rows_excluded"], dict(sorted(excluded.value_counts().items())),
        )  # fmt: skip
    responses = pd.concat(frames).reset_index(drop=True)
    ledger = pd.concat(ledgers, ignore_index=True)
    check_invariant(
        ledger,
        {r["file"]: r["rows_read"] for r in records},
        {r["file"]: r["rows_kept"] for r in records},
    )
    clash = responses["respondent_id"].duplicated(keep=False)
    if clash.any():
        raise ExportError(
            "two sources of the same wave hold the same respondent",
            file=", ".join(r["file"] for r in records),
            column=cohort.respondent_id,
            expected="each respondent once per wave",
            found=f"{int(clash.sum())} rows share an id across sources",
        )
    responses = responses.sort_values("respondent_id", kind="stable").reset_index(drop=True)
    if responses_path is not None and ledger_path is not None:
        covariate_types = {n: s["type"] for n, s in cohort.covariates.items()}
        schema = responses_schema(item_dtypes(cohort), covariate_types)
        metadata = {"wave": wave, "config_hash": cohort.config_hash, "sources": records}
        written = write_parquet(responses, responses_path, schema, metadata)
        try:
            write_parquet(ledger, ledger_path, LEDGER_SCHEMA, metadata)
        except Exception:
            written.unlink(missing_ok=True)
            raise
    return IngestResult(responses=responses, ledger=ledger, sources=records)


__all__ += ["KEPT"]
