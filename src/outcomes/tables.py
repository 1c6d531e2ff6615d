"""Every table the pipeline writes: its Arrow schema, in one place, and an atomic writer.

Parquet files carry provenance in their key-value metadata (``outcomes.*`` keys): the package
version, the config hash and, for ingested data, each source's file name, SHA-256 and row counts.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import outcomes

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("source", pa.string(), nullable=False),
        pa.field("row_number", pa.int64(), nullable=False),
        pa.field("wave", pa.string(), nullable=False),
        pa.field("respondent_id", pa.string()),
        pa.field("disposition", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
    ]
)
"""One row per input row. ``row_number`` is the 1-based data row (header rows not counted);
``disposition`` is ``analysed`` or an exclusion reason code (see ``outcomes.ingest.exclusions``)."""


RELIABILITY_SCHEMA = pa.schema(
    [
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("instrument", pa.string(), nullable=False),
        pa.field("wave", pa.string(), nullable=False),
        pa.field("group", pa.string()),
        pa.field("alpha", pa.float64()),
        pa.field("ci_low", pa.float64()),
        pa.field("ci_high", pa.float64()),
        pa.field("n", pa.int64(), nullable=False),
        pa.field("k", pa.int64(), nullable=False),
    ]
)


ITEMS_SCHEMA = pa.schema(
    [
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("wave", pa.string(), nullable=False),
        pa.field("item", pa.string(), nullable=False),
        pa.field("n", pa.int64(), nullable=False),
        pa.field("mean", pa.float64()),
        pa.field("sd", pa.float64()),
        pa.field("item_total_r", pa.float64()),
        pa.field("alpha_if_deleted", pa.float64()),
    ]
)

SAFETY_SCHEMA = pa.schema(
    [
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("item", pa.int64(), nullable=False),
        pa.field("wave", pa.string(), nullable=False),
        pa.field("group", pa.string()),
        pa.field("n_answered", pa.int64(), nullable=False),
        pa.field("n_positive", pa.int64(), nullable=False),
    ]
)


def responses_schema(item_columns: dict[str, pa.DataType], covariates: dict[str, str]) -> pa.Schema:
    """Schema of ``responses.parquet``: ids, group, cluster, covariates, then item values."""
    fields = [
        pa.field("respondent_id", pa.string(), nullable=False),
        pa.field("wave", pa.string(), nullable=False),
        pa.field("group", pa.string()),
        pa.field("cluster", pa.string()),
    ]
    for name, kind in covariates.items():
        fields.append(pa.field(name, pa.float64() if kind == "numeric" else pa.string()))
    fields += [pa.field(name, dtype) for name, dtype in item_columns.items()]
    return pa.schema(fields)


def write_parquet(
    frame: pd.DataFrame, path: str | Path, schema: pa.Schema, metadata: dict | None = None
) -> Path:
    """Write ``frame`` with ``schema`` to ``path`` atomically (temporary name, then rename).

    ``metadata`` values are JSON-encoded under ``outcomes.<key>``; the package version is
    always added.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame[schema.names], schema=schema, preserve_index=False)
    meta = {"outcomes.version": outcomes.__version__, **(metadata or {})}
    encoded = {
        (k if k.startswith("outcomes.") else f"outcomes.{k}"): json.dumps(v, sort_keys=True)
        for k, v in meta.items()
    }
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), **encoded})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_metadata(path: str | Path) -> dict:
    """The ``outcomes.*`` provenance metadata of a Parquet file, decoded."""
    raw = pq.read_schema(path).metadata or {}
    return {
        k.decode().removeprefix("outcomes."): json.loads(v)
        for k, v in raw.items()
        if k.decode().startswith("outcomes.")
    }


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a result table as CSV atomically, with a stable float format."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a file's bytes, in hex (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
