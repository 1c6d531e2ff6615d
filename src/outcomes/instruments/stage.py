"""The score stage: responses of every wave -> scale scores and reliability."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pyarrow as pa

from outcomes.config import Cohort
from outcomes.errors import ExportError
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


def check_linkage(responses_paths: list[str | Path], cohort: Cohort) -> None:
    """Stop when the waves were pseudonymized with different keys (their Parquet metadata
    records a fingerprint of the key, never the key): their pseudonyms could never match."""
    from outcomes.tables import read_metadata

    prints = {}
    for path in responses_paths:
        fingerprint = read_metadata(path).get("key_fingerprint")
        if fingerprint is not None:
            prints.setdefault(fingerprint, []).append(Path(path).parent.name)
    if len(prints) > 1:
        waves = "; ".join(", ".join(w) for w in prints.values())
        raise ExportError(
            "the waves were pseudonymized with different keys, so no student would link",
            file=cohort.path,
            column="pseudonym_key",
            expected="the same pseudonym key for every wave of a cohort (ingest them again "
            "with the one key)",
            found=f"{len(prints)} different keys, by wave: {waves}",
        )


def report_linkage(responses: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """How many students of the assignment wave are found at each later wave; stop below
    ``cohort.min_linked_share``.

    Returns
    -------
    DataFrame
        ``wave``, ``n_assignment`` (students at the assignment wave), ``n_linked`` (of them,
        at this wave), ``share``. Also logged.

    Raises
    ------
    ExportError
        When a later wave links fewer than ``min_linked_share`` of them (and has responses):
        the ids likely differ in format between waves, or the key changed.
    """
    plan = cohort.plan
    first = set(responses.loc[responses["wave"] == plan.assignment_wave, "respondent_id"])
    later = cohort.waves[cohort.waves.index(plan.assignment_wave) + 1 :]
    rows = []
    for wave in later:
        here = set(responses.loc[responses["wave"] == wave, "respondent_id"])
        linked = len(first & here)
        share = linked / len(first) if first else float("nan")
        rows.append({"wave": wave, "n_assignment": len(first), "n_linked": linked,
                     "share": share})  # fmt: skip
        log.info("%s: %d of the %d students of %s found (%.0f%%)",
                 wave, linked, len(first), plan.assignment_wave, 100 * share)  # fmt: skip
        if here and first and share < cohort.min_linked_share:
            raise ExportError(
                f"few students of the {plan.assignment_wave} wave are found at {wave}",
                file=cohort.path,
                column=cohort.respondent_id,
                expected=f"at least {cohort.min_linked_share:.0%} of them (min_linked_share): "
                "the same student id, in the same format, at every wave (check leading "
                "zeros, prefixes and the pseudonym key)",
                found=f"{linked} of {len(first)} ({share:.0%}) among {len(here)} responses",
            )
    return pd.DataFrame(rows, columns=["wave", "n_assignment", "n_linked", "share"])


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
    check_linkage(responses_paths, cohort)
    responses = pd.concat([pd.read_parquet(p) for p in responses_paths], ignore_index=True)
    report_linkage(responses, cohort)
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
