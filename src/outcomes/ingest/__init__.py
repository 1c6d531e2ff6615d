"""Ingest: survey exports -> pseudonymized responses and a ledger for every row.

:func:`ingest_wave` is the stage's one entry point, used by the workflow, the command line and
the Python API alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from outcomes.config import Cohort, Source
from outcomes.errors import ExportError
from outcomes.ingest.codebook import apply_source_settings, map_rows, resolve_columns
from outcomes.ingest.detect import sniff_format
from outcomes.ingest.exclusions import exclusion_reasons
from outcomes.ingest.ledger import KEPT, build_ledger, check_invariant, summarize
from outcomes.ingest.privacy import (
    classify_columns,
    key_fingerprint,
    pseudonymize,
    refuse_mapped_identifiers,
    resolve_key,
)
from outcomes.ingest.rawtable import RawTable
from outcomes.tables import LEDGER_SCHEMA, responses_schema, write_parquet

log = logging.getLogger(__name__)

__all__ = ["IngestResult", "RawTable", "ingest_wave", "read_export"]


@dataclass
class IngestResult:
    """What :func:`ingest_wave` produced: the responses, the ledger and a per-source record."""

    responses: pd.DataFrame
    ledger: pd.DataFrame
    sources: list[dict]

    def summary(self) -> pd.DataFrame:
        return summarize(self.ledger)


def read_export(source: Source | str | Path) -> RawTable:
    """Read an export with the reader of its format (sniffed when ``format`` is ``auto``).

    Parameters
    ----------
    source : Source or path
        A configured source (format, encoding, dictionary, sheet), or just a path.
    """
    if not isinstance(source, Source):
        source = Source(path=str(source), wave="")
    path = Path(source.path)
    if not path.is_file():
        raise ExportError("export not found", file=path, expected="an existing file")
    kind = source.format if source.format != "auto" else sniff_format(path, source.encoding)
    if kind == "qualtrics":
        from outcomes.ingest.qualtrics import read_qualtrics

        return read_qualtrics(path, encoding=source.encoding)
    if kind == "surveymonkey":
        from outcomes.ingest.surveymonkey import read_surveymonkey

        return read_surveymonkey(path, encoding=source.encoding)
    if kind == "redcap":
        from outcomes.ingest.redcap import read_redcap

        return read_redcap(path, dictionary=source.dictionary, encoding=source.encoding)
    if kind == "spss":
        from outcomes.ingest.spss import read_spss

        return read_spss(path)
    if kind == "xlsx":
        from outcomes.ingest.tabular import read_excel

        return read_excel(path, sheet=source.sheet)
    if kind == "parquet":
        from outcomes.ingest.tabular import read_parquet_export

        return read_parquet_export(path)
    from outcomes.ingest.tabular import read_delimited

    delimiter = (
        "\t" if kind == "tsv" else ("," if kind == "csv" and source.format == "csv" else None)
    )
    return read_delimited(path, delimiter=delimiter, encoding=source.encoding)


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


def _rows_of_wave(raw: RawTable, source: Source, wave: str) -> tuple[pd.Index, pd.Index]:
    """Rows of ``raw`` that belong to ``wave``, and the rows mapped to no wave when this is
    the first wave of the source (so that each unmapped row is in exactly one ledger)."""
    if source.wave_from is None:
        return raw.values.index, raw.values.index[:0]
    column = source.wave_from["column"]
    if column not in raw.values.columns:
        raise ExportError(
            "the column naming the wave (wave_from.column) is not in the export",
            file=raw.path,
            column=column,
            expected=f"a column {column!r}",
            found=f"columns {list(raw.values.columns)[:10]}...",
        )
    waves = raw.values[column].astype(object).str.strip().map(source.wave_from["values"])
    here = raw.values.index[waves.eq(wave).to_numpy()]
    first = source.waves[0] == wave
    unmapped = raw.values.index[waves.isna().to_numpy()] if first else raw.values.index[:0]
    return here, unmapped


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
        raw = apply_source_settings(read_export(source), source)
        columns = resolve_columns(raw, cohort, source.waves)
        rows, unmapped = _rows_of_wave(raw, source, wave)
        whole = len(rows) == len(raw.values)
        raw_wave = raw if whole else replace(raw, values=raw.values.loc[rows])
        _check_group_values(raw_wave, cohort, columns, wave)
        reasons = exclusion_reasons(raw_wave, cohort, columns, wave)
        mapped, quarantine = map_rows(raw_wave, cohort, columns, reasons.index[reasons.isna()])
        reasons[quarantine.index] = "out_of_range"
        if len(quarantine):
            mapped = mapped.drop(index=quarantine.index)
        pseudonyms = pseudonymize(raw.values[columns.respondent_id], key)
        mapped.insert(0, "respondent_id", pseudonyms.loc[mapped.index])
        mapped.insert(1, "wave", wave)
        frames.append(mapped)
        all_reasons = pd.concat([reasons, pd.Series("unmapped_wave", index=unmapped)])
        all_reasons = all_reasons.sort_index()
        name = Path(source.path).name
        ledgers.append(
            build_ledger(name, wave, all_reasons.index, pseudonyms.loc[all_reasons.index],
                         all_reasons, details=quarantine)
        )  # fmt: skip
        classes = classify_columns(raw, columns.used())
        dates = {columns.covariates[n] for n, c in cohort.covariates.items()
                 if c["type"] == "date" and columns.covariates[n]}  # fmt: skip
        refuse_mapped_identifiers(classes, raw, columns.used(), {columns.respondent_id, *dates})
        records.append(
            {
                "file": name,
                "sha256": raw.sha256,
                "format": raw.format,
                "rows_in_file": len(raw.values),
                "rows_read": len(all_reasons),
                "rows_kept": len(mapped),
                "rows_excluded": int(all_reasons.notna().sum()),
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
    if responses.empty:
        reasons = ledger["disposition"].value_counts()
        raise ExportError(
            f"wave {wave!r} keeps no response",
            file=", ".join(r["file"] for r in records),
            expected="at least one response that passes the exclusions",
            found=f"{len(ledger)} rows read"
            + (": " + ", ".join(f"{n} {reason}" for reason, n in reasons.items()) if len(ledger)
               else " (the export has no data rows)"),
        )  # fmt: skip
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
    # A defined row order (by pseudonym), the same whatever the format or row order of the files.
    order = pc.sort_indices(pa.array(responses["respondent_id"].to_numpy(dtype=object)))
    responses = responses.take(order.to_numpy()).reset_index(drop=True)
    if responses_path is not None and ledger_path is not None:
        covariate_types = {n: s["type"] for n, s in cohort.covariates.items()}
        schema = responses_schema(item_dtypes(cohort), covariate_types)
        metadata = {"wave": wave, "config_hash": cohort.config_hash, "sources": records,
                    "key_fingerprint": key_fingerprint(key)}  # fmt: skip
        written = write_parquet(responses, responses_path, schema, metadata)
        try:
            write_parquet(ledger, ledger_path, LEDGER_SCHEMA, metadata)
        except Exception:
            written.unlink(missing_ok=True)
            raise
    return IngestResult(responses=responses, ledger=ledger, sources=records)


def _check_group_values(raw: RawTable, cohort: Cohort, columns, wave: str) -> None:
    """Stop when no row of an export that needs the group has a configured group value:
    the config's values do not match the export's (a case or spelling difference, or the
    wrong column). Values are shown only when they look like answer labels and stand on
    ten rows or more, so that nothing identifying is echoed."""
    if columns.group is None or not cohort.group_required(wave) or raw.values.empty:
        return
    from outcomes.ingest.codebook import labelled
    from outcomes.redact import label_values

    group = labelled(raw, columns.group)
    configured = [*cohort.participant_values, *cohort.comparison_values]
    if group.isin(configured).any():
        return
    found = label_values(group.astype(object), min_count=10)
    folded = {str(v).strip().casefold(): v for v in group.astype(object).unique() if v}
    hints = [f"{folded[c.strip().casefold()]!r} for {c!r}" for c in configured
             if c.strip().casefold() in folded]  # fmt: skip
    raise ExportError(
        "no row has one of the group values of the cohort config",
        file=raw.path,
        column=columns.group,
        expected=f"participant values {list(cohort.participant_values)} or comparison values "
        f"{list(cohort.comparison_values)} (group in the cohort config)",
        found=found + (f"; did you mean {', '.join(hints)}? (values must match exactly)"
                       if hints else ""),
    )  # fmt: skip
