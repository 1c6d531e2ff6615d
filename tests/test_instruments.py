"""Tests of the built-in instruments, their scoring and Cronbach's alpha (domain reference 2.x)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pingouin
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.errors import ConfigError, OutcomesError
from outcomes.instruments.registry import get_instrument, list_instruments
from outcomes.instruments.reliability import cronbach_alpha
from outcomes.instruments.scoring import reverse_key, score_instrument

NaN = np.nan
ITEM_IDS = ["phq9", "gad7", "pss10", "pss4", "rses", "rses_alt", "ucla3", "ucla20"]

# An all-missing row triggers numpy's "Mean of empty slice" warning inside scoring; harmless.
ignore_empty_mean = pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")


def score(instrument_id: str, rows) -> pd.DataFrame:
    instrument = get_instrument(instrument_id)
    return score_instrument(pd.DataFrame(rows, columns=list(instrument.items)), instrument)


def one(instrument_id: str, row) -> tuple[float, int, str | None]:
    out = score(instrument_id, [row]).iloc[0]
    band = None if pd.isna(out["band"]) else out["band"]
    return out["score"], int(out["n_answered"]), band


def items_summing_to(total: int, k: int, top: int) -> list[int]:
    """k item values in 0..top summing to total (fill with top first): a hand-built response."""
    values = []
    for _ in range(k):
        values.append(min(top, total))
        total -= values[-1]
    assert total == 0
    return values


# --- registry: the summary table of domain ref 2.7 ----------------------------------------------


def test_builtin_ids():
    # The seven built-in instruments of the project (brief; domain ref 2.7 and 2.9).
    assert list_instruments() == [
        "gad7", "gpa", "gpa5", "phq9", "pss10", "pss4", "rses", "rses_alt", "ucla20", "ucla3"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("instrument_id", "k", "item_range", "reverse", "total_range", "direction", "min_answered"),
    [
        # Domain ref 2.7 (k, item range, reverse items, total range, direction) and the
        # suggested proration minimums of 2.0 (PHQ-9 >= 7/9, GAD-7 >= 6/7, PSS-10 >= 8/10,
        # PSS-4 4/4, RSES >= 8/10, UCLA-3 3/3).
        ("phq9", 9, (0, 3), set(), (0, 27), "lower_is_better", 7),
        ("gad7", 7, (0, 3), set(), (0, 21), "lower_is_better", 6),
        ("pss10", 10, (0, 4), {4, 5, 7, 8}, (0, 40), "lower_is_better", 8),
        ("pss4", 4, (0, 4), {2, 3}, (0, 16), "lower_is_better", 4),
        ("rses", 10, (0, 3), {2, 5, 6, 8, 9}, (0, 30), "higher_is_better", 8),
        ("ucla3", 3, (1, 3), set(), (3, 9), "lower_is_better", 3),
        # UCLA-LS v3 (Russell 1996; domain ref 2.6): 1-4, reverse 1,5,6,9,10,15,16,19,20,
        # 20-80, >= 16/20 answered (2.0).
        ("ucla20", 20, (1, 4), {1, 5, 6, 9, 10, 15, 16, 19, 20}, (20, 80), "lower_is_better", 16),
    ],
)
def test_registry_matches_reference_table(
    instrument_id, k, item_range, reverse, total_range, direction, min_answered
):
    inst = get_instrument(instrument_id)
    assert inst.kind == "items"
    assert inst.items == tuple(range(1, k + 1))
    assert (inst.item_min, inst.item_max) == item_range
    assert set(inst.reverse) == reverse
    assert inst.range == total_range
    assert inst.direction == direction
    assert inst.min_answered == min_answered


def test_gpa_is_numeric_on_the_four_point_scale():
    # Domain ref 2.9: unweighted 4.0 scale (College Board table), higher is better.
    gpa = get_instrument("gpa")
    assert gpa.kind == "numeric"
    assert gpa.range == (0.0, 4.0)
    assert gpa.direction == "higher_is_better"


def test_unknown_instrument_raises_config_error():
    with pytest.raises(ConfigError, match="unknown instrument"):
        get_instrument("phq8")


@pytest.mark.parametrize(
    ("instrument_id", "label", "value"),
    [
        # Response keys of domain ref 2.1-2.5.
        ("phq9", "Not at all", 0),
        ("phq9", "  several   DAYS ", 1),  # labels compare case-folded and single-spaced
        ("gad7", "Nearly every day", 3),
        ("pss10", "Very often", 4),
        ("pss10", "Never", 0),
        ("rses", "Strongly agree", 3),
        ("rses", "Strongly disagree", 0),
        ("ucla3", "Hardly ever", 1),
        ("ucla3", "Often", 3),
    ],
)
def test_response_keys(instrument_id, label, value):
    assert get_instrument(instrument_id).value_of(label) == value


def test_unknown_label_has_no_value():
    assert get_instrument("phq9").value_of("Sometimes") is None


# --- PHQ-9 (Kroenke, Spitzer & Williams 2001) --------------------------------------------------


def test_phq9_all_several_days_is_9_mild():
    # Domain ref 2.1: "Several days" = 1 on each of 9 items -> 9, band 5-9 "mild".
    phq9 = get_instrument("phq9")
    row = [phq9.value_of("Several days")] * 9
    assert one("phq9", row) == (9.0, 9, "mild")


@pytest.mark.parametrize(
    ("total", "band"),
    [
        # Kroenke et al. 2001 bands: 0-4 minimal, 5-9 mild, 10-14 moderate,
        # 15-19 moderately severe, 20-27 severe (domain ref 2.1).
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_band_edges(total, band):
    assert one("phq9", items_summing_to(total, 9, 3)) == (float(total), 9, band)


def test_phq9_prorated_with_two_missing():
    # Domain ref 2.0 (PHQ-9 proration, <= 2 of 9 missing): 7 answered [2,1,1,0,3,1,2], sum 10,
    # total = 10/7 * 9 = 12.857143 (unrounded); band from round-half-up 13 -> moderate.
    value, n, band = one("phq9", [2, 1, 1, 0, 3, 1, 2, NaN, NaN])
    assert value == pytest.approx(90 / 7, abs=1e-12)
    assert (n, band) == (7, "moderate")


def test_phq9_not_scored_with_three_missing():
    # Domain ref 2.0: more than 2 of 9 missing -> no score (NaN, never 0), no band.
    value, n, band = one("phq9", [2, 1, 1, 0, 3, 1, NaN, NaN, NaN])
    assert math.isnan(value)
    assert (n, band) == (6, None)


def test_phq9_band_uses_round_half_up_of_prorated_total():
    # 8 answered summing to 4: total = 4/8 * 9 = 4.5 exactly; half up -> 5 -> "mild" (scoring
    # docstring; numpy's round-half-even would give 4 -> "minimal"). Score stays 4.5.
    value, n, band = one("phq9", [1, 1, 1, 1, 0, 0, 0, 0, NaN])
    assert value == pytest.approx(4.5, abs=1e-12)
    assert (n, band) == (8, "mild")


# --- GAD-7 (Spitzer et al. 2006) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "band"),
    [
        # Spitzer et al. 2006 bands: 0-4 minimal, 5-9 mild, 10-14 moderate, 15-21 severe.
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_band_edges(total, band):
    assert one("gad7", items_summing_to(total, 7, 3)) == (float(total), 7, band)


def test_gad7_prorated_with_one_missing():
    # Domain ref 2.0 (GAD-7 >= 6/7): 6 answered [1,2,3,0,1,2], sum 9, total = 9/6 * 7 = 10.5;
    # band: half up 11 -> moderate.
    value, n, band = one("gad7", [1, 2, 3, 0, 1, 2, NaN])
    assert value == pytest.approx(10.5, abs=1e-12)
    assert (n, band) == (6, "moderate")


def test_gad7_not_scored_with_two_missing():
    value, n, band = one("gad7", [1, 2, 3, 0, 1, NaN, NaN])
    assert math.isnan(value)
    assert (n, band) == (5, None)


# --- PSS-10 and PSS-4 (Cohen's scoring page: items 4, 5, 7, 8 reversed) ------------------------


def test_pss10_all_never_counts_the_reversed_items():
    # Cohen's scoring page (domain ref 2.3): items 4, 5, 7, 8 reversed (4 - x); all "Never" (0)
    # -> 6 * 0 + 4 * 4 = 16. No bands (PSS has no cut-offs).
    pss10 = get_instrument("pss10")
    assert one("pss10", [pss10.value_of("Never")] * 10) == (16.0, 10, None)


def test_pss10_extremes_depend_on_which_items_are_reversed():
    # Hand: 4 ("Very often") on the negatively worded items 1,2,3,6,9,10 and 0 on 4,5,7,8
    # -> 6 * 4 + 4 * (4 - 0) = 40 (maximum); the mirror response -> 0 (minimum).
    worst = [4, 4, 4, 0, 0, 4, 0, 0, 4, 4]
    best = [0, 0, 0, 4, 4, 0, 4, 4, 0, 0]
    assert one("pss10", worst)[0] == pytest.approx(40.0, abs=1e-12)
    assert one("pss10", best)[0] == pytest.approx(0.0, abs=1e-12)


def test_pss10_mixed_response_by_hand():
    # Hand: [2,3,1,1,2,3,0,4,2,1]; reversed 4: 1->3, 5: 2->2, 7: 0->4, 8: 4->0.
    # 2 + 3 + 1 + 3 + 2 + 3 + 4 + 0 + 2 + 1 = 21.
    assert one("pss10", [2, 3, 1, 1, 2, 3, 0, 4, 2, 1])[0] == pytest.approx(21.0, abs=1e-12)


def test_pss10_prorated_with_two_missing():
    # Hand: [2,3,1,4,NaN,1,NaN,3,2,0]; reversed 4: 4->0, 8: 3->1; answered 8 items sum
    # 2+3+1+0+1+1+2+0 = 10; total = 10/8 * 10 = 12.5.
    value, n, _ = one("pss10", [2, 3, 1, 4, NaN, 1, NaN, 3, 2, 0])
    assert value == pytest.approx(12.5, abs=1e-12)
    assert n == 8


def test_pss10_not_scored_with_three_missing():
    value, n, _ = one("pss10", [2, 3, 1, 4, NaN, 1, NaN, 3, NaN, 0])
    assert math.isnan(value)
    assert n == 7


def test_pss4_all_never():
    # Domain ref 2.3: PSS-4 items 2 and 3 reversed: all 0 -> 0 + 4 + 4 + 0 = 8.
    assert one("pss4", [0, 0, 0, 0]) == (8.0, 4, None)


def test_pss4_requires_all_items():
    # Domain ref 2.0: PSS-4 4/4.
    assert math.isnan(one("pss4", [0, 0, 0, NaN])[0])


# --- RSES, Maryland order (reverse 2, 5, 6, 8, 9) ----------------------------------------------


def test_rses_all_strongly_agree():
    # Domain ref 2.4: positive items 1,3,4,7,10 SA = 3, negative 2,5,6,8,9 SA = 0:
    # 5 * 3 + 5 * 0 = 15 -> band "normal" (15-25 convention).
    rses = get_instrument("rses")
    assert one("rses", [rses.value_of("Strongly agree")] * 10) == (15.0, 10, "normal")


@pytest.mark.parametrize(
    ("row", "expected", "band"),
    [
        # Hand (domain ref 2.4): SA = 3 on positive items, SD = 0 (-> 3) on negative: 30, high.
        ([3, 0, 3, 3, 0, 0, 3, 0, 0, 3], 30.0, "high"),
        # Mirror: SD on positive, SA on negative: 0, low.
        ([0, 3, 0, 0, 3, 3, 0, 3, 3, 0], 0.0, "low"),
        # Band edges of the < 15 low / 15-25 normal / > 25 high convention (x -> 3 - x on
        # items 2, 5, 6, 8, 9; positive items are 1, 3, 4, 7, 10):
        # positive 2+2+2+2+0 = 8; negative 1,1,1,2,1 -> 2,2,2,1,2 = 9; total 17.
        ([2, 1, 2, 2, 1, 1, 2, 2, 1, 0], 17.0, "normal"),
        # positive 2*5 = 10; negative 2,2,2,2,3 -> 1,1,1,1,0 = 4; total 14.
        ([2, 2, 2, 2, 2, 2, 2, 2, 3, 2], 14.0, "low"),
        # positive 3+3+3+3+2 = 14; negative 0,1,1,1,1 -> 3,2,2,2,2 = 11; total 25.
        ([3, 0, 3, 3, 1, 1, 3, 1, 1, 2], 25.0, "normal"),
        # as above with item 10 = 3: positive 15, negative 11; total 26.
        ([3, 0, 3, 3, 1, 1, 3, 1, 1, 3], 26.0, "high"),
    ],
)
def test_rses_by_hand(row, expected, band):
    assert one("rses", row) == (expected, 10, band)


def test_rses_prorated_with_two_missing():
    # Domain ref 2.0 (RSES >= 8/10): all SA with items 9 and 10 missing: answered 1-8 give
    # 3,0,3,3,0,0,3,0 = 12 over 8 items -> 12/8 * 10 = 15.
    value, n, band = one("rses", [3, 3, 3, 3, 3, 3, 3, 3, NaN, NaN])
    assert value == pytest.approx(15.0, abs=1e-12)
    assert (n, band) == (8, "normal")


# --- UCLA-3 (Hughes et al. 2004) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "expected", "band"),
    [
        # Domain ref 2.5: items 1-3 on 1..3, sum 3..9; convention 3-5 not lonely, 6-9 lonely.
        ([1, 1, 1], 3.0, "not lonely"),
        ([2, 2, 1], 5.0, "not lonely"),
        ([2, 2, 2], 6.0, "lonely"),
        ([3, 3, 3], 9.0, "lonely"),
    ],
)
def test_ucla3_range_and_bands(row, expected, band):
    assert one("ucla3", row) == (expected, 3, band)


def test_ucla3_requires_all_items():
    assert math.isnan(one("ucla3", [3, 3, NaN])[0])


# --- missing, malformed and out-of-range input --------------------------------------------------


@ignore_empty_mean
@pytest.mark.parametrize("instrument_id", ITEM_IDS)
def test_unscorable_rows_are_nan_never_zero(instrument_id):
    # Scoring docstring / domain ref 2.0: below min_answered the score is NaN, never 0.
    inst = get_instrument(instrument_id)
    k = len(inst.items)
    empty = [NaN] * k
    too_few = [inst.item_min] * (inst.min_answered - 1) + [NaN] * (k - inst.min_answered + 1)
    out = score(instrument_id, [empty, too_few])
    assert out["score"].isna().all()
    assert out["n_answered"].tolist() == [0, inst.min_answered - 1]
    assert out["band"].isna().all()


@pytest.mark.parametrize(
    ("instrument_id", "position", "bad"),
    [
        # One value outside the key's range (domain ref 2.7 item ranges).
        ("phq9", 0, 4),
        ("phq9", 8, -1),
        ("gad7", 3, 3.5),
        ("pss10", 4, 5),
        ("pss4", 1, -1),
        ("rses", 9, 4),
        ("ucla3", 0, 0),
        ("ucla3", 2, 4),
    ],
)
def test_out_of_range_item_raises(instrument_id, position, bad):
    inst = get_instrument(instrument_id)
    row = [inst.item_min] * len(inst.items)
    row[position] = bad
    with pytest.raises(OutcomesError, match="outside the range"):
        score(instrument_id, [row])


def test_wrong_number_of_item_columns_raises():
    phq9 = get_instrument("phq9")
    with pytest.raises(OutcomesError, match="wrong number of item columns"):
        score_instrument(pd.DataFrame([[0] * 8]), phq9)


def test_gpa_numeric_scores():
    # Domain ref 2.9: the value itself on 0..4; missing -> NaN with 0 answered; no bands.
    out = score_instrument(pd.DataFrame({"gpa": [0.0, 3.2, 4.0, NaN]}), get_instrument("gpa"))
    assert out["score"].iloc[:3].tolist() == pytest.approx([0.0, 3.2, 4.0], abs=1e-12)
    assert math.isnan(out["score"].iloc[3])
    assert out["n_answered"].tolist() == [1, 1, 1, 0]
    assert out["band"].isna().all()


@pytest.mark.parametrize("bad", [4.5, -0.1])
def test_gpa_out_of_range_raises(bad):
    # Domain ref 2.9: a value above 4.0 signals a weighted scale; it must not pass silently.
    with pytest.raises(OutcomesError, match="outside the range"):
        score_instrument(pd.DataFrame({"gpa": [3.0, bad]}), get_instrument("gpa"))


def test_index_is_kept():
    # Hand: 1 + 2 + 3 = 6 and 3 + 3 + 3 = 9, on the caller's row labels.
    ucla3 = get_instrument("ucla3")
    frame = pd.DataFrame([[1, 2, 3], [3, 3, 3]], index=["r7", "r9"], columns=list(ucla3.items))
    out = score_instrument(frame, ucla3)
    assert list(out.index) == ["r7", "r9"]
    assert out["score"].tolist() == pytest.approx([6.0, 9.0], abs=1e-12)


# --- properties --------------------------------------------------------------------------------


@st.composite
def complete_response(draw):
    instrument_id = draw(st.sampled_from(ITEM_IDS))
    inst = get_instrument(instrument_id)
    lo, hi = int(inst.item_min), int(inst.item_max)
    row = draw(st.lists(st.integers(lo, hi), min_size=len(inst.items), max_size=len(inst.items)))
    return inst, row


@settings(max_examples=150, deadline=None)
@given(case=complete_response())
def test_complete_response_score_does_not_depend_on_min_answered(case):
    # A complete response is never prorated, whatever the minimum; and its total is the plain
    # sum after reversing (min + max) - x on the reverse items (domain ref 2.0).
    inst, row = case
    loose = dataclasses.replace(inst, min_answered=1)
    frame = pd.DataFrame([row], columns=list(inst.items))
    strict_score = score_instrument(frame, inst)["score"].iloc[0]
    loose_score = score_instrument(frame, loose)["score"].iloc[0]
    expected = sum(
        (inst.item_min + inst.item_max - x) if item in inst.reverse else x
        for item, x in zip(inst.items, row, strict=True)
    )
    assert strict_score == pytest.approx(loose_score, abs=1e-9)
    assert strict_score == pytest.approx(expected, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    instrument_id=st.sampled_from(ITEM_IDS),
    data=st.data(),
)
def test_reverse_key_twice_is_identity(instrument_id, data):
    inst = get_instrument(instrument_id)
    lo, hi = int(inst.item_min), int(inst.item_max)
    values = np.array(data.draw(st.lists(st.integers(lo, hi), min_size=1, max_size=20)), float)
    once = reverse_key(values, inst)
    # Domain ref 2.0: reversed = (min + max) - x, e.g. 4 - x on 0..4 (PSS), 3 - x on 0..3
    # (RSES), 4 - x on 1..3 (UCLA-3).
    assert once == pytest.approx((lo + hi) - values, abs=0)
    assert reverse_key(once, inst) == pytest.approx(values, abs=0)


# --- Cronbach's alpha vs pingouin ---------------------------------------------------------------


def test_cronbach_alpha_by_hand():
    # Hand: items a = [1,2,3], b = [1,3,2]: var a = var b = 1; totals [2,5,5], mean 4,
    # var = (4 + 1 + 1)/2 = 3; alpha = 2/1 * (1 - 2/3) = 2/3.
    result = cronbach_alpha(pd.DataFrame({"a": [1, 2, 3], "b": [1, 3, 2]}))
    assert result["alpha"] == pytest.approx(2 / 3, abs=1e-12)
    assert (result["n"], result["k"]) == (3, 2)


def test_cronbach_alpha_pingouin_likert_long_example():
    # pingouin.cronbach_alpha docstring: read_dataset("cronbach_alpha") in long form ->
    # (0.5917188485995826, array([0.195, 0.84])); pingouin rounds the CI to 3 decimals
    # (np.round([lower, upper], 3) in pingouin/reliability.py), hence abs=1e-3 there.
    long = pingouin.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", values="Scores", columns="Items")
    result = cronbach_alpha(wide)
    assert result["alpha"] == pytest.approx(0.5917188485995826, abs=1e-6)
    assert result["ci_low"] == pytest.approx(0.195, abs=1e-3)
    assert result["ci_high"] == pytest.approx(0.84, abs=1e-3)
    assert (result["n"], result["k"]) == (15, 10)
    live_alpha, live_ci = pingouin.cronbach_alpha(
        data=long, items="Items", scores="Scores", subject="Subj"
    )
    assert result["alpha"] == pytest.approx(live_alpha, abs=1e-6)
    assert [result["ci_low"], result["ci_high"]] == pytest.approx(list(live_ci), abs=1e-3)


def test_cronbach_alpha_pingouin_median_imputed_example():
    # pingouin.cronbach_alpha docstring: cronbach_wide_missing with NaN replaced by the column
    # medians -> (0.7380191693290734, array([0.447, 0.911])).
    data = pingouin.read_dataset("cronbach_wide_missing")
    result = cronbach_alpha(data.fillna(data.median()))
    assert result["alpha"] == pytest.approx(0.7380191693290734, abs=1e-6)
    assert result["ci_low"] == pytest.approx(0.447, abs=1e-3)
    assert result["ci_high"] == pytest.approx(0.911, abs=1e-3)


def test_cronbach_alpha_pingouin_listwise_example():
    # pingouin.cronbach_alpha docstring, nan_policy="listwise" (psych::alpha complete.obs):
    # alpha = 0.8016949152542373 on the 9 complete rows of 12.
    # pingouin's documented CI [0.581, 0.933] uses n = 12 (its `n, k = data.shape` runs before
    # the listwise dropna), while Feldt's interval needs the n actually used (9); so the CI is
    # compared with pingouin on the already complete rows: (0.8016949, [0.533, 0.947]).
    data = pingouin.read_dataset("cronbach_wide_missing")
    result = cronbach_alpha(data)
    assert result["alpha"] == pytest.approx(0.8016949152542373, abs=1e-6)
    assert result["n"] == 9
    assert result["ci_low"] == pytest.approx(0.533, abs=1e-3)
    assert result["ci_high"] == pytest.approx(0.947, abs=1e-3)
    live_alpha, live_ci = pingouin.cronbach_alpha(data.dropna())
    assert result["alpha"] == pytest.approx(live_alpha, abs=1e-6)
    assert [result["ci_low"], result["ci_high"]] == pytest.approx(list(live_ci), abs=1e-3)


def test_cronbach_alpha_ci_level():
    # Wider level, wider interval: pingouin.cronbach_alpha(..., ci=0.99) on the Likert example
    # is the reference for ci = 0.99.
    long = pingouin.read_dataset("cronbach_alpha")
    wide = long.pivot(index="Subj", values="Scores", columns="Items")
    _, live_ci = pingouin.cronbach_alpha(wide, ci=0.99)
    result = cronbach_alpha(wide, ci=0.99)
    assert [result["ci_low"], result["ci_high"]] == pytest.approx(list(live_ci), abs=1e-3)
    assert result["ci_low"] < 0.195  # below the 95 % lower bound documented above


def test_cronbach_alpha_needs_two_complete_rows():
    # With one complete case there is no variance: NaN (documented), not an error or 0.
    result = cronbach_alpha(pd.DataFrame({"a": [1.0, NaN], "b": [2.0, 3.0]}))
    assert math.isnan(result["alpha"])
    assert result["n"] == 1


def test_ucla20_all_never_scores_reversed_items_high():
    # Russell 1996 key (domain ref 2.6): "Never" = 1; the 9 positively worded items are
    # reversed (5 - 1 = 4): 9 * 4 + 11 * 1 = 47.
    assert one("ucla20", [1] * 20)[0] == 47.0


@pytest.mark.parametrize(
    ("instrument_id", "minimum"),
    # Proration minimums (domain ref 2.0 suggested defaults; the alternate RSES order and
    # UCLA-LS v3 follow the same ~80% rule: 8/10 and 16/20).
    [("phq9", 7), ("gad7", 6), ("pss10", 8), ("pss4", 4), ("rses", 8), ("rses_alt", 8),
     ("ucla3", 3), ("ucla20", 16)],
)  # fmt: skip
def test_every_proration_boundary(instrument_id, minimum):
    instrument = get_instrument(instrument_id)
    k, low = len(instrument.items), instrument.item_min
    just_enough = [low] * minimum + [NaN] * (k - minimum)
    one_too_few = [low] * (minimum - 1) + [NaN] * (k - minimum + 1)
    scored, n, _ = one(instrument_id, just_enough)
    assert n == minimum and not math.isnan(scored)
    # Person-mean proration: mean of the answered (reverse-keyed) items times k, by hand.
    keyed = [low if i not in instrument.reverse else instrument.item_max
             for i in instrument.items[:minimum]]  # fmt: skip
    assert scored == pytest.approx(sum(keyed) / minimum * k, abs=1e-12)
    assert math.isnan(one(instrument_id, one_too_few)[0])
