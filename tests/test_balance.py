"""Tests of outcomes.analysis.balance against cobalt's conventions (domain reference 3.6), the
WWC baseline-equivalence rule (3.5; evaluation-methods.md) and hand computations.

The tiny data set used throughout, with every number worked by hand:

    participants  x = 2, 4, 6      mean 4, variance ((-2)^2 + 0 + 2^2) / 2 = 4, SD 2
    comparison    x = 1, 2, 3, 6   mean 3, variance (4 + 1 + 0 + 9) / 3 = 14/3, SD 2.160247
    difference in means 1

    SMD, unweighted, by denominator:
      ATT / "treated"  1 / 2                                  = 0.5
      ATC / "control"  1 / sqrt(14/3) = 1 / 2.160247          = 0.462910
      ATE / "pooled"   1 / sqrt((4 + 14/3) / 2) = 1 / sqrt(13/3) = 1 / 2.081666 = 0.480384
      "all"            all 7 values: mean 24/7, sum of squares 106 - 576/7 = 166/7,
                       variance 166/42 = 3.952381, SD 1.988060  -> 0.503003
      "hedges"         S = sqrt((2 * 4 + 3 * 14/3) / 5) = sqrt(4.4) = 2.097618,
                       omega = 1 - 3/(4 * 7 - 9) = 16/19 = 0.842105 -> 0.842105 / 2.097618
                       = 0.401458

    Weights (1, 1, 2) on the participants, 1 on the comparison group:
      weighted participant mean (2 + 4 + 2 * 6) / 4 = 4.5; difference 1.5
      ATT SMD 1.5 / 2 = 0.75 (the SD stays the unweighted 2).
      Had the weighted SD been used: normalized weights (.25, .25, .5), deviations from 4.5
      (-2.5, -0.5, 1.5): sum w d^2 = 1.5625 + 0.0625 + 1.125 = 2.75; 1 - sum w^2 = 0.625;
      variance 2.75 / 0.625 = 4.4, SD 2.097618 -> 1.5 / 2.097618 = 0.715097.
      Variance ratio: weighted 4.4 / (14/3) = 0.942857; unweighted 4 / (14/3) = 0.857143.
      ESS of the participants: (1 + 1 + 2)^2 / (1 + 1 + 4) = 16/6 = 2.666667.

    KS: eCDFs at the pooled values 1, 2, 3, 4, 6:
      participants 0, 1/3, 1/3, 2/3, 1; comparison 1/4, 1/2, 3/4, 3/4, 1
      -> distances 1/4, 1/6, 5/12, 1/12, 0: KS = 5/12 = 0.416667.
      Weighted participants 0, 1/4, 1/4, 1/2, 1 -> distances 1/4, 1/4, 1/2, 1/4, 0: KS = 0.5.

    Binary z: participants 1, 1, 0 (p = 2/3); comparison 1, 0, 0, 0 (p = 1/4)
      raw difference 2/3 - 1/4 = 5/12 = 0.416667
      standardized, ATT: 5/12 / sqrt(2/3 * 1/3) = 0.416667 / 0.471405 = 0.883883
      standardized, pooled: 5/12 / sqrt((2/9 + 3/16) / 2) = 0.416667 / 0.452616 = 0.920575
      Cox index: (ln 2 - ln(1/3)) / 1.65 = ln 6 / 1.65 = 1.791759 / 1.65 = 1.085915
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.analysis.balance import (
    BALANCE_COLUMNS,
    balance_table,
    effective_sample_size,
    ks_statistic,
    standardized_difference,
    variance_ratio,
    wwc_category,
)
from outcomes.analysis.effect_sizes import cox_index, hedges_g, pooled_sd
from outcomes.errors import OutcomesError

X = [2, 4, 6, 1, 2, 3, 6]
TREATED = [1, 1, 1, 0, 0, 0, 0]
WEIGHTS = [1, 1, 2, 1, 1, 1, 1]
Z = [1, 1, 0, 1, 0, 0, 0]

# --- standardized differences -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimand", "expected"),
    [("ATT", 0.5), ("ATC", 0.462910), ("ATE", 0.480384), ("ATO", 0.480384)],
)
def test_smd_denominator_follows_the_estimand(estimand, expected):
    # Domain ref 3.6 (cobalt): ATT -> treated SD, ATC -> control SD, otherwise pooled.
    # Values by hand in the module docstring.
    result = standardized_difference(X, TREATED, estimand=estimand)
    assert result == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("denominator", "expected"),
    [
        ("treated", 0.5),
        ("control", 0.462910),
        ("pooled", 0.480384),
        ("all", 0.503003),
        ("hedges", 0.401458),
    ],
)
def test_smd_explicit_denominators(denominator, expected):
    # Domain ref 3.6 table of s.d.denom; values by hand in the module docstring.
    result = standardized_difference(X, TREATED, sd_denominator=denominator)
    assert result == pytest.approx(expected, abs=1e-6)


def test_smd_explicit_denominator_overrides_the_estimand():
    result = standardized_difference(X, TREATED, estimand="ATT", sd_denominator="control")
    assert result == pytest.approx(0.462910, abs=1e-6)


def test_hedges_denominator_gives_the_wwc_hedges_g():
    # Domain ref 3.1/3.6: cobalt's "hedges" divides by S / J, so the SMD is WWC's g; checked
    # against the package's own hedges_g on the same summary statistics.
    s = pooled_sd(2.0, math.sqrt(14 / 3), 3, 4)
    expected = hedges_g(1.0, s, 3, 4)["hedges_g"]
    assert standardized_difference(X, TREATED, sd_denominator="hedges") == pytest.approx(
        expected, abs=1e-12
    )


def test_weighted_smd_keeps_the_unweighted_denominator():
    # Domain ref 3.6: the denominator is always computed in the unadjusted sample; only the
    # numerator uses the weights. Hand (module docstring): 1.5 / 2 = 0.75. With the weighted
    # treated SD it would be 0.715097 instead, so this fails if the weighted SD is used.
    result = standardized_difference(X, TREATED, weights=WEIGHTS)
    assert result == pytest.approx(0.75, abs=1e-9)
    assert abs(result - 0.715097) > 0.03


def test_weighted_smd_with_pooled_denominator():
    # Hand: 1.5 / sqrt(13/3) = 1.5 / 2.081666 = 0.720577 (pooled SD of the unweighted groups).
    result = standardized_difference(X, TREATED, weights=WEIGHTS, estimand="ATE")
    assert result == pytest.approx(0.720577, abs=1e-6)


def test_equal_weights_change_nothing():
    # Weighted means use normalized weights, so a constant weight of 3 equals no weights.
    result = standardized_difference(X, TREATED, weights=[3] * 7)
    assert result == pytest.approx(0.5, abs=1e-12)


def test_binary_uses_raw_difference_in_proportions_by_default():
    # Domain ref 3.6: binary -> raw difference in proportions (cobalt binary = "raw").
    # Hand: 2/3 - 1/4 = 5/12.
    assert standardized_difference(Z, TREATED) == pytest.approx(5 / 12, abs=1e-12)
    # ... whatever the estimand: no SD is involved.
    assert standardized_difference(Z, TREATED, estimand="ATE") == pytest.approx(5 / 12)


def test_binary_standardized_on_request():
    # cobalt binary = "std": binary variances are p(1 - p) (domain ref 3.6). Hand: ATT
    # 0.883883, pooled 0.920575 (module docstring).
    assert standardized_difference(Z, TREATED, binary="std") == pytest.approx(0.883883, abs=1e-6)
    assert standardized_difference(Z, TREATED, binary="std", estimand="ATE") == pytest.approx(
        0.920575, abs=1e-6
    )


def test_two_valued_variable_is_binary_whatever_its_codes():
    # Domain ref 3.6: "a numeric variable with two values is treated as binary"; the
    # difference is in the proportion of the higher value: codes 1/2 give the same 5/12.
    coded = [2 if v else 1 for v in Z]
    assert standardized_difference(coded, TREATED) == pytest.approx(5 / 12, abs=1e-12)


def test_zero_denominator_falls_back_to_the_full_sample_sd():
    # cobalt .compute_s.d.denom: a zero SD is replaced by the full-sample SD. Participants all 5
    # (SD 0 under ATT), comparison 1, 2, 3, 6: difference 2; full sample 5, 5, 5, 1, 2, 3, 6 has
    # SD 1.864454 (numpy std, ddof = 1) -> 2 / 1.864454 = 1.072700.
    result = standardized_difference([5, 5, 5, 1, 2, 3, 6], TREATED)
    assert result == pytest.approx(1.072700, abs=1e-6)


def test_constant_covariate_has_zero_difference():
    assert standardized_difference([3] * 7, TREATED) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimand": "att"}, "estimand"),
        ({"sd_denominator": "weighted"}, "sd_denominator"),
        ({"binary": "standardized"}, "binary"),
        ({"weights": [1, 1, 1, 1, 1, 1]}, "weights"),
        ({"weights": [1, 1, -1, 1, 1, 1, 1]}, "negative"),
        ({"weights": [0, 0, 0, 1, 1, 1, 1]}, "zero"),
    ],
)
def test_smd_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        standardized_difference(X, TREATED, **kwargs)


@pytest.mark.parametrize(
    ("x", "treated", "message"),
    [
        ([1, 2, float("nan"), 4], [1, 1, 0, 0], "missing"),
        ([1, 2, 3, 4], [1, 1, 2, 0], "0/1"),
        ([1, 2, 3, 4], [1, 1, 1, 1], "both"),
    ],
)
def test_smd_rejects_bad_data(x, treated, message):
    with pytest.raises(ValueError, match=message):
        standardized_difference(x, treated)


def test_bool_treatment_is_accepted():
    treated = [bool(t) for t in TREATED]
    assert standardized_difference(X, treated) == pytest.approx(0.5, abs=1e-12)


# --- variance ratio, KS, ESS ------------------------------------------------------------------


def test_variance_ratio_by_hand():
    # Module docstring: unweighted 4 / (14/3) = 0.857143; weighted (cobalt's weighted variance,
    # domain ref 3.6) 4.4 / (14/3) = 0.942857.
    assert variance_ratio(X, TREATED) == pytest.approx(0.857143, abs=1e-6)
    assert variance_ratio(X, TREATED, weights=WEIGHTS) == pytest.approx(0.942857, abs=1e-6)


def test_variance_ratio_is_nan_for_binary():
    # cobalt: variance ratios are not computed for binary variables.
    assert math.isnan(variance_ratio(Z, TREATED))


def test_ks_by_hand():
    # Module docstring: KS = 5/12 unweighted, 0.5 with weights (1, 1, 2) on the participants.
    assert ks_statistic(X, TREATED) == pytest.approx(5 / 12, abs=1e-12)
    assert ks_statistic(X, TREATED, weights=WEIGHTS) == pytest.approx(0.5, abs=1e-12)


def test_ks_matches_scipy_without_weights():
    # scipy.stats.ks_2samp's statistic is the same unweighted two-sample distance.
    from scipy import stats

    rng = np.random.default_rng(3)
    x = np.round(rng.normal(size=40), 1)  # rounded so that there are ties
    treated = np.r_[np.ones(15), np.zeros(25)]
    expected = stats.ks_2samp(x[:15], x[15:]).statistic
    assert ks_statistic(x, treated) == pytest.approx(expected, abs=1e-12)


def test_ks_of_binary_is_the_difference_in_proportions():
    # cobalt col_w_ks: "for binary variables, the KS statistic is just the difference in
    # proportions": |2/3 - 1/4| = 5/12.
    assert ks_statistic(Z, TREATED) == pytest.approx(5 / 12, abs=1e-12)


def test_ess_of_equal_weights_is_n():
    # (n w)^2 / (n w^2) = n.
    assert effective_sample_size([2.5] * 12) == pytest.approx(12, abs=1e-12)


def test_ess_of_one_dominant_weight_is_about_one():
    # (1e6 + 3)^2 / (1e12 + 3) = 1.000006 (hand).
    assert effective_sample_size([1e6, 1, 1, 1]) == pytest.approx(1.000006, abs=1e-6)


def test_ess_by_hand():
    # Module docstring: 16 / 6.
    assert effective_sample_size([1, 1, 2]) == pytest.approx(16 / 6, abs=1e-12)


@pytest.mark.parametrize("weights", [[], [0, 0], [1, -1], [1, float("nan")]])
def test_ess_rejects_bad_weights(weights):
    with pytest.raises(ValueError):
        effective_sample_size(weights)


# --- WWC category -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.0, "satisfies"),
        (0.05, "satisfies"),  # evaluation-methods.md: |g| = 0.05 -> satisfied
        (0.0501, "requires_adjustment"),
        (0.25, "requires_adjustment"),  # evaluation-methods.md: 0.25 -> satisfied with adjustment
        (0.2501, "does_not_satisfy"),  # evaluation-methods.md: 0.2501 -> not satisfied
        (1.3, "does_not_satisfy"),
        (-0.05, "satisfies"),  # the sign is ignored
        (-0.3, "does_not_satisfy"),
    ],
)
def test_wwc_category_edges(value, expected):
    # Domain ref 3.5 (baselinr wwc_classify, WWC Handbook v5.0).
    assert wwc_category(value) == expected


def test_wwc_category_tolerates_rounding_at_the_limit():
    # 0.1 + 0.15 = 0.25000000000000006 in floating point; it is a difference of 0.25.
    assert wwc_category(0.1 + 0.15) == "requires_adjustment"


def test_wwc_category_missing():
    assert wwc_category(float("nan")) is None


# --- balance table ----------------------------------------------------------------------------


def _tiny_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "x": X,
            "z": Z,
            "school": ["a", "b", "a", "b", "b", "c", "a"],
            "grade": [9, 10, 10, 9, 9, 9, 10],
            "joined": [bool(t) for t in TREATED],
        }
    )


def test_balance_table_layout():
    table = balance_table(
        _tiny_frame(), "joined", ["x", "z", "school", "grade"], weights={"ipw": WEIGHTS}
    )
    assert list(table.columns) == BALANCE_COLUMNS
    # x, z, school=a/b/c, grade=10 -> 6 rows, each unadjusted then ipw.
    expected = ["x", "z", "school=a", "school=b", "school=c", "grade=10"]
    assert table["covariate"].tolist() == [c for c in expected for _ in range(2)]
    assert table["adjustment"].tolist() == ["unadjusted", "ipw"] * 6
    assert table["type"].tolist() == ["continuous"] * 2 + ["binary"] * 10


def test_balance_table_values_by_hand():
    table = balance_table(_tiny_frame(), "joined", ["x", "z"], weights={"ipw": WEIGHTS})
    rows = table.set_index(["covariate", "adjustment"])
    # Module docstring values.
    x0, x1 = rows.loc[("x", "unadjusted")], rows.loc[("x", "ipw")]
    assert (x0["mean_participants"], x0["mean_comparison"]) == pytest.approx((4.0, 3.0))
    assert x0["smd"] == pytest.approx(0.5, abs=1e-9)
    assert x0["variance_ratio"] == pytest.approx(0.857143, abs=1e-6)
    assert x0["ks"] == pytest.approx(5 / 12, abs=1e-9)
    assert (x0["ess_participants"], x0["ess_comparison"]) == pytest.approx((3.0, 4.0))
    assert x1["mean_participants"] == pytest.approx(4.5)
    assert x1["smd"] == pytest.approx(0.75, abs=1e-9)
    assert x1["variance_ratio"] == pytest.approx(0.942857, abs=1e-6)
    assert x1["ks"] == pytest.approx(0.5, abs=1e-9)
    assert (x1["ess_participants"], x1["ess_comparison"]) == pytest.approx((16 / 6, 4.0))
    z0 = rows.loc[("z", "unadjusted")]
    assert z0["smd"] == pytest.approx(5 / 12, abs=1e-9)
    assert math.isnan(z0["variance_ratio"])


def test_balance_table_wwc_effect_size_is_hedges_g_or_cox():
    # Domain ref 3.5: WWC baseline equivalence uses g (continuous) or the Cox index (binary).
    # x unadjusted: g = 0.401458 (module docstring, "hedges") -> does not satisfy.
    # x with weights: 0.842105 * 1.5 / 2.097618 = 0.602187 (denominator still unweighted).
    # z unadjusted: Cox index ln 6 / 1.65 = 1.085915.
    table = balance_table(_tiny_frame(), "joined", ["x", "z"], weights={"ipw": WEIGHTS})
    rows = table.set_index(["covariate", "adjustment"])
    assert rows.loc[("x", "unadjusted"), "wwc_effect_size"] == pytest.approx(0.401458, abs=1e-6)
    assert rows.loc[("x", "ipw"), "wwc_effect_size"] == pytest.approx(0.602187, abs=1e-6)
    assert rows.loc[("z", "unadjusted"), "wwc_effect_size"] == pytest.approx(1.085915, abs=1e-6)
    assert rows.loc[("z", "unadjusted"), "wwc_effect_size"] == pytest.approx(
        cox_index(2 / 3, 1 / 4, 3, 4)["cox_index"], abs=1e-12
    )
    assert set(table["wwc_category"]) == {"does_not_satisfy"}


def test_balance_table_wwc_category_from_a_small_difference():
    # Participants 10, 12, 14, 16 (mean 13, variance 20/3); comparison 10.1, 12.1, 14.1, 16.1
    # (mean 13.1, same variance): S = sqrt(20/3) = 2.581989, omega = 1 - 3/23 = 0.869565;
    # g = 0.869565 * (-0.1) / 2.581989 = -0.033678 -> satisfies (hand).
    data = pd.DataFrame(
        {"score": [10, 12, 14, 16, 10.1, 12.1, 14.1, 16.1], "joined": [1] * 4 + [0] * 4}
    )
    row = balance_table(data, "joined", ["score"]).iloc[0]
    assert row["wwc_effect_size"] == pytest.approx(-0.033678, abs=1e-6)
    assert row["wwc_category"] == "satisfies"


def test_balance_table_cox_undefined_gives_no_category():
    # school=c: no participant is in school c (proportion 0): the Cox index is undefined.
    table = balance_table(_tiny_frame(), "joined", ["school"])
    row = table.set_index("covariate").loc["school=c"]
    assert math.isnan(row["wwc_effect_size"])
    assert pd.isna(row["wwc_category"])


def test_balance_table_expands_categories_and_bools():
    data = _tiny_frame().assign(
        mentor_type=pd.Categorical(
            ["peer", "adult", "peer", "peer", "adult", "adult", "peer"],
            categories=["adult", "peer", "online"],  # "online" unused: no row
        ),
        sibling=[True, False, True, True, False, False, False],
    )
    table = balance_table(data, "joined", ["mentor_type", "sibling"])
    assert table["covariate"].tolist() == [
        "mentor_type=adult",
        "mentor_type=peer",
        "sibling=False",
        "sibling=True",
    ]
    # sibling=True is the z pattern shifted: participants T, F, T (2/3); comparison T, F, F, F
    # (1/4): 5/12 (hand).
    assert table.set_index("covariate").loc["sibling=True", "smd"] == pytest.approx(5 / 12)


def test_balance_table_missing_values_are_reported_per_column():
    # evaluation-methods.md "What users ask for" 3: fail loudly and specifically on missingness
    # with a per-column report.
    data = _tiny_frame().astype({"x": float})
    data.loc[[0, 4], "x"] = np.nan
    data.loc[2, "school"] = None
    with pytest.raises(OutcomesError) as caught:
        balance_table(data, "joined", ["x", "z", "school"])
    message = str(caught.value)
    assert "'x': 2 of 7 rows" in message
    assert "'school': 1 of 7 rows" in message
    assert "'z'" not in message


def test_balance_table_single_missing_column_is_named_as_the_column():
    data = _tiny_frame().astype({"x": float})
    data.loc[1, "x"] = np.nan
    with pytest.raises(OutcomesError) as caught:
        balance_table(data, "joined", ["x"])
    assert caught.value.column == "x"


@pytest.mark.parametrize(
    ("treatment_values", "message"),
    [
        ([1, 1, 1, 0, 0, 0, None], "missing in 1 of 7"),
        ([1, 1, 2, 0, 0, 0, 0], "participants 1"),
        ([1] * 7, "participants 1"),
    ],
)
def test_balance_table_treatment_problems(treatment_values, message):
    data = _tiny_frame().assign(joined=treatment_values)
    with pytest.raises(OutcomesError, match=message):
        balance_table(data, "joined", ["x"])


def test_balance_table_unknown_column():
    with pytest.raises(OutcomesError, match="not in the data"):
        balance_table(_tiny_frame(), "joined", ["age"])


def test_balance_table_bad_weights():
    with pytest.raises(OutcomesError, match="negative"):
        balance_table(_tiny_frame(), "joined", ["x"], weights={"ipw": [1, 1, -2, 1, 1, 1, 1]})
    with pytest.raises(ValueError, match="reserved"):
        balance_table(_tiny_frame(), "joined", ["x"], weights={"unadjusted": WEIGHTS})
    with pytest.raises(ValueError, match="one entry per row"):
        balance_table(_tiny_frame(), "joined", ["x"], weights={"ipw": [1, 2]})


def test_balance_table_matching_weights_drop_unmatched_units():
    # Matching weights of 0 remove units: comparison 1 and 6 unmatched -> comparison 2, 3
    # (mean 2.5); ATT SMD (4 - 2.5) / 2 = 0.75 with the unweighted treated SD; ESS 2 (hand).
    table = balance_table(
        _tiny_frame(), "joined", ["x"], weights={"matching": [1, 1, 1, 0, 1, 1, 0]}
    )
    row = table.set_index("adjustment").loc["matching"]
    assert row["mean_comparison"] == pytest.approx(2.5)
    assert row["smd"] == pytest.approx(0.75, abs=1e-9)
    assert row["ess_comparison"] == pytest.approx(2.0)


# --- properties -------------------------------------------------------------------------------


@st.composite
def two_groups(draw, weighted: bool = False):
    n = draw(st.integers(min_value=4, max_value=25))
    x = draw(st.lists(st.integers(-50, 50), min_size=n, max_size=n))
    treated = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    treated[0], treated[1] = True, False  # both groups present
    weights = None
    if weighted:
        weights = draw(st.lists(st.floats(0.1, 10), min_size=n, max_size=n))
    return np.array(x, dtype=float), np.array(treated), weights


@settings(max_examples=60, deadline=None)
@given(two_groups(weighted=True))
def test_smd_antisymmetric_when_groups_swap(sample):
    # Swapping participants and comparison negates the difference; the pooled, all and hedges
    # denominators do not depend on which group is which, and ATT <-> ATC swap their SDs.
    x, treated, weights = sample
    for kwargs, swapped in [
        ({"sd_denominator": "pooled"}, {"sd_denominator": "pooled"}),
        ({"sd_denominator": "hedges"}, {"sd_denominator": "hedges"}),
        ({"estimand": "ATT"}, {"estimand": "ATC"}),
    ]:
        forward = standardized_difference(x, treated, weights=weights, **kwargs)
        backward = standardized_difference(x, ~treated, weights=weights, **swapped)
        assert forward == pytest.approx(-backward, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(two_groups(weighted=True))
def test_smd_denominator_never_depends_on_the_weights(sample):
    # Domain ref 3.6: SMD x (unweighted SD) = weighted difference in means, for any weights.
    x, treated, weights = sample
    w = np.array(weights)
    sd = float(np.std(x[treated], ddof=1)) if treated.sum() > 1 else 0.0
    if len(np.unique(x)) == 2 or sd == 0:
        return  # binary (raw) or the full-sample fallback: covered by the example tests
    difference = np.average(x[treated], weights=w[treated]) - np.average(
        x[~treated], weights=w[~treated]
    )
    smd = standardized_difference(x, treated, weights=weights)
    assert smd * sd == pytest.approx(difference, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(two_groups(weighted=True))
def test_ks_is_a_distance_between_distributions(sample):
    x, treated, weights = sample
    ks = ks_statistic(x, treated, weights=weights)
    assert 0.0 <= ks <= 1.0 + 1e-12
    assert ks == pytest.approx(ks_statistic(x, ~treated, weights=weights), abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(0.0, 1e3), min_size=1, max_size=40).filter(lambda w: sum(w) > 0))
def test_ess_between_one_and_n(weights):
    ess = effective_sample_size(weights)
    positive = sum(w > 0 for w in weights)
    assert 1.0 - 1e-9 <= ess <= positive + 1e-9
    # Invariant to rescaling all weights.
    assert effective_sample_size([7 * w for w in weights]) == pytest.approx(ess, rel=1e-9)
