"""A draft cohort config written from an export (``outcomes init``).

Everything the draft guesses is marked ``# REVIEW``: the analyst confirms it before running.
Instrument blocks are guessed only where the question text makes it clear: every item of a
built-in instrument matches a distinct column's question text closely.
"""

from __future__ import annotations

import difflib
import json
import re

from outcomes.ingest.privacy import classify_columns
from outcomes.ingest.rawtable import RawTable
from outcomes.instruments.registry import get_instrument, list_instruments, normalize_label

_ID_CANDIDATES = ("ExternalReference", "record_id", "Respondent ID", "student_id", "ResponseId")
_MATCH = 0.75  # difflib ratio between an item's wording and a column's question text


def _similarity(topic: str, text: str) -> float:
    """1 when the question text ends with the item's wording (a matrix "stem - statement"),
    else the difflib ratio between the wording and the text after the last " - "."""
    if text.endswith(topic):
        return 1.0
    return difflib.SequenceMatcher(None, topic, text.rsplit(" - ", 1)[-1]).ratio()


def guess_instruments(raw: RawTable) -> dict[str, list[str]]:
    """Instrument id -> its item columns in item order, for instruments whose every item
    matches a different column's question text (ratio >= 0.75), the columns standing in the
    file in the instrument's item order (which tells the two printed RSES orders apart)."""
    texts = {c: normalize_label(raw.question_text.get(c, "")) for c in raw.values.columns}
    found = {}
    for instrument_id in list_instruments():
        instrument = get_instrument(instrument_id)
        if instrument.kind != "items":
            continue
        chosen: list[str] = []
        for item in instrument.items:
            topic = normalize_label(instrument.item_topics[item])
            scored = [
                (_similarity(topic, text), column)
                for column, text in texts.items()
                if column not in chosen and text
            ]
            best = max(scored, default=(0.0, None))
            if best[0] < _MATCH:
                break
            chosen.append(best[1])
        else:
            positions = [list(texts).index(c) for c in chosen]
            if positions == sorted(positions):  # items in printed order: the right version
                found[instrument_id] = chosen
    # A short form (UCLA-3, PSS-4) inside a long one claims the same columns: keep the longest.
    for short in sorted(found, key=lambda i: len(found[i])):
        if any(set(found[short]) < set(cols) for other, cols in found.items() if other != short):
            del found[short]
    return found


def draft_cohort_config(raw: RawTable, name: str) -> str:
    """YAML text of a draft cohort config for one export, with every guess marked REVIEW.

    Lists every column with its question text and class (mapped guesses, identifiers that
    ingest will drop, free text, other), so the analyst sees the whole export in one place.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
        raise ValueError("cohort name: lowercase letters, digits and _; starting with a letter")
    columns = list(raw.values.columns)
    id_column = next((c for c in _ID_CANDIDATES if c in columns), columns[0])
    instruments = guess_instruments(raw)
    used = {id_column} | {c for cols in instruments.values() for c in cols}
    classes = classify_columns(raw, used)
    lines = [
        f"# Draft cohort config written by `outcomes init` from {raw.path.name}.",
        "# Every line marked REVIEW is a guess: check it, then delete the mark.",
        "# Keys are documented in config/README.md.",
        f"name: {name}",
        f"title: {json.dumps(name.replace('_', ' ').capitalize())}  # REVIEW",
        "waves: [baseline, followup]  # REVIEW: the waves of this cohort, in time order",
        "sources:",
        f"  - {{path: {json.dumps(str(raw.path))}, wave: baseline, format: {raw.format}}}"
        "  # REVIEW",
        f"respondent_id: {json.dumps(id_column)}  # REVIEW: the id that links waves",
        "pseudonym_key: {env: OUTCOMES_PSEUDONYM_KEY}",
        "group: {column: REVIEW, participant: [REVIEW], comparison: [REVIEW]}",
        "cluster: null  # REVIEW: the school/site column, if any",
        "covariates: {}  # REVIEW: e.g. gender: {column: gender, type: categorical}",
        "exclude: {min_progress: 0, min_duration_s: 0, duplicates: keep_last_complete}  # REVIEW",
        "outcomes:",
    ]
    if not instruments:
        lines.append("  {}  # REVIEW: no built-in instrument was recognized from question text")
    for instrument_id, cols in instruments.items():
        instrument = get_instrument(instrument_id)
        domain = "social" if instrument.construct == "loneliness" else "mental_health"
        lines.append(
            f"  {instrument.construct.replace('-', '_')}: {{instrument: {instrument_id}, "
            f"columns: {json.dumps(cols)}, domain: {domain}}}  # REVIEW"
        )
    lines += [
        "plan: {design: self_selected, covariates: []}  # REVIEW: design (or randomized); "
        "baseline_wave (default the first wave, null if none), primary_wave (default the last)",
        "",
        "# Columns of the export (class: what ingest does with it):",
    ]
    for column in columns:
        text = raw.question_text.get(column, "").replace("\n", " ")[:90]
        lines.append(f"#   {column!r:28} {classes[column]:18} {text}")
    return "\n".join(lines) + "\n"
