"""Tests of outcomes.analysis.multiplicity.adjust_pvalues (domain reference 3.8 and 3.11)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes.analysis.multiplicity import adjust_pvalues

# Domain ref 3.11, "BH" row.
P_REF = [0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.04, 0.001, 0.7, 0.02]


def test_bh_reference_vector():
    # Domain ref 3.11 (= R p.adjust(p, "BH")).
    expected = [0.033333, 0.057143, 0.057143, 0.025, 0.25, 0.555556, 0.057143, 0.01, 0.7, 0.05]
    assert adjust_pvalues(P_REF, "bh") == pytest.approx(expected, abs=1e-6)


def test_bh_is_the_default_method():
    # Same 3.11 reference vector, method omitted (documented default "bh").
    expected = [0.033333, 0.057143, 0.057143, 0.025, 0.25, 0.555556, 0.057143, 0.01, 0.7, 0.05]
    assert adjust_pvalues(P_REF) == pytest.approx(expected, abs=1e-6)


def test_holm_reference_vector_by_hand():
    # R: p.adjust(p, "holm") = pmin(1, cummax((n - i + 1) * p[o]))[ro], o = increasing order.
    # Hand computation, m = 10, sorted p with (m - j + 1) * p_(j) and the running max:
    #   j  p_(j)  (orig idx)  (m-j+1)p   cummax  min(1, .)
    #   1  0.001  (7)         10*.001=.01   .01   .01
    #   2  0.005  (3)          9*.005=.045  .045  .045
    #   3  0.01   (0)          8*.01 =.08   .08   .08
    #   4  0.02   (9)          7*.02 =.14   .14   .14
    #   5  0.03   (2)          6*.03 =.18   .18   .18
    #   6  0.04   (1)          5*.04 =.20   .20   .20
    #   7  0.04   (6)          4*.04 =.16   .20   .20
    #   8  0.2    (4)          3*.2  =.6    .6    .6
    #   9  0.5    (5)          2*.5  =1.0   1.0   1.0
    #  10  0.7    (8)          1*.7  =.7    1.0   1.0
    # Back in the original order:
    expected = [0.08, 0.20, 0.18, 0.045, 0.6, 1.0, 0.20, 0.01, 1.0, 0.14]
    assert adjust_pvalues(P_REF, "holm") == pytest.approx(expected, abs=1e-12)


def test_none_returns_the_raw_values():
    # method "none" (R p.adjust "none"): unchanged.
    assert adjust_pvalues(P_REF, "none") == pytest.approx(P_REF, abs=0)


def test_docstring_example_three_values():
    # Hand, m = 3, sorted .01, .03, .04: 3*.01/1 = .03, 3*.03/2 = .045, 3*.04/3 = .04;
    # cummin from the top: .03, .04, .04 -> original order [.03, .04, .04].
    assert adjust_pvalues([0.01, 0.04, 0.03], "bh") == pytest.approx([0.03, 0.04, 0.04], abs=1e-12)


def test_bh_nan_stays_nan_and_is_not_counted():
    # Hand, NaN excluded (R p.adjust: n = number of non-NA p): m = 3 as in the example above,
    # giving [.03, NaN, .04, .04]. Counting the NaN (m = 4) would give .04, .06, .0533... instead.
    result = adjust_pvalues([0.01, np.nan, 0.04, 0.03], "bh")
    assert np.isnan(result[1])
    assert result[[0, 2, 3]] == pytest.approx([0.03, 0.04, 0.04], abs=1e-12)


def test_holm_nan_stays_nan_and_is_not_counted():
    # Hand, m = 3: sorted .01, .03, .04 -> 3*.01 = .03, 2*.03 = .06, 1*.04 = .04 -> cummax
    # .03, .06, .06 -> original order [.03, NaN, .06, .06] (m = 4 would give .04, .09, .09).
    result = adjust_pvalues([0.01, np.nan, 0.04, 0.03], "holm")
    assert np.isnan(result[1])
    assert result[[0, 2, 3]] == pytest.approx([0.03, 0.06, 0.06], abs=1e-12)


@pytest.mark.parametrize("method", ["bh", "holm", "none"])
def test_all_nan_stays_nan(method):
    # No p-value present: nothing to adjust, every entry stays missing (domain ref 3.8).
    result = adjust_pvalues([np.nan, np.nan], method)
    assert result.shape == (2,)
    assert np.isnan(result).all()


def test_adjusted_values_are_capped_at_one():
    # Hand, BH with m = 2: sorted .6, .9 -> 2*.6/1 = 1.2, 2*.9/2 = .9 -> cummin .9, .9.
    # Holm: 2*.6 = 1.2 -> capped to 1; 1*.9 = .9 -> cummax 1.2 -> capped 1.
    assert adjust_pvalues([0.9, 0.6], "bh") == pytest.approx([0.9, 0.9], abs=1e-12)
    assert adjust_pvalues([0.9, 0.6], "holm") == pytest.approx([1.0, 1.0], abs=1e-12)


def test_unknown_method_raises():
    # Documented choices are bh, holm, none only.
    with pytest.raises(ValueError, match="method"):
        adjust_pvalues([0.1, 0.2], "bonferroni")


# --- properties ------------------------------------------------------------------------------

p_value = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
maybe_missing = st.one_of(p_value, p_value, p_value, st.just(float("nan")))


@settings(max_examples=200, deadline=None)
@given(p=st.lists(maybe_missing, min_size=1, max_size=25), method=st.sampled_from(["bh", "holm"]))
def test_adjusted_p_properties(p, method):
    # Properties of both procedures (Benjamini & Hochberg 1995; Holm 1979):
    # NaN positions preserved, adjusted >= raw, within [0, 1], and monotone in the raw order.
    raw = np.asarray(p, dtype=float)
    adj = adjust_pvalues(raw, method)
    present = ~np.isnan(raw)
    assert adj.shape == raw.shape
    assert np.array_equal(np.isnan(adj), ~present)
    a, r = adj[present], raw[present]
    assert (a >= r).all()
    assert ((a >= 0.0) & (a <= 1.0)).all()
    order = np.argsort(r, kind="stable")
    assert (np.diff(a[order]) >= 0).all()


@settings(max_examples=100, deadline=None)
@given(p=st.lists(p_value, min_size=1, max_size=25))
def test_holm_is_never_smaller_than_bh(p):
    # Hand proof: for rank i, holm_(i) >= min(1, (m - i + 1) p_(i)) and
    # bh_(i) <= min(1, m p_(i) / i); (m - i + 1) >= m / i  <=>  (i - 1)(m - i) >= 0, true for
    # 1 <= i <= m. So Holm's adjusted p is never below BH's (FWER vs FDR control).
    bh = adjust_pvalues(p, "bh")
    holm = adjust_pvalues(p, "holm")
    assert (holm >= bh - 1e-12).all()


def test_bh_tie_rule_rejects_with_less_or_equal():
    # evaluation-methods.md "BH tie rule": p = (.05, .038, .044, .031, .025, .006, .013, .019),
    # alpha .05: the "<=" step-up rule rejects all 8 (the largest p equals its threshold 8/8 *
    # .05); a strict "<" rule would reject 5. Ours: every adjusted p <= .05.
    p = [0.05, 0.038, 0.044, 0.031, 0.025, 0.006, 0.013, 0.019]
    adjusted = adjust_pvalues(p, "bh")
    assert (adjusted <= 0.05 + 1e-15).all()
    assert adjusted.max() == pytest.approx(0.05, abs=1e-15)
