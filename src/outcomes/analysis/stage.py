"""The analyze stage's input and output: read the scored Parquet files, write every result
table as CSV and Parquet. The tables themselves come from :func:`outcomes.analysis.analyze`."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa

from outcomes.analysis.cohort import analyze
from outcomes.config import Cohort, Settings
from outcomes.tables import write_csv, write_parquet

log = logging.getLogger(__name__)


def analyze_cohort(
    cohort: Cohort,
    settings: Settings,
    scores_path: str | Path,
    ledger_paths: list[str | Path],
    tables_dir: str | Path,
    scored_paths: dict[str, str | Path] | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the scored data, analyse it, write each table as CSV and Parquet.

    ``scored_paths`` maps ``reliability``, ``items`` and ``safety`` to the score stage's
    Parquet files, which are passed through to the result tables. Every table is computed
    before the first one is written, so an error leaves no partial set of tables.
    """
    scores = pd.read_parquet(scores_path)
    ledger = pd.concat([pd.read_parquet(p) for p in ledger_paths], ignore_index=True)
    scored = {name: pd.read_parquet(path) for name, path in (scored_paths or {}).items()}
    tables = analyze(scores, ledger, cohort, settings, scored)
    tables_dir = Path(tables_dir)
    log.info("%d estimates for %d outcomes", len(tables["estimates"]), len(cohort.outcomes))
    for name, table in tables.items():
        write_csv(table, tables_dir / f"{name}.csv")
        write_parquet(table, tables_dir / f"{name}.parquet", _schema(table))
    return tables


def _schema(table: pd.DataFrame) -> pa.Schema:
    """The Arrow schema of a result table; an all-missing object column is written as text."""
    fields = []
    for name, dtype in table.dtypes.items():
        if pd.api.types.is_object_dtype(dtype) and table[name].isna().all():
            fields.append(pa.field(name, pa.string()))
        else:
            fields.append(pa.Schema.from_pandas(table[[name]], preserve_index=False).field(0))
    return pa.schema(fields)
