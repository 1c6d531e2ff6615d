"""The score stage: responses of every wave -> scale scores and reliability."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa

from outcomes.config import Cohort
from outcomes.instruments.reliability import cronbach_alpha, item_statistics
from outcomes.instruments.scoring import reverse_key, score_instrument
from outcomes.tables import ITEMS_SCHEMA, RELIABILITY_SCHEMA, SAFETY_SCHEMA, write_parquet

ID_COLUMNS = ["respondent_id", "wave", "group", "cluster"]
log = logging.getLogger(__name__)


def scores_schema(cohort: Cohort) -> pa.Schema:
    """Schema of ``scores.parquet``: one row per respondent x wave."""
    fields = [
        pa.field("respondent_id", pa.string(), nullable=False),
        pa.field("wave", pa.string(), nullable=False),
        pa.field("group", pa.string()),
        pa.field("cluster", pa.string()),
    ]
    for name, spec in cohort.covariates.items():
        fields.append(pa.field(name, pa.float64() if spec["type"] == "numeric" else pa.string()))
    for outcome in cohort.outcomes:
        fields += [
            pa.field(outcome.name, pa.float64()),
            pa.field(f"{outcome.name}_n_answered", pa.int16(), nullable=False),
            pa.field(f"{outcome.name}_band", pa.string()),
            pa.field(f"{outcome.name}_missing_reason", pa.string()),
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
        not computable), ``{outcome}_n_answered``, ``{outcome}_band`` and
        ``{outcome}_missing_reason`` (``not_answered``, ``too_few_items`` or None).
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
        scores[f"{outcome.name}_missing_reason"] = scored["missing_reason"]
    order = {wave: i for i, wave in enumerate(cohort.waves)}
    scores = scores.sort_values(
        ["wave", "respondent_id"], key=lambda s: s.map(order) if s.name == "wave" else s
    )
    return scores.reset_index(drop=True)


def _scored_items(responses: pd.DataFrame, outcome) -> pd.DataFrame:
    """An outcome's items as floats, reverse-keyed (the form reliability is computed on)."""
    items = responses[list(outcome.item_names)].astype(float)
    for pos, item in enumerate(outcome.instrument.items):
        if item in outcome.instrument.reverse:
            column = items.columns[pos]
            items[column] = reverse_key(items[column], outcome.instrument)
    return items


GROUPS = ("all", "participant", "comparison")


def _slices(responses: pd.DataFrame, cohort: Cohort):
    """(wave, group, rows) for every wave and for everyone / each group."""
    for wave in cohort.waves:
        in_wave = responses["wave"] == wave
        for group in GROUPS:
            rows = in_wave if group == "all" else in_wave & (responses["group"] == group)
            yield wave, group, rows


def reliability_table(responses: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Cronbach's alpha of each multi-item outcome per wave and group.

    Returns
    -------
    DataFrame
        Columns ``outcome``, ``instrument``, ``wave``, ``group`` (``all``, ``participant``,
        ``comparison``), ``alpha``, ``ci_low``, ``ci_high`` (95%, Feldt), ``n`` (complete
        cases), ``k`` (items).
    """
    rows = []
    for outcome in cohort.outcomes:
        if outcome.instrument.kind != "items":
            continue
        items = _scored_items(responses, outcome)
        for wave, group, selected in _slices(responses, cohort):
            rows.append(
                {"outcome": outcome.name, "instrument": outcome.instrument.id, "wave": wave,
                 "group": group} | cronbach_alpha(items[selected])
            )  # fmt: skip
    return pd.DataFrame(rows, columns=RELIABILITY_SCHEMA.names)


def item_table(responses: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Item statistics (:func:`outcomes.instruments.reliability.item_statistics`) of each
    multi-item outcome per wave, everyone together; columns ``outcome``, ``wave`` and the
    item statistics, ``item`` being the item id."""
    frames = []
    for outcome in cohort.outcomes:
        if outcome.instrument.kind != "items":
            continue
        items = _scored_items(responses, outcome)
        items.columns = [str(i) for i in outcome.instrument.items]
        for wave in cohort.waves:
            stats = item_statistics(items[responses["wave"] == wave])
            frames.append(stats.assign(outcome=outcome.name, wave=wave))
    columns = ["outcome", "wave", "item", "n", "mean", "sd", "item_total_r", "alpha_if_deleted"]
    return (
        pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)
    )


def safety_table(responses: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Aggregate counts for safety items (PHQ-9 item 9, thoughts of self-harm).

    Never per respondent: one row per outcome with a safety item x wave x group, columns
    ``outcome``, ``item``, ``wave``, ``group``, ``n_answered`` and ``n_positive`` (answered
    with any value above the lowest, e.g. "Several days" or more). Reports apply small-cell
    suppression to both counts. See docs/safety.md for how a program should act on item 9.
    """
    rows = []
    for outcome in cohort.outcomes:
        item = outcome.instrument.safety_item
        if item is None:
            continue
        column = f"{outcome.name}_{item}"
        values = responses[column].astype(float)  # raw answer, never imputed
        for wave, group, selected in _slices(responses, cohort):
            answered = values[selected].dropna()
            rows.append(
                {"outcome": outcome.name, "item": item, "wave": wave, "group": group,
                 "n_answered": len(answered),
                 "n_positive": int((answered > outcome.instrument.item_min).sum())}
            )  # fmt: skip
    columns = ["outcome", "item", "wave", "group", "n_answered", "n_positive"]
    return pd.DataFrame(rows, columns=columns)


def score_cohort(
    cohort: Cohort,
    responses_paths: list[str | Path],
    scores_path: str | Path | None = None,
    reliability_path: str | Path | None = None,
    items_path: str | Path | None = None,
    safety_path: str | Path | None = None,
) -> dict[str, pd.DataFrame]:
    """Read the responses of every wave, score them, and (optionally) write the tables:
    ``scores``, ``reliability``, ``items`` (item statistics) and ``safety`` (aggregate)."""
    responses = pd.concat([pd.read_parquet(p) for p in responses_paths], ignore_index=True)
    tables = {
        "scores": score_responses(responses, cohort),
        "reliability": reliability_table(responses, cohort),
        "items": item_table(responses, cohort),
        "safety": safety_table(responses, cohort),
    }
    scores = tables["scores"]
    for outcome in cohort.outcomes:
        log.info(
            "%s: %d of %d responses scored",
            outcome.name, scores[outcome.name].notna().sum(), len(scores),
        )  # fmt: skip
    metadata = {"config_hash": cohort.config_hash}
    schemas = {
        "scores": scores_schema(cohort),
        "reliability": RELIABILITY_SCHEMA,
        "items": ITEMS_SCHEMA,
        "safety": SAFETY_SCHEMA,
    }
    paths = {"scores": scores_path, "reliability": reliability_path, "items": items_path,
             "safety": safety_path}  # fmt: skip
    for name, path in paths.items():
        if path is not None:
            write_parquet(tables[name], path, schemas[name], metadata)
    return tables
