"""Tests of outcomes.analysis.attrition: the WWC attrition boundary (v4.1 Table II.1) and the
wave-by-wave attrition table.

Boundary values come from shared/reference/evaluation-methods.md ("Attrition", the row table
for overall 0, 5, 10, 13, 20, 30, 40, 50, 55, 57, 60, 65 %, and the test note "Attrition
boundary rows"). Every count of the hand-built cohort is worked out in the comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.analysis.attrition import (
    ATTRITION_BOUNDARIES,
    ATTRITION_COLUMNS,
    attrition_table,
    wwc_attrition_verdict,
)
from outcomes.errors import OutcomesError

# --- the boundary table -----------------------------------------------------------------------

# evaluation-methods.md, "Attrition": overall % -> (cautious, optimistic); None = always high.
DOC_ROWS = {
    0: (5.7, 10.0),
    5: (6.1, 10.5),
    10: (6.3, 10.9),
    13: (6.1, 10.8),
    20: (5.4, 10.0),
    30: (4.1, 8.2),
    40: (2.6, 6.0),
    50: (1.0, 3.7),
    55: (0.3, 2.6),
    57: (0.0, 2.1),
    60: (None, 1.4),
    65: (None, 0.3),
}
DOC_CASES = [
    (overall, boundary, values[i])
    for overall, values in DOC_ROWS.items()
    for i, boundary in enumerate(("cautious", "optimistic"))
]


def test_table_has_one_row_per_integer_overall_0_to_65():
    assert list(ATTRITION_BOUNDARIES.columns) == ["overall_pct", "cautious_pct", "optimistic_pct"]
    assert ATTRITION_BOUNDARIES["overall_pct"].tolist() == list(range(66))
    # evaluation-methods.md: cautious >= 58 % is always high (NaN); optimistic defined to 65.
    cautious_missing = ATTRITION_BOUNDARIES.loc[ATTRITION_BOUNDARIES["cautious_pct"].isna()]
    assert cautious_missing["overall_pct"].tolist() == list(range(58, 66))
    assert ATTRITION_BOUNDARIES["optimistic_pct"].notna().all()


def test_cautious_boundary_never_exceeds_optimistic():
    # The cautious assumption is the stricter one at every overall rate (both columns).
    both = ATTRITION_BOUNDARIES.dropna()
    assert (both["cautious_pct"] <= both["optimistic_pct"]).all()


@pytest.mark.parametrize(("overall", "boundary", "expected"), DOC_CASES)
def test_documented_rows_reproduced_exactly(overall, boundary, expected):
    row = ATTRITION_BOUNDARIES.loc[ATTRITION_BOUNDARIES["overall_pct"] == overall].iloc[0]
    value = row[f"{boundary}_pct"]
    if expected is None:
        assert math.isnan(value)
    else:
        assert value == expected


@pytest.mark.parametrize(("overall", "boundary", "expected"), DOC_CASES)
def test_documented_rows_give_low_on_and_high_above_the_boundary(overall, boundary, expected):
    if expected is None:  # evaluation-methods.md: cautious >= 58 % is high for any differential
        assert wwc_attrition_verdict(overall, 0.0, boundary) == "high"
        return
    assert wwc_attrition_verdict(overall, expected, boundary) == "low"  # on the boundary
    assert wwc_attrition_verdict(overall, round(expected + 0.1, 1), boundary) == "high"


@pytest.mark.parametrize("overall", [58, 58.0, 59.3, 61, 64.6, 65])
def test_cautious_58_or_more_is_always_high(overall):
    # evaluation-methods.md: cautious >= 58 % overall is high, even with no differential.
    assert wwc_attrition_verdict(overall, 0.0, "cautious") == "high"


def test_cautious_57_is_low_only_with_no_differential():
    # Row 57: cautious 0.0 pp (evaluation-methods.md).
    assert wwc_attrition_verdict(57, 0.0, "cautious") == "low"
    assert wwc_attrition_verdict(57, 0.1, "cautious") == "high"


@pytest.mark.parametrize("overall", [65.5, 66, 70, 80.2, 100])
@pytest.mark.parametrize("boundary", ["cautious", "optimistic"])
def test_overall_above_65_is_high_on_both(overall, boundary):
    # The table ends at 65 %; 65.5 rounds half up to 66, beyond it.
    assert wwc_attrition_verdict(overall, 0.0, boundary) == "high"


def test_overall_65_4_uses_row_65():
    # 65.4 rounds to 65: optimistic boundary 0.3 (evaluation-methods.md).
    assert wwc_attrition_verdict(65.4, 0.3, "optimistic") == "low"
    assert wwc_attrition_verdict(65.4, 0.4, "optimistic") == "high"


# --- verdict conventions and edge cases -------------------------------------------------------


def test_exactly_on_boundary_is_low_and_a_tenth_above_is_high():
    # Row 30: cautious 4.1, optimistic 8.2 (evaluation-methods.md).
    assert wwc_attrition_verdict(30, 4.1, "cautious") == "low"
    assert wwc_attrition_verdict(30, 4.2, "cautious") == "high"
    assert wwc_attrition_verdict(30, 8.2, "optimistic") == "low"
    assert wwc_attrition_verdict(30, 8.3, "optimistic") == "high"


def test_differential_is_rounded_half_up_to_one_decimal():
    # Row 0, cautious 5.7: 5.74 -> 5.7 (low), 5.75 -> 5.8 (high).
    assert wwc_attrition_verdict(0, 5.74, "cautious") == "low"
    assert wwc_attrition_verdict(0, 5.75, "cautious") == "high"


def test_overall_is_rounded_half_up_to_a_whole_percent():
    # Cautious row 12 is 6.2, row 13 is 6.1 (baselinr's table): 12.49 -> row 12 (6.2 low),
    # 12.5 -> row 13 (6.2 high).
    assert wwc_attrition_verdict(12.49, 6.2, "cautious") == "low"
    assert wwc_attrition_verdict(12.5, 6.2, "cautious") == "high"


def test_floating_point_noise_does_not_move_a_rate():
    # 100 * (1 - 7/10) = 30.000000000000004 is row 30; a differential of 4.1 computed as
    # 100 * 0.041 = 4.1000000000000005 stays on the boundary.
    overall = 100 * (1 - 7 / 10)
    assert overall != 30
    assert wwc_attrition_verdict(overall, 100 * 0.041, "cautious") == "low"


@pytest.mark.parametrize("missing", [np.nan, None, pd.NA, float("nan")])
@pytest.mark.parametrize("boundary", ["cautious", "optimistic"])
def test_missing_rate_is_unknown(missing, boundary):
    assert wwc_attrition_verdict(missing, 1.0, boundary) == "unknown"
    assert wwc_attrition_verdict(10, missing, boundary) == "unknown"


def test_numpy_numbers_are_accepted():
    assert wwc_attrition_verdict(np.float64(30), np.int64(4), "cautious") == "low"


@pytest.mark.parametrize("boundary", ["liberal", "Cautious", "", None])
def test_unknown_boundary_raises(boundary):
    with pytest.raises(OutcomesError) as info:
        wwc_attrition_verdict(10, 1, boundary)
    assert info.value.column == "boundary"
    assert "'cautious'" in info.value.expected


@pytest.mark.parametrize(("overall", "differential"), [(150, 1), (-1, 1), (10, 101), ("10", 1)])
def test_rate_outside_0_100_or_not_a_number_raises(overall, differential):
    with pytest.raises(OutcomesError):
        wwc_attrition_verdict(overall, differential, "optimistic")


@given(
    overall=st.floats(0, 100),
    low=st.floats(0, 100),
    high=st.floats(0, 100),
)
def test_verdict_is_monotone_and_cautious_is_stricter(overall, low, high):
    low, high = min(low, high), max(low, high)
    for boundary in ("cautious", "optimistic"):
        if wwc_attrition_verdict(overall, high, boundary) == "low":
            assert wwc_attrition_verdict(overall, low, boundary) == "low"
    if wwc_attrition_verdict(overall, low, "cautious") == "low":
        assert wwc_attrition_verdict(overall, low, "optimistic") == "low"


# --- attrition_table on a hand-built cohort ---------------------------------------------------
#
# Assignment wave "w0": participants P01..P10, comparison C01..C10. Later waves w1, w2, w3.
#
# Response (present):
#   w0  everyone (ignored: w0 is not in `waves`, so it never counts as a missed wave)
#   w1  P01..P09            C01..C08                     (P10, C09, C10 missing)
#   w2  P01..P07            C01..C06, C09        + L1    (C09 returns after missing w1)
#   w3  P01..P06, P08, P10  C01..C05, C07, C09   + L1, L2
#       returns at w3: P08 (missed w2), P10 (missed w1, w2), C07 (missed w2),
#       C09 (missed w1; present at w2 too, but a missed earlier wave is enough)
#   L1, L2 are late entrants (not in the assignment cohort).
#
# Outcomes (observed): "wellbeing" and "belonging" for every present respondent, except
#   wellbeing missing for P02 at w1 (present, outcome missing);
#   belonging missing for C03 at w3;
#   ignored rows: wellbeing of L1 at w2 (late entrant), wellbeing of P10 at w2 (not present).
#
# Hand counts (attrition = 100 * (1 - n_with_outcome / n_assigned)):
#   w1 (responded)  P 9/10 -> 10 %   C 8/10 -> 20 %   overall 17/20 -> 15 %   diff 10
#                   row 15: cautious 5.9 -> high; optimistic 10.7 -> low
#   w1 wellbeing    P 8/10 -> 20 %   C 8/10 -> 20 %   overall 16/20 -> 20 %   diff 0 -> low, low
#   w1 belonging    as (responded): 10, 20, 15, diff 10 -> high, low
#   w2 every row    P 7/10 -> 30 %   C 7/10 -> 30 %   overall 14/20 -> 30 %   diff 0 -> low, low
#                   returned: C 1 (C09), overall 1; late entrants 1 (L1)
#   w3 (responded)  P 8/10 -> 20 %   C 7/10 -> 30 %   overall 15/20 -> 25 %   diff 10
#                   row 25: cautious 4.8 -> high; optimistic 9.2 -> high
#                   returned: P 2 (P08, P10), C 2 (C07, C09), overall 4; late entrants 2
#   w3 wellbeing    as (responded)
#   w3 belonging    P 8/10 -> 20 %   C 6/10 -> 40 %   overall 14/20 -> 30 %   diff 20 -> high, high

PARTICIPANTS = [f"P{i:02d}" for i in range(1, 11)]
COMPARISON = [f"C{i:02d}" for i in range(1, 11)]
PRESENT = {
    "w0": PARTICIPANTS + COMPARISON,
    "w1": PARTICIPANTS[:9] + COMPARISON[:8],
    "w2": [*PARTICIPANTS[:7], *COMPARISON[:6], "C09", "L1"],
    "w3": [*PARTICIPANTS[:6], "P08", "P10", *COMPARISON[:5], "C07", "C09", "L1", "L2"],
}


@pytest.fixture
def cohort():
    assigned = pd.Series(
        ["participant"] * 10 + ["comparison"] * 10,
        index=pd.Index(PARTICIPANTS + COMPARISON, name="respondent_id"),
    )
    present = pd.DataFrame(
        [(rid, wave) for wave, ids in PRESENT.items() for rid in ids],
        columns=["respondent_id", "wave"],
    )
    observed = [
        (rid, wave, outcome)
        for wave, ids in PRESENT.items()
        for outcome in ("wellbeing", "belonging")
        for rid in ids
        if (rid, wave, outcome) not in {("P02", "w1", "wellbeing"), ("C03", "w3", "belonging")}
    ]
    observed.append(("P10", "w2", "wellbeing"))  # not present at w2: not counted
    observed = pd.DataFrame(observed, columns=["respondent_id", "wave", "outcome"])
    observed["value"] = 1.0  # extra columns are ignored
    return assigned, present, observed


# wave, outcome, group, n_assigned, n_present, n_with_outcome, n_returned, n_late_entrants,
# attrition_pct, overall_attrition_pct, differential_attrition_pct, cautious, optimistic
NA = pd.NA
EXPECTED = [
    ("w1", "(responded)", "participant", 10, 9, 9, 0, NA, 10.0, 15.0, 10.0, "high", "low"),
    ("w1", "(responded)", "comparison", 10, 8, 8, 0, NA, 20.0, 15.0, 10.0, "high", "low"),
    ("w1", "(responded)", "overall", 20, 17, 17, 0, 0, 15.0, 15.0, 10.0, "high", "low"),
    ("w1", "wellbeing", "participant", 10, 9, 8, 0, NA, 20.0, 20.0, 0.0, "low", "low"),
    ("w1", "wellbeing", "comparison", 10, 8, 8, 0, NA, 20.0, 20.0, 0.0, "low", "low"),
    ("w1", "wellbeing", "overall", 20, 17, 16, 0, 0, 20.0, 20.0, 0.0, "low", "low"),
    ("w1", "belonging", "participant", 10, 9, 9, 0, NA, 10.0, 15.0, 10.0, "high", "low"),
    ("w1", "belonging", "comparison", 10, 8, 8, 0, NA, 20.0, 15.0, 10.0, "high", "low"),
    ("w1", "belonging", "overall", 20, 17, 17, 0, 0, 15.0, 15.0, 10.0, "high", "low"),
    ("w2", "(responded)", "participant", 10, 7, 7, 0, NA, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "(responded)", "comparison", 10, 7, 7, 1, NA, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "(responded)", "overall", 20, 14, 14, 1, 1, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "wellbeing", "participant", 10, 7, 7, 0, NA, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "wellbeing", "comparison", 10, 7, 7, 1, NA, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "wellbeing", "overall", 20, 14, 14, 1, 1, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "belonging", "participant", 10, 7, 7, 0, NA, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "belonging", "comparison", 10, 7, 7, 1, NA, 30.0, 30.0, 0.0, "low", "low"),
    ("w2", "belonging", "overall", 20, 14, 14, 1, 1, 30.0, 30.0, 0.0, "low", "low"),
    ("w3", "(responded)", "participant", 10, 8, 8, 2, NA, 20.0, 25.0, 10.0, "high", "high"),
    ("w3", "(responded)", "comparison", 10, 7, 7, 2, NA, 30.0, 25.0, 10.0, "high", "high"),
    ("w3", "(responded)", "overall", 20, 15, 15, 4, 2, 25.0, 25.0, 10.0, "high", "high"),
    ("w3", "wellbeing", "participant", 10, 8, 8, 2, NA, 20.0, 25.0, 10.0, "high", "high"),
    ("w3", "wellbeing", "comparison", 10, 7, 7, 2, NA, 30.0, 25.0, 10.0, "high", "high"),
    ("w3", "wellbeing", "overall", 20, 15, 15, 4, 2, 25.0, 25.0, 10.0, "high", "high"),
    ("w3", "belonging", "participant", 10, 8, 8, 2, NA, 20.0, 30.0, 20.0, "high", "high"),
    ("w3", "belonging", "comparison", 10, 7, 6, 2, NA, 40.0, 30.0, 20.0, "high", "high"),
    ("w3", "belonging", "overall", 20, 15, 14, 4, 2, 30.0, 30.0, 20.0, "high", "high"),
]


def test_hand_built_cohort_every_count_and_percentage(cohort):
    table = attrition_table(*cohort, waves=["w1", "w2", "w3"])
    assert list(table.columns) == ATTRITION_COLUMNS
    expected = pd.DataFrame(EXPECTED, columns=ATTRITION_COLUMNS).astype(
        {"n_late_entrants": "Int64"}
    )
    pd.testing.assert_frame_equal(
        table, expected, check_dtype=False, check_exact=False, atol=1e-9, rtol=0
    )
    assert table["n_late_entrants"].dtype == "Int64"
    for column in ("n_assigned", "n_present", "n_with_outcome", "n_returned"):
        assert table[column].dtype == "int64"


def test_waves_in_given_order_and_subset(cohort):
    # Only w3: no earlier wave of `waves`, so nobody has "returned" (w1, w2 not considered).
    table = attrition_table(*cohort, waves=["w3"])
    assert table["n_returned"].eq(0).all()
    responded = table[table["outcome"] == "(responded)"].set_index("group")
    assert responded.loc["overall", "n_present"] == 15  # 8 + 7, as in the w3 hand counts
    assert responded.loc["overall", "n_late_entrants"] == 2  # L1, L2


def test_empty_waves_gives_empty_table_with_the_columns(cohort):
    table = attrition_table(*cohort, waves=[])
    assert table.empty
    assert list(table.columns) == ATTRITION_COLUMNS


def test_empty_group_gives_nan_and_unknown_not_zero_division():
    # Three participants, no comparison group: comparison attrition undefined.
    assigned = pd.Series(["participant"] * 3, index=["a", "b", "c"])
    present = pd.DataFrame({"respondent_id": ["a", "b"], "wave": ["w1", "w1"]})
    observed = pd.DataFrame(columns=["respondent_id", "wave", "outcome"])
    table = attrition_table(assigned, present, observed, ["w1"]).set_index("group")
    assert table.loc["comparison", "n_assigned"] == 0
    assert math.isnan(table.loc["comparison", "attrition_pct"])
    # overall 1 - 2/3 = 33.33 %, defined; the differential is not.
    assert table.loc["overall", "attrition_pct"] == pytest.approx(100 / 3)
    assert table["differential_attrition_pct"].isna().all()
    assert set(table["verdict_cautious"]) == {"unknown"}
    assert set(table["verdict_optimistic"]) == {"unknown"}


def test_empty_cohort_is_all_nan_and_unknown():
    assigned = pd.Series([], dtype=object)
    present = pd.DataFrame({"respondent_id": ["x"], "wave": ["w1"]})
    observed = pd.DataFrame(columns=["respondent_id", "wave", "outcome"])
    table = attrition_table(assigned, present, observed, ["w1"])
    assert table["attrition_pct"].isna().all()
    assert table.set_index("group").loc["overall", "n_late_entrants"] == 1
    assert set(table["verdict_cautious"]) == {"unknown"}


# --- argument errors --------------------------------------------------------------------------

SECRET = "secret-id-4711"


def _frames():
    present = pd.DataFrame({"respondent_id": [SECRET], "wave": ["w1"]})
    observed = pd.DataFrame({"respondent_id": [SECRET], "wave": ["w1"], "outcome": ["x"]})
    return present, observed


def test_other_groups_raise_without_echoing_ids():
    assigned = pd.Series(["participant", "treatment"], index=[SECRET, "b"])
    with pytest.raises(OutcomesError) as info:
        attrition_table(assigned, *_frames(), ["w1"])
    assert info.value.column == "group"
    assert "'treatment'" in info.value.found
    assert SECRET not in str(info.value)


def test_missing_group_raises():
    assigned = pd.Series(["participant", None], index=[SECRET, "b"])
    with pytest.raises(OutcomesError) as info:
        attrition_table(assigned, *_frames(), ["w1"])
    assert SECRET not in str(info.value)


def test_repeated_ids_raise_without_echoing_them():
    assigned = pd.Series(["participant", "comparison"], index=[SECRET, SECRET])
    with pytest.raises(OutcomesError) as info:
        attrition_table(assigned, *_frames(), ["w1"])
    assert info.value.column == "respondent_id"
    assert SECRET not in str(info.value)


def test_missing_column_raises():
    assigned = pd.Series(["participant"], index=["a"])
    present = pd.DataFrame({"id": ["a"], "wave": ["w1"]})
    observed = pd.DataFrame(columns=["respondent_id", "wave", "outcome"])
    with pytest.raises(OutcomesError) as info:
        attrition_table(assigned, present, observed, ["w1"])
    assert info.value.column == "respondent_id"


def test_reserved_outcome_name_and_repeated_wave_raise():
    assigned = pd.Series(["participant"], index=["a"])
    present = pd.DataFrame({"respondent_id": ["a"], "wave": ["w1"]})
    observed = pd.DataFrame({"respondent_id": ["a"], "wave": ["w1"], "outcome": ["(responded)"]})
    with pytest.raises(OutcomesError):
        attrition_table(assigned, present, observed, ["w1"])
    with pytest.raises(OutcomesError):
        attrition_table(assigned, present, observed.iloc[:0], ["w1", "w1"])


# --- property test ----------------------------------------------------------------------------


@st.composite
def cohorts(draw):
    n_p = draw(st.integers(0, 8))
    n_c = draw(st.integers(0, 8))
    ids = [f"r{i}" for i in range(n_p + n_c)]
    assigned = pd.Series(["participant"] * n_p + ["comparison"] * n_c, index=ids, dtype=object)
    waves = [f"w{k}" for k in range(draw(st.integers(0, 3)))]
    present, observed, late = [], [], {}
    for wave in waves:
        for rid in ids:
            here = draw(st.booleans())
            if here:
                present.append((rid, wave))
            for outcome in ("a", "b"):
                # mostly observed when present; occasionally an observed row without response
                if draw(st.booleans()) and (here or draw(st.booleans())):
                    observed.append((rid, wave, outcome))
        late[wave] = draw(st.integers(0, 3))
        present.extend((f"late{j}", wave) for j in range(late[wave]))
    present = pd.DataFrame(present, columns=["respondent_id", "wave"])
    observed = pd.DataFrame(observed, columns=["respondent_id", "wave", "outcome"])
    return assigned, present, observed, waves, late


@settings(max_examples=60, deadline=None)
@given(cohorts())
def test_counts_are_consistent(case):
    assigned, present, observed, waves, late = case
    table = attrition_table(assigned, present, observed, waves)
    n_outcomes = observed["outcome"].nunique()
    assert len(table) == len(waves) * (1 + n_outcomes) * 3
    assert (table["n_with_outcome"] <= table["n_present"]).all()
    assert (table["n_present"] <= table["n_assigned"]).all()
    assert (table["n_returned"] <= table["n_present"]).all()
    rates = table["attrition_pct"]
    assert rates[table["n_assigned"] > 0].between(0, 100).all()
    assert rates[table["n_assigned"] == 0].isna().all()
    for (wave, _), block in table.groupby(["wave", "outcome"], sort=False):
        block = block.set_index("group")
        assert list(block.index) == ["participant", "comparison", "overall"]
        for column in ("n_assigned", "n_present", "n_with_outcome", "n_returned"):
            parts = block.loc["participant", column] + block.loc["comparison", column]
            assert block.loc["overall", column] == parts
        assert block.loc["overall", "n_late_entrants"] == late[wave]
        assert block.loc[["participant", "comparison"], "n_late_entrants"].isna().all()
        difference = abs(
            block.loc["participant", "attrition_pct"] - block.loc["comparison", "attrition_pct"]
        )
        shown = block["differential_attrition_pct"]
        if math.isnan(difference):
            assert shown.isna().all()
            assert set(block["verdict_cautious"]) == {"unknown"}
        else:
            assert np.allclose(shown, difference)
            assert set(block["verdict_cautious"]) <= {"low", "high"}
        assert np.allclose(
            block["overall_attrition_pct"], block.loc["overall", "attrition_pct"], equal_nan=True
        )
