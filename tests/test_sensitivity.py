"""Tests of outcomes.analysis.sensitivity: E-values (domain reference 3.9 and 3.11,
evaluation-methods.md "Sensitivity-analysis oracles") and the plausibility warning."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.analysis.sensitivity import (
    evalue_or,
    evalue_rr,
    evalue_smd,
    plausibility_warning,
)

KEYS = {"rr", "rr_ci_low", "rr_ci_high", "true_rr", "evalue", "evalue_ci"}

# --- risk ratios ------------------------------------------------------------------------------


def test_evalue_rr_reference_vector():
    # Domain ref 3.11 "E-value RR": RR = 3.9 -> 7.263.
    # Hand: 3.9 + sqrt(3.9 * 2.9) = 3.9 + sqrt(11.31) = 3.9 + 3.363034 = 7.263034.
    result = evalue_rr(3.9)
    assert set(result) == KEYS
    assert result["evalue"] == pytest.approx(7.263, abs=5e-4)
    assert math.isnan(result["evalue_ci"])  # no interval given


def test_evalue_rr_breastfeeding_example_with_ci():
    # evaluation-methods.md: VanderWeele & Ding (2017) RR 3.9 (1.8, 8.7) -> E = 7.26 for the
    # estimate and 3.00 for the lower limit. Hand: 1.8 + sqrt(1.8 * 0.8) = 1.8 + 1.2 = 3.0.
    result = evalue_rr(3.9, 1.8, 8.7)
    assert result["evalue"] == pytest.approx(7.26, abs=5e-3)
    assert result["evalue_ci"] == pytest.approx(3.00, abs=1e-9)


def test_evalue_rr_below_one_is_inverted():
    # VanderWeele & Ding (2017) leukemia example, also the EValue package's evalues.RR example:
    # RR 0.80 (0.71, 0.91). Hand: 1/0.8 = 1.25 -> 1.25 + sqrt(1.25 * 0.25) = 1.809017; the limit
    # closer to the null is 0.91: 1/0.91 = 1.098901 -> 1.098901 + sqrt(1.098901 * 0.098901)
    # = 1.098901 + 0.329670 = 1.428571.
    result = evalue_rr(0.80, 0.71, 0.91)
    assert result["evalue"] == pytest.approx(1.809017, abs=1e-6)
    assert result["evalue_ci"] == pytest.approx(1.428571, abs=1e-6)


def test_evalue_rr_symmetric_in_the_ratio():
    # Domain ref 3.9: RR < 1 uses 1/RR, so RR and 1/RR share an E-value.
    assert evalue_rr(0.8)["evalue"] == pytest.approx(evalue_rr(1.25)["evalue"], abs=1e-12)


@pytest.mark.parametrize(("rr", "low", "high"), [(1.2, 0.9, 1.5), (0.8, 0.6, 1.1), (1.0, 0.8, 1.2)])
def test_evalue_ci_is_one_when_the_interval_includes_the_null(rr, low, high):
    # Domain ref 3.9: "if the CI includes 1, E_CI = 1" (EValue evalues.RR).
    assert evalue_rr(rr, low, high)["evalue_ci"] == 1.0


def test_evalue_rr_at_the_null_is_one():
    # Hand: RR = 1 -> 1 + sqrt(1 * 0) = 1.
    assert evalue_rr(1.0)["evalue"] == pytest.approx(1.0, abs=1e-12)


def test_evalue_rr_non_null_true_value():
    # Domain ref 3.9 "Non-null true value": E = (RR + sqrt(RR (RR - true))) / true when
    # true <= RR (EValue threshold()). Hand, RR = 3.9, true = 2: (3.9 + sqrt(3.9 * 1.9)) / 2
    # = (3.9 + 2.722132) / 2 = 3.311066. The lower limit 1.8 is below 2: E_CI = 1.
    result = evalue_rr(3.9, 1.8, 8.7, true=2.0)
    assert result["evalue"] == pytest.approx(3.311066, abs=1e-6)
    assert result["evalue_ci"] == 1.0
    assert result["true_rr"] == 2.0


def test_evalue_rr_true_value_beyond_the_estimate():
    # EValue threshold(), "causal effect is away from null": RR = 1.5, true = 2 -> r = 2/1.5
    # = 1.333333; E = 1.333333 + sqrt(1.333333 * 0.333333) = 1.333333 + 0.666667 = 2.0 (hand).
    assert evalue_rr(1.5, true=2.0)["evalue"] == pytest.approx(2.0, abs=1e-9)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((-1.0,), "positive"),
        ((0.0,), "positive"),
        ((2.0, 2.5, 3.0), "inside"),
        ((2.0, 3.0, 1.0), "exceed"),
    ],
)
def test_evalue_rr_rejects_bad_arguments(args, message):
    with pytest.raises(ValueError, match=message):
        evalue_rr(*args)


def test_evalue_rr_missing_estimate_gives_missing_evalues():
    # Documented: a NaN estimate (e.g. a group too small to estimate) gives NaN, not an error.
    result = evalue_rr(float("nan"))
    assert math.isnan(result["evalue"]) and math.isnan(result["evalue_ci"])


# --- standardized mean differences ------------------------------------------------------------


def test_evalue_smd_reference_vector():
    # Domain ref 3.11 "E-value SMD": d = 0.5, SE = 0.25 -> RR 1.576 (1.010, 2.460);
    # E = 2.529; E_CI = 1.111 (= EValue's documented example evalues.MD(.5, .25)).
    result = evalue_smd(0.5, 0.25)
    assert result["rr"] == pytest.approx(1.576, abs=5e-4)
    assert result["rr_ci_low"] == pytest.approx(1.010, abs=5e-4)
    assert result["rr_ci_high"] == pytest.approx(2.460, abs=5e-4)
    assert result["evalue"] == pytest.approx(2.529, abs=5e-4)
    assert result["evalue_ci"] == pytest.approx(1.111, abs=5e-4)


def test_evalue_smd_negative_reference_vector():
    # Domain ref 3.11 "E-value SMD (negative)": d = -0.4, SE = 0.15 -> RR 0.695 (0.532, 0.908);
    # E = 2.234; E_CI = 1.437 (the upper limit is the one closer to the null).
    result = evalue_smd(-0.4, 0.15)
    assert result["rr"] == pytest.approx(0.695, abs=5e-4)
    assert result["rr_ci_low"] == pytest.approx(0.532, abs=5e-4)
    assert result["rr_ci_high"] == pytest.approx(0.908, abs=5e-4)
    assert result["evalue"] == pytest.approx(2.234, abs=5e-4)
    assert result["evalue_ci"] == pytest.approx(1.437, abs=5e-4)


@pytest.mark.parametrize(
    ("d", "se", "evalue", "evalue_ci"),
    [
        (0.21, None, 1.72, None),  # RR 1.2106 -> E 1.72 (mentoring meta-analytic mean)
        (0.25, 0.10, 1.82, 1.28),
        (0.50, 0.10, 2.53, 1.97),
    ],
)
def test_evalue_smd_evaluation_methods_oracles(d, se, evalue, evalue_ci):
    # evaluation-methods.md "Sensitivity-analysis oracles", SMD conversions (recomputed there).
    result = evalue_smd(d, se)
    assert result["evalue"] == pytest.approx(evalue, abs=5e-3)
    if evalue_ci is None:
        assert math.isnan(result["evalue_ci"])
    else:
        assert result["evalue_ci"] == pytest.approx(evalue_ci, abs=5e-3)


def test_evalue_smd_rr_conversion_for_0_21():
    # evaluation-methods.md: d = 0.21 -> RR 1.2106 (exp(0.91 * 0.21) = exp(0.1911)).
    assert evalue_smd(0.21, None)["rr"] == pytest.approx(1.2106, abs=5e-5)


def test_evalue_smd_alpha_scales_the_interval():
    # Documented: the 1.78 multiplier (0.91 x 1.96, EValue) is scaled by z_{1-a/2} / z_{0.975}.
    # alpha = 0.10: 1.78 * 1.644854 / 1.959964 = 2.927840 / 1.959964 = 1.493823 (hand);
    # d = 0.5, SE = 0.25: exp(0.455 - 0.25 * 1.493823) = exp(0.081544) = 1.084961.
    result = evalue_smd(0.5, 0.25, alpha=0.10)
    assert result["rr_ci_low"] == pytest.approx(1.084961, abs=1e-6)


def test_evalue_smd_non_null_true():
    # EValue evalues.MD: true d converted with exp(0.91 true). d = 0.5, true = 0.2:
    # RR = exp(0.455) = 1.576173, true RR = exp(0.182) = 1.199614;
    # E = (1.576173 + sqrt(1.576173 * 0.376559)) / 1.199614 = (1.576173 + 0.770410) / 1.199614
    #   = 1.956114 (hand).
    result = evalue_smd(0.5, None, true=0.2)
    assert result["true_rr"] == pytest.approx(1.199614, abs=1e-6)
    assert result["evalue"] == pytest.approx(1.956114, abs=1e-5)


@settings(max_examples=100, deadline=None)
@given(
    d=st.floats(min_value=-3, max_value=3, allow_nan=False),
    se=st.floats(min_value=0.01, max_value=1),
)
def test_evalue_smd_symmetric_in_the_sign_of_d(d, se):
    # Domain ref 3.9: "the E-value is symmetric" (use |d| for lower-is-better outcomes).
    # (Absolute tolerance: near d = 0, E = 1 + sqrt(RR - 1) + ... magnifies rounding in RR.)
    plus, minus = evalue_smd(d, se), evalue_smd(-d, se)
    assert plus["evalue"] == pytest.approx(minus["evalue"], abs=1e-6)
    assert plus["evalue_ci"] == pytest.approx(minus["evalue_ci"], abs=1e-6)
    # And the interval's E-value never exceeds the estimate's.
    assert 1.0 <= plus["evalue_ci"] <= plus["evalue"] + 1e-12


# --- odds ratios ------------------------------------------------------------------------------


def test_evalue_or_rare_outcome_uses_the_odds_ratio():
    # Domain ref 3.9: rare outcome (< 15 %) -> RR ~ OR; so OR 3.9 (1.8, 8.7) gives the RR
    # example's 7.263 and 3.00.
    result = evalue_or(3.9, 1.8, 8.7, rare=True)
    assert result["evalue"] == pytest.approx(7.263, abs=5e-4)
    assert result["evalue_ci"] == pytest.approx(3.00, abs=1e-9)


def test_evalue_or_common_outcome_uses_the_square_root():
    # Domain ref 3.9: common outcome -> RR ~ sqrt(OR). OR = 4 -> RR = 2 -> E = 2 + sqrt(2)
    # = 3.414214; lower limit OR 2.25 -> RR 1.5 -> 1.5 + sqrt(0.75) = 2.366025 (hand).
    result = evalue_or(4.0, 2.25, 7.0, rare=False)
    assert result["rr"] == pytest.approx(2.0, abs=1e-12)
    assert result["evalue"] == pytest.approx(3.414214, abs=1e-6)
    assert result["evalue_ci"] == pytest.approx(2.366025, abs=1e-6)


def test_evalue_or_requires_rare():
    with pytest.raises(ValueError, match="rare"):
        evalue_or(2.0, 1.5, 3.0, rare=None)


# --- plausibility -----------------------------------------------------------------------------


def test_plausibility_warning_for_a_large_self_reported_self_selected_effect():
    # evaluation-methods.md "Plausibility anchors": warn above ~0.5 SD on self-reported
    # wellbeing in a self-selected design; the mentoring mean is ~0.21 (Raposa et al. 2019).
    message = plausibility_warning(0.72)
    assert message is not None
    assert "0.72" in message and "0.21" in message and "Raposa" in message


def test_plausibility_warning_uses_the_size_of_the_effect():
    # Either sign: a large reduction in a lower-is-better score is as implausible.
    assert plausibility_warning(-0.72) is not None


@pytest.mark.parametrize(
    ("g", "kwargs"),
    [
        (0.21, {}),  # the meta-analytic mean
        (0.5, {}),  # the threshold itself does not warn (strictly above)
        (0.9, {"self_reported": False}),
        (0.9, {"design": "randomized"}),
        (float("nan"), {}),
    ],
)
def test_plausibility_warning_silent_otherwise(g, kwargs):
    assert plausibility_warning(g, **kwargs) is None


def test_plausibility_warning_rejects_unknown_design():
    with pytest.raises(ValueError, match="self_selected"):
        plausibility_warning(0.9, design="matched")
