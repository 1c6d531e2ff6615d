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
