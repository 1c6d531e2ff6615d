"""Tests of outcomes.analysis.effect_sizes against the domain reference 3.1-3.4 and 3.11."""

from __future__ import annotations

import math

import pytest

from outcomes.analysis.effect_sizes import (
    hedges_g,
    improvement_index,
    pooled_sd,
    small_sample_correction,
)

# --- 3.11 "Hedges g (tiny)": means 6 and 5, SDs 1 and 1, n = 3 and 3 ------------------------


def test_tiny_pooled_sd_is_one():
    # Hand: S = sqrt((2 * 1^2 + 2 * 1^2) / (3 + 3 - 2)) = sqrt(4 / 4) = 1 (domain ref 3.11).
    assert pooled_sd(1.0, 1.0, 3, 3) == pytest.approx(1.0, abs=1e-12)


def test_tiny_small_sample_correction_is_0_8():
    # Domain ref 3.11: omega = 1 - 3 / (4 * 6 - 9) = 1 - 3/15 = 0.8.
    assert small_sample_correction(6) == pytest.approx(0.8, abs=1e-12)


def test_tiny_hedges_g_and_its_se():
    # Domain ref 3.11: d = (6 - 5) / 1 = 1.0, omega = 0.8, g = 0.8 (matches baselinr's example).
    result = hedges_g(6.0 - 5.0, 1.0, 3, 3)
    assert result["hedges_g"] == pytest.approx(0.8, abs=1e-12)
    # Domain ref 3.2 by hand: SE = sqrt(N/(n_i n_c) + g^2/(2N)) = sqrt(6/9 + 0.64/12)
    #                            = sqrt(0.666667 + 0.053333) = sqrt(0.72) = 0.848528.
    assert result["g_se"] == pytest.approx(math.sqrt(0.72), abs=1e-9)
    # 95 % CI g +- 1.959964 * SE (z_0.975 = 1.959964, standard normal table):
    # 0.8 -+ 1.663085 = (-0.863085, 2.463085).
    assert result["g_ci_low"] == pytest.approx(-0.863085, abs=1e-6)
    assert result["g_ci_high"] == pytest.approx(2.463085, abs=1e-6)


# --- 3.11 "Hedges g": 14.2 (6.1, n 48) vs 16.9 (6.6, n 52) ----------------------------------


def test_reference_pooled_sd():
    # Domain ref 3.11: S = 6.36511.
    # Hand: sqrt((47 * 37.21 + 51 * 43.56) / 98) = sqrt((1748.87 + 2221.56) / 98)
    #     = sqrt(40.51459) = 6.365108.
    assert pooled_sd(6.1, 6.6, 48, 52) == pytest.approx(6.36511, abs=5e-6)


def test_pooled_sd_weights_by_degrees_of_freedom_not_equally():
    # Hand: n = 2 and 10, SDs 0 and 2: S = sqrt((1 * 0 + 9 * 4) / 10) = sqrt(3.6) = 1.897367;
    # the unweighted average of variances would give sqrt(2) = 1.414214 instead.
    assert pooled_sd(0.0, 2.0, 2, 10) == pytest.approx(math.sqrt(3.6), abs=1e-12)


def test_reference_small_sample_correction():
    # Domain ref 3.11: omega = 0.992327 for N = 100 (1 - 3/391 = 0.99232737).
    assert small_sample_correction(100) == pytest.approx(0.992327, abs=5e-7)


def test_reference_hedges_g_se_and_ci():
    # Domain ref 3.11: g = -0.42093, SE = 0.20236, CI (-0.8176, -0.0243); d = -2.7 / S.
    s = pooled_sd(6.1, 6.6, 48, 52)
    result = hedges_g(14.2 - 16.9, s, 48, 52)
    assert result["hedges_g"] == pytest.approx(-0.42093, abs=5e-6)
    assert result["g_se"] == pytest.approx(0.20236, abs=5e-6)
    assert result["g_ci_low"] == pytest.approx(-0.8176, abs=5e-5)
    assert result["g_ci_high"] == pytest.approx(-0.0243, abs=5e-5)


def test_reference_cohens_d_is_g_over_omega():
    # Domain ref 3.11: d = -0.42419, and g = omega * d, so g / omega must give d back.
    s = pooled_sd(6.1, 6.6, 48, 52)
    g = hedges_g(14.2 - 16.9, s, 48, 52)["hedges_g"]
    assert g / 0.992327 == pytest.approx(-0.42419, abs=5e-6)


def test_hedges_g_alpha_sets_the_interval_width():
    # Tiny case, alpha = 0.10: z_0.95 = 1.644854 (standard normal table); SE = sqrt(0.72)
    # (hand, above): half-width = 1.644854 * 0.848528 = 1.395705.
    result = hedges_g(1.0, 1.0, 3, 3, alpha=0.10)
    assert result["g_ci_low"] == pytest.approx(0.8 - 1.395705, abs=1e-6)
    assert result["g_ci_high"] == pytest.approx(0.8 + 1.395705, abs=1e-6)


# --- omega formula (3.1) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_total", "expected"),
    [
        (6, 0.8),  # 1 - 3/15
        (10, 1 - 3 / 31),  # 0.903226
        (20, 1 - 3 / 71),  # 0.957746
        (100, 1 - 3 / 391),  # 0.992327
    ],
)
def test_omega_matches_hedges_df_form(n_total, expected):
    # Domain ref 3.1: WWC omega = 1 - 3/(4N - 9), identical to Hedges' 1 - 3/(4 df - 1) with
    # df = N - 2 (4(N-2) - 1 = 4N - 9); the expected values are that form computed by hand.
    assert small_sample_correction(n_total) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("n_total", [50, 100, 400])
def test_omega_approximates_exact_correction(n_total):
    # Domain ref 3.1: exact J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df - 1)/2)), df = N - 2
    # (Hedges 1981); the error of the approximation 1 - 3/(4 df - 1) is O(df^-2): 1.4e-5 at
    # N = 50 (computed with math.lgamma), far below the O(1/df) correction itself.
    df = n_total - 2
    exact = math.exp(math.lgamma(df / 2) - math.lgamma((df - 1) / 2)) / math.sqrt(df / 2)
    assert small_sample_correction(n_total) == pytest.approx(exact, abs=2e-5)


# --- improvement index (3.4) -----------------------------------------------------------------


def test_improvement_index_reference_vector():
    # Domain ref 3.11: g = -0.42093 -> -16.31 (100 * Phi(-0.42093) - 50).
    assert improvement_index(-0.42093) == pytest.approx(-16.31, abs=5e-3)


def test_improvement_index_flipped_for_lower_is_better():
    # Domain ref 3.11: "+16.31 if lower is better" (g oriented so that positive = benefit).
    assert improvement_index(0.42093) == pytest.approx(16.31, abs=5e-3)


def test_improvement_index_wwc_anchor():
    # Domain ref 3.4 (WWC Handbook v2.0, App. F): g = 0.25 <-> +10 percentile points;
    # exactly 100 * Phi(0.25) - 50 = 100 * 0.598706 - 50 = 9.8706 (normal table).
    assert improvement_index(0.25) == pytest.approx(9.8706, abs=1e-4)


@pytest.mark.parametrize(("g", "expected"), [(0.0, 0.0), (8.0, 50.0), (-8.0, -50.0)])
def test_improvement_index_range(g, expected):
    # Domain ref 3.4: range -50..+50, 0 at g = 0 (Phi(0) = 0.5, Phi(+-8) = 1 / 0 to 1e-15).
    assert improvement_index(g) == pytest.approx(expected, abs=1e-9)


# --- Cox index (3.3) and binary effect measures -------------------------------------------------

from outcomes.analysis.effect_sizes import binary_effects, cox_index  # noqa: E402


def test_cox_index_reference_vector():
    # Domain ref 3.11 "Cox index": p_i = 0.30, p_c = 0.45, N = 100 (taken as 50 + 50; the
    # index does not depend on the split): LOR = -0.64663, /1.65 = -0.39190, x omega = -0.38889.
    plain = cox_index(0.30, 0.45, 50, 50)
    assert plain["log_odds_ratio"] == pytest.approx(-0.64663, abs=5e-6)
    assert plain["cox_index"] == pytest.approx(-0.39190, abs=5e-6)
    assert plain["omega"] == 1.0
    corrected = cox_index(0.30, 0.45, 50, 50, omega=True)
    assert corrected["cox_index"] == pytest.approx(-0.38889, abs=5e-6)
    assert corrected["omega"] == pytest.approx(1 - 3 / 391, abs=1e-12)


def test_cox_index_reference_se_by_hand():
    # Hand, domain ref 3.3: cells a = 15, b = 35, c = 22.5, d = 27.5;
    # SE(LOR) = sqrt(1/15 + 1/35 + 1/22.5 + 1/27.5) = sqrt(0.066667 + 0.028571 + 0.044444
    #         + 0.036364) = sqrt(0.176046) = 0.419579; SE(d) = 0.419579 / 1.65 = 0.254290.
    result = cox_index(0.30, 0.45, 50, 50)
    assert result["log_odds_ratio_se"] == pytest.approx(0.419579, abs=1e-6)
    assert result["cox_se"] == pytest.approx(0.254290, abs=1e-6)
    # 95 % CI: -0.391895 -+ 1.959964 * 0.254290 = (-0.890295, 0.106504).
    assert result["cox_ci_low"] == pytest.approx(-0.890295, abs=1e-6)
    assert result["cox_ci_high"] == pytest.approx(0.106504, abs=1e-6)
    # With omega the SE shrinks by the same factor (domain ref 3.3: SE = omega SE(LOR)/1.65).
    corrected = cox_index(0.30, 0.45, 50, 50, omega=True)
    assert corrected["cox_se"] == pytest.approx(0.254290 * (1 - 3 / 391), abs=1e-6)


def test_cox_index_baselinr_example():
    # evaluation-methods.md "WWC formula unit tests" (baselinr README): proportions 2/3 vs 1/3
    # give 0.8402 without omega; with omega (N = 6, omega = 0.8) 0.6721.
    # Hand: (ln 2 - ln 0.5) / 1.65 = 1.386294 / 1.65 = 0.840178.
    assert cox_index(2 / 3, 1 / 3, 3, 3)["cox_index"] == pytest.approx(0.8402, abs=5e-5)
    assert cox_index(2 / 3, 1 / 3, 3, 3, omega=True)["cox_index"] == pytest.approx(0.6721, abs=5e-5)


@pytest.mark.parametrize(("p_i", "p_c"), [(0.0, 0.5), (1.0, 0.5), (0.5, 0.0), (0.5, 1.0)])
def test_cox_index_undefined_at_zero_or_one(p_i, p_c):
    # Domain ref 3.3: undefined when a proportion is 0 or 1 (baselinr returns NA).
    result = cox_index(p_i, p_c, 10, 10)
    assert math.isnan(result["cox_index"])
    assert math.isnan(result["cox_se"])
    assert result["continuity"] == 0.0


def test_cox_index_continuity_correction_by_hand():
    # Domain ref 3.3 "optionally add 0.5 to cells and report it". p_i = 0, p_c = 0.5, n = 10 + 10:
    # cells (0, 10, 5, 5) + 0.5 = (0.5, 10.5, 5.5, 5.5); LOR = ln(0.5/10.5) - ln(5.5/5.5)
    # = ln(0.047619) = -3.044522; / 1.65 = -1.845165;
    # SE(LOR) = sqrt(2 + 0.095238 + 0.181818 + 0.181818) = sqrt(2.458874) = 1.568080.
    result = cox_index(0.0, 0.5, 10, 10, continuity=0.5)
    assert result["continuity"] == 0.5
    assert result["log_odds_ratio"] == pytest.approx(-3.044522, abs=1e-6)
    assert result["cox_index"] == pytest.approx(-1.845165, abs=1e-6)
    assert result["log_odds_ratio_se"] == pytest.approx(1.568080, abs=1e-6)


def test_cox_index_continuity_only_when_a_cell_is_empty():
    # Documented policy: the correction is added only to tables with an empty cell, so the
    # 3.11 reference value is unchanged when it is passed.
    result = cox_index(0.30, 0.45, 50, 50, continuity=0.5)
    assert result["continuity"] == 0.0
    assert result["cox_index"] == pytest.approx(-0.39190, abs=5e-6)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"p_participants": 1.2},
        {"p_comparison": -0.1},
        {"n_participants": 0},
        {"alpha": 1.5},
        {"continuity": 0.0},
    ],
)
def test_cox_index_rejects_bad_arguments(kwargs):
    arguments = {"p_participants": 0.3, "p_comparison": 0.45, "n_participants": 50,
                 "n_comparison": 50} | kwargs  # fmt: skip
    with pytest.raises(ValueError):
        cox_index(**arguments)


def test_binary_effects_by_hand():
    # 30 of 100 participants vs 45 of 100 comparison (the 3.11 Cox proportions, n = 100 each).
    # Hand computations (z = 1.959964):
    #   RD = 0.30 - 0.45 = -0.15; SE = sqrt(0.3*0.7/100 + 0.45*0.55/100) = sqrt(0.004575)
    #      = 0.067639; CI -0.15 -+ 0.132570 = (-0.282570, -0.017430).
    #   OR = (30 * 55) / (70 * 45) = 1650 / 3150 = 0.523810; SE(log OR) = sqrt(1/30 + 1/70
    #      + 1/45 + 1/55) = sqrt(0.088023) = 0.296687; CI exp(-0.646627 -+ 0.581496)
    #      = (0.292842, 0.936944).
    #   RR = 0.30 / 0.45 = 0.666667; SE(log RR) = sqrt(1/30 - 1/100 + 1/45 - 1/100)
    #      = sqrt(0.035556) = 0.188562; CI exp(-0.405465 -+ 0.369574) = (0.460686, 0.964746).
    #   Cox index = -0.646627 / 1.65 = -0.391895 (3.11); SE = 0.296687 / 1.65 = 0.179810.
    result = binary_effects(30, 100, 45, 100)
    expected = {
        "p_participants": 0.30, "p_comparison": 0.45,
        "risk_difference": -0.15, "risk_difference_se": 0.067639,
        "risk_difference_ci_low": -0.282570, "risk_difference_ci_high": -0.017430,
        "odds_ratio": 0.523810, "log_odds_ratio_se": 0.296687,
        "odds_ratio_ci_low": 0.292842, "odds_ratio_ci_high": 0.936944,
        "risk_ratio": 0.666667, "log_risk_ratio_se": 0.188562,
        "risk_ratio_ci_low": 0.460686, "risk_ratio_ci_high": 0.964746,
        "cox_index": -0.391895, "cox_se": 0.179810,
    }  # fmt: skip
    for key, value in expected.items():
        assert result[key] == pytest.approx(value, abs=2e-6), key
    assert result["continuity"] == 0.0


def test_binary_effects_empty_cell():
    # 0 of 10 vs 5 of 10: the risk difference stays defined (-0.5, Wald SE = sqrt(0 + 0.025)
    # = 0.158114 by hand); the ratios and the Cox index are NaN without a continuity correction.
    result = binary_effects(0, 10, 5, 10)
    assert result["risk_difference"] == pytest.approx(-0.5, abs=1e-12)
    assert result["risk_difference_se"] == pytest.approx(0.158114, abs=1e-6)
    for key in ("odds_ratio", "risk_ratio", "odds_ratio_ci_low", "cox_index"):
        assert math.isnan(result[key]), key
    # With 0.5 added to every cell (hand): OR = (0.5 * 5.5) / (10.5 * 5.5) = 0.047619;
    # RR = (0.5 / 11) / (5.5 / 11) = 0.090909; Cox as in the cox_index test, -1.845165.
    corrected = binary_effects(0, 10, 5, 10, continuity=0.5)
    assert corrected["continuity"] == 0.5
    assert corrected["odds_ratio"] == pytest.approx(0.047619, abs=1e-6)
    assert corrected["risk_ratio"] == pytest.approx(0.090909, abs=1e-6)
    assert corrected["cox_index"] == pytest.approx(-1.845165, abs=1e-6)
    assert corrected["risk_difference"] == pytest.approx(-0.5, abs=1e-12)


def test_binary_effects_rejects_impossible_counts():
    with pytest.raises(ValueError, match="events"):
        binary_effects(12, 10, 5, 10)
