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


#: First characters that make a spreadsheet read a cell as a formula (OWASP, CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize_cell(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula, made inert by a leading ``'``.

    Only ``str`` values change: numbers, booleans and missing values are returned as they are.
    A carriage return inside the text becomes a line feed (``\\r\\n`` and ``\\r`` -> ``\\n``):
    the CSV writer quotes a cell holding a line feed, but not one holding a lone carriage
    return, which would split the row in a spreadsheet.

    >>> neutralize_cell("=SUM(A1:A9)"), neutralize_cell("-cmd"), neutralize_cell(-0.5)
    ("'=SUM(A1:A9)", "'-cmd", -0.5)
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START):
        value = "'" + value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value


def neutralize_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell (and column name) :func:`neutralize_cell` would change
    prefixed with ``'``; numeric, boolean and date columns are not looked at. The frame is
    returned as it is when nothing needs a change."""
    changed = {}
    for position in range(frame.shape[1]):
        column = frame.iloc[:, position]
        dtype = column.dtype
        if not (
            pd.api.types.is_object_dtype(dtype)
            or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            continue
        values = column.astype(object)
        unsafe = values.map(lambda v: isinstance(v, str) and (v.startswith(FORMULA_START)
                                                              or "\r" in v))  # fmt: skip
        if unsafe.any():
            changed[position] = values.map(neutralize_cell)
    renamed = [neutralize_cell(c) for c in frame.columns]
    if not changed and renamed == list(frame.columns):
        return frame
    safe = frame.copy()
    for position, values in changed.items():
        safe.isetitem(position, values.to_numpy(dtype=object))
    safe.columns = renamed
    return safe


def write_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a result table as CSV atomically, with a stable float format.

    The CSV files are for people, who open them in a spreadsheet, so they are safe to open:
    a text cell (or column name) beginning with ``=``, ``+``, ``-``, ``@``, a tab or a
    carriage return, which Excel, LibreOffice and Google Sheets would evaluate as a formula
    (``=HYPERLINK(...)``), is written with a single quote ``'`` in front (OWASP's advice on
    CSV injection), and a carriage return inside text is written as a line break, which is
    quoted, so that no cell can split a row (:func:`neutralize_cell`). Numbers are never
    changed: a negative estimate is a float and is written as ``-0.5``. The rule looks at
    the type, not the look, of a cell: a *text* cell holding ``"-0.5"`` is text and is
    prefixed too (``'-0.5``); every estimate, bound and count of a result table is numeric,
    so no number is ever written as text. The Parquet copy of each table keeps the values as
    they are.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = neutralize_formulas(frame)
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
