"""Scoring beyond the built-in tables: both RSES orders, grades, user-defined instruments,
missing reasons, item statistics and the aggregate safety counts."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from outcomes.config import cohort_from_dict
from outcomes.errors import ConfigError, ExportError
from outcomes.ingest import ingest_wave
from outcomes.instruments import get_instrument, score_instrument
from outcomes.instruments.reliability import cronbach_alpha, item_statistics
from outcomes.instruments.stage import safety_table, score_responses
from outcomes.simulate import qualtrics_csv_text, simulate_cohort

from .conftest import demo_cohort_dict


def _score(instrument_id, rows):
    instrument = get_instrument(instrument_id)
    frame = pd.DataFrame(rows, columns=list(instrument.items), dtype=float)
    return score_instrument(frame, instrument)


def test_both_rses_orders_score_the_same_answers_alike():
    # The same person answering the 10 statements: Maryland order (reverse 2, 5, 6, 8, 9) and
    # the alternate order (reverse 3, 5, 8, 9, 10) list them differently (domain ref 2.4).
    maryland = get_instrument("rses")
    alternate = get_instrument("rses_alt")
    answer_by_text = {  # SA = 3 ... SD = 0: agrees with positives, disagrees with negatives
        text: (3 if item not in maryland.reverse else 1)
        for item, text in maryland.item_topics.items()
    }
    row_m = [answer_by_text[maryland.item_topics[i]] for i in maryland.items]
    row_a = [answer_by_text[alternate.item_topics[i]] for i in alternate.items]
    # Hand: 5 positives at 3 + 5 negatives at 1 reversed to 2 -> 15 + 10 = 25.
    assert _score("rses", [row_m])["score"].iloc[0] == 25.0
    assert _score("rses_alt", [row_a])["score"].iloc[0] == 25.0
    assert set(alternate.item_topics.values()) == set(maryland.item_topics.values())


def test_missing_reasons_never_zero():
    # PHQ-9 needs 7 of 9 (domain ref 2.0): 6 answered -> too_few_items; none -> not_answered.
    out = _score("phq9", [[1] * 6 + [np.nan] * 3, [np.nan] * 9, [0] * 9])
    assert out["missing_reason"].tolist() == ["too_few_items", "not_answered", None]
    assert out["score"].isna().tolist() == [True, True, False]
    assert out["score"].iloc[2] == 0.0  # a real zero stays a zero


def test_item_statistics_by_hand():
    # Items a = [1, 2, 3, 4], b = [2, 2, 4, 4], c = [1, 3, 3, 5]. Corrected item-total r of
    # a: corr(a, b + c) with b + c = [3, 5, 7, 9] -> exactly 1.0 (a linear in b + c).
    items = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 4, 4], "c": [1, 3, 3, 5]}, dtype=float)
    stats = item_statistics(items).set_index("item")
    assert stats.loc["a", "item_total_r"] == pytest.approx(1.0, abs=1e-12)
    # b with a + c = [2, 5, 6, 9]: deviations [-1, -1, 1, 1] and [-3.5, -0.5, 0.5, 3.5];
    # cross-products 8, squares 4 and 25 -> r = 8 / sqrt(4 * 25) = 0.8 exactly.
    assert stats.loc["b", "item_total_r"] == pytest.approx(0.8, abs=1e-12)
    # alpha if a deleted = alpha of (b, c), computed by the tested alpha (pingouin-checked).
    assert stats.loc["a", "alpha_if_deleted"] == pytest.approx(
        cronbach_alpha(items[["b", "c"]])["alpha"], abs=1e-12
    )
    assert stats.loc["c", "mean"] == 3.0 and stats.loc["c", "n"] == 4


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    folder = tmp_path_factory.mktemp("scoring")
    frame = simulate_cohort(150, seed=41).exports["baseline"]
    return folder, frame


def _cohort(folder, frame, edit=None, name="b.csv"):
    (folder / name).write_text(qualtrics_csv_text(frame), newline="")
    raw = demo_cohort_dict(folder)
    raw["sources"] = [{"path": str(folder / name), "wave": "baseline"}]
    if edit:
        edit(raw)
    return cohort_from_dict(raw)


def test_safety_counts_match_the_raw_item(export):
    folder, frame = export
    cohort = _cohort(folder, frame)
    responses = ingest_wave(cohort, "baseline").responses
    table = safety_table(responses, cohort).set_index(["wave", "group"])
    row = table.loc[("baseline", "all")]
    item9 = responses["depression_9"]
    # Counted from the ingested item directly: answered = non-missing, positive = >= 1.
    assert row["n_answered"] == item9.notna().sum()
    assert row["n_positive"] == (item9 >= 1).sum() > 0
    parts = table.loc[[("baseline", "participant"), ("baseline", "comparison")], "n_positive"]
    assert parts.sum() == row["n_positive"]
    assert set(table.columns) == {"outcome", "item", "n_answered", "n_positive"}  # no ids


@pytest.mark.parametrize(
    ("grade_format", "cells", "expected"),
    [
        # College Board table (domain ref 2.9): B+ 3.3, A- 3.7, F 0.0; 88% -> B+, 64% -> F.
        ("letter", ["B+", "a-", "F"], [3.3, 3.7, 0.0]),
        ("percent", ["88", "92.5", "64"], [3.3, 3.7, 0.0]),
        ("points", ["3.30", "3.7", "0"], [3.3, 3.7, 0.0]),
    ],
)
def test_grades_are_put_on_the_4_point_scale(export, grade_format, cells, expected):
    folder, frame = export
    graded = frame.copy()
    graded.attrs = frame.attrs
    rows = graded.index[(graded["Status"] == "IP Address") & (graded["Progress"] == "100")][:3]
    graded["gpa"] = {"letter": "C", "percent": "75", "points": "2.0"}[grade_format]
    graded.loc[rows, "gpa"] = cells

    def edit(raw):
        raw["outcomes"]["gpa"]["grade_format"] = grade_format

    cohort = _cohort(folder, graded, edit, name=f"{grade_format}.csv")
    result = ingest_wave(cohort, "baseline")
    by_row = result.ledger.set_index("row_number")
    kept = [r for r in rows if by_row.loc[r + 1, "disposition"] == "analysed"]
    ids = by_row.loc[[r + 1 for r in kept], "respondent_id"]
    values = result.responses.set_index("respondent_id").loc[ids, "gpa"].tolist()
    assert values == [expected[list(rows).index(r)] for r in kept]
    assert set(result.responses["gpa"]) - set(expected) == {2.0}  # C / 75% / 2.0 elsewhere


def test_unknown_letter_and_weighted_gpa_stop_the_run(export):
    folder, frame = export
    bad = frame.copy()
    bad.attrs = frame.attrs
    bad["gpa"] = "B"
    bad.loc[bad.index[10], "gpa"] = "Excellent"
    cohort = _cohort(folder, bad, lambda r: r["outcomes"]["gpa"].update(grade_format="letter"),
                     name="letters.csv")  # fmt: skip
    with pytest.raises(ExportError, match="not in the table") as info:
        ingest_wave(cohort, "baseline")
    # The cell is described, never quoted (it could be identifying).
    assert info.value.column == "gpa" and info.value.found == "a word of 9 letters"
    weighted = frame.copy()
    weighted.attrs = frame.attrs
    weighted["gpa"] = np.where(np.arange(len(frame)) % 3 == 0, "4.50", "3.20")
    with pytest.raises(ExportError, match="looks weighted"):
        ingest_wave(_cohort(folder, weighted, name="weighted.csv"), "baseline")
    as_gpa5 = _cohort(folder, weighted, lambda r: r["outcomes"]["gpa"].update(instrument="gpa5"),
                      name="weighted5.csv")  # fmt: skip
    assert ingest_wave(as_gpa5, "baseline").responses["gpa"].max() == 4.5


CONNECTEDNESS = {
    "name": "School connectedness (3 items, demo)",
    "construct": "connectedness",
    "citation": "Defined in this test config.",
    "items": [{"id": 1, "topic": "lack companionship"}, {"id": 2, "topic": "left out"},
              {"id": 3, "topic": "isolated"}],
    "responses": {"Hardly ever": 2, "Some of the time": 1, "Often": 0},
    "reverse": [],
    "scoring": "mean",
    "min_answered": 2,
    "direction": "higher_is_better",
}  # fmt: skip


def test_user_defined_instrument_is_scored(export):
    folder, frame = export

    def edit(raw):
        raw["instruments"] = {"connect3": copy.deepcopy(CONNECTEDNESS)}
        raw["outcomes"]["connectedness"] = {"instrument": "connect3", "columns": "Q5_{1..3}",
                                            "domain": "social"}  # fmt: skip

    cohort = _cohort(folder, frame, edit, name="custom.csv")
    scores = score_responses(ingest_wave(cohort, "baseline").responses, cohort)
    # Its key reverses the UCLA-3 labels (Hardly ever 2 ... Often 0) and averages: for every
    # fully answered row, connectedness = (9 - loneliness) / 3 by hand (UCLA-3 is 1..3 summed).
    full = scores["loneliness"].notna()
    assert full.sum() > 100
    np.testing.assert_allclose(
        scores.loc[full, "connectedness"], (9 - scores.loc[full, "loneliness"]) / 3
    )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (lambda spec: spec.update(reverse=[7]), "instruments.connect3.reverse"),
        (lambda spec: spec.update(responses={"Yes": 1}), "instruments.connect3.responses"),
        (
            lambda spec: spec.update(bands=[{"label": "b", "min": 2}, {"label": "a", "min": 1}]),
            "instruments.connect3.bands",
        ),
        (lambda spec: spec.pop("direction"), "instruments.connect3"),
    ],
)
def test_user_defined_instrument_errors_name_the_key(change, key):
    raw = demo_cohort_dict(__import__("pathlib").Path("/nonexistent"))
    spec = copy.deepcopy(CONNECTEDNESS)
    change(spec)
    raw["instruments"] = {"connect3": spec}
    with pytest.raises(ConfigError) as info:
        cohort_from_dict(raw, path="c.yaml")
    assert info.value.column.startswith(key)


def test_user_instrument_cannot_shadow_a_builtin():
    raw = demo_cohort_dict(__import__("pathlib").Path("/nonexistent"))
    raw["instruments"] = {"phq9": copy.deepcopy(CONNECTEDNESS)}
    with pytest.raises(ConfigError, match="built-in"):
        cohort_from_dict(raw)
