"""The score stage: responses of every wave -> scale scores and reliability."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa

from outcomes.config import Cohort
from outcomes.instruments.reliability import cronbach_alpha
from outcomes.instruments.scoring import reverse_key, score_instrument
from outcomes.tables import RELIABILITY_SCHEMA, write_parquet

ID_COLUMNS = ["respondent_id", "wave", "group", "cluster"]
log = logging.getLogger(__name__)


def scores_schema(cohort: Cohort) -> pa.Schema:
    """Schema of ``scores.parquet``: one row per respondent x wave."""
    fields = [
        pa.field("respondent_id", pa.string(), nullable=False),
        pa.field("wave", pa.string(), nullable=False),
        pa.field("group", pa.string(), nullable=False),
        pa.field("cluster", pa.string()),
    ]
    for name, spec in cohort.covariates.items():
        fields.append(pa.field(name, pa.float64() if spec["type"] == "numeric" else pa.string()))
    for outcome in cohort.outcomes:
        fields += [
            pa.field(outcome.name, pa.float64()),
            pa.field(f"{outcome.name}_n_answered", pa.int16(), nullable=False),
            pa.field(f"{outcome.name}_band", pa.string()),
        ]
    return pa.schema(fields)


def score_responses(responses: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Score every outcome of every response.

    Parameters
    ----------
    responses : DataFrame
        Rows of ``responses.parquet`` (any number of waves).
    cohort : Cohort

    Returns
    -------
    DataFrame
        One row per respondent x wave, sorted by wave (config order) then respondent id, with
        the id columns, covariates and, per outcome, ``{outcome}`` (unrounded score, NaN when
        not computable), ``{outcome}_n_answered`` and ``{outcome}_band``.
    """
    covariates = list(cohort.covariates)
    scores = responses[ID_COLUMNS + covariates].copy()
    for outcome in cohort.outcomes:
        items = responses[list(outcome.item_names)]
        scored = score_instrument(items, outcome.instrument)
        scores[outcome.name] = scored["score"]
        scores[f"{outcome.name}_n_answered"] = scored["n_answered"].astype("int16")
        scores[f"{outcome.name}_band"] = (
            scored["band"].astype(object).where(scored["band"].notna(), None)
        )
    order = {wave: i for i, wave in enumerate(cohort.waves)}
    scores = scores.sort_values(
        ["wave", "respondent_id"], key=lambda s: s.map(order) if s.name == "wave" else s
    )
    return scores.reset_index(drop=True)


def reliability_table(responses: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Cronbach's alpha of each multi-item outcome per wave.

    Returns
    -------
    DataFrame
        Columns ``outcome``, ``instrument``, ``wave``, ``alpha``, ``ci_low``, ``ci_high``
        (95%, Feldt), ``n`` (complete cases), ``k`` (items).
    """
    rows = []
    for outcome in cohort.outcomes:
        if outcome.instrument.kind != "items":
            continue
        for wave in cohort.waves:
            items = responses.loc[responses["wave"] == wave, list(outcome.item_names)].astype(float)
            for pos, item in enumerate(outcome.instrument.items):
                if item in outcome.instrument.reverse:
                    column = items.columns[pos]
                    items[column] = reverse_key(items[column], outcome.instrument)
            rows.append(
                {"outcome": outcome.name, "instrument": outcome.instrument.id, "wave": wave}
                | cronbach_alpha(items)
            )
    return pd.DataFrame(rows)


def score_cohort(
    cohort: Cohort,
    responses_paths: list[str | Path],
    scores_path: str | Path | None = None,
    reliability_path: str | Path | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the responses of every wave, score them and (optionally) write both tables."""
    responses = pd.concat([pd.read_parquet(p) for p in responses_paths], ignore_index=True)
    scores = score_responses(responses, cohort)
    reliability = reliability_table(responses, cohort)
    for outcome in cohort.outcomes:
        log.info(
            "%s: %d of %d responses scored",
            outcome.name, scores[outcome.name].notna().sum(), len(scores),
        )  # fmt: skip
    metadata = {"config_hash": cohort.config_hash}
    if scores_path is not None:
        write_parquet(scores, scores_path, scores_schema(cohort), metadata)
    if reliability_path is not None:
        write_parquet(reliability, reliability_path, RELIABILITY_SCHEMA, metadata)
    return scores, reliability
