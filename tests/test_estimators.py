"""Tests of outcomes.analysis.estimators (Welch difference and robust ANCOVA)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pingouin
import pytest
from scipy import stats

from outcomes.analysis.estimators import ancova, unadjusted
from outcomes.errors import ConfigError


def _frame(treat, **columns) -> pd.DataFrame:
    group = np.where(np.asarray(treat) == 1, "participant", "comparison")
    return pd.DataFrame({"group": group, **columns})


# --- (a) unadjusted: Welch's difference --------------------------------------------------------

PART = [5.0, 7.0, 8.0, 6.0, 9.0]
COMP = [3.0, 4.0, 6.0, 5.0]


def _welch_frame() -> pd.DataFrame:
    # A missing outcome in each group must be dropped before anything is computed.
    y = [*PART, np.nan, *COMP, np.nan]
    return _frame([1] * 6 + [0] * 5, y=y)


def test_unadjusted_by_hand():
    # Hand: participants mean 35/5 = 7, s^2 = (4 + 0 + 1 + 1 + 4)/4 = 2.5;
    # comparison mean 18/4 = 4.5, s^2 = (2.25 + 0.25 + 2.25 + 0.25)/3 = 5/3.
    # estimate 7 - 4.5 = 2.5; SE = sqrt(2.5/5 + (5/3)/4) = sqrt(0.5 + 0.416667) = 0.957427;
    # Welch df = 0.916667^2 / (0.5^2/4 + 0.416667^2/3) = 0.840278 / 0.120370 = 6.98077.
    result = unadjusted(_welch_frame(), "y")
    assert result["n_participants"] == 5
    assert result["n_comparison"] == 4
    assert result["mean_participants"] == pytest.approx(7.0, abs=1e-12)
    assert result["mean_comparison"] == pytest.approx(4.5, abs=1e-12)
    assert result["sd_participants"] == pytest.approx(math.sqrt(2.5), abs=1e-12)
    assert result["sd_comparison"] == pytest.approx(math.sqrt(5 / 3), abs=1e-12)
    assert result["estimate"] == pytest.approx(2.5, abs=1e-12)
    assert result["std_error"] == pytest.approx(0.957427, abs=1e-6)
    assert result["df"] == pytest.approx(6.98077, abs=1e-5)
    assert result["se_type"] == "welch"


def test_unadjusted_matches_scipy_welch():
    # Independent package: scipy.stats.ttest_ind(equal_var=False) on the same two samples.
    ref = stats.ttest_ind(PART, COMP, equal_var=False)
    ci = ref.confidence_interval(confidence_level=0.95)
    result = unadjusted(_welch_frame(), "y")
    assert result["estimate"] / result["std_error"] == pytest.approx(ref.statistic, rel=1e-10)
    assert result["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert result["df"] == pytest.approx(ref.df, rel=1e-10)
    assert result["ci_low"] == pytest.approx(ci.low, rel=1e-10)
    assert result["ci_high"] == pytest.approx(ci.high, rel=1e-10)


def test_unadjusted_alpha_matches_scipy_90_percent_interval():
    # scipy's Welch interval at confidence 0.90 is the reference for alpha = 0.10.
    ci = stats.ttest_ind(PART, COMP, equal_var=False).confidence_interval(confidence_level=0.90)
    result = unadjusted(_welch_frame(), "y", alpha=0.10)
    assert result["ci_low"] == pytest.approx(ci.low, rel=1e-10)
    assert result["ci_high"] == pytest.approx(ci.high, rel=1e-10)


def test_unadjusted_needs_two_per_group():
    # One comparison value: no SD, so no Welch inference (documented: NaN, never 0).
    result = unadjusted(_frame([1, 1, 1, 0], y=[1.0, 2.0, 3.0, 4.0]), "y")
    assert result["n_comparison"] == 1
    assert math.isnan(result["estimate"])
    assert math.isnan(result["std_error"])
    assert math.isnan(result["p_value"])


# --- (b) ancova with CR1 cluster-robust SEs: domain reference 3.11 ------------------------------

CR1_Y = [3, 4, 5, 4, 6, 7, 5, 8, 6, 9]
CR1_TREAT = [0] * 5 + [1] * 5
CR1_CLUSTER = [1, 1, 2, 2, 3, 4, 4, 5, 5, 6]


def _cr1_frame() -> pd.DataFrame:
    return _frame(CR1_TREAT, y=[float(v) for v in CR1_Y], cluster=CR1_CLUSTER)


def _cr1(data: pd.DataFrame) -> dict:
    return ancova(data, "y", baseline=None, covariates=[], se="CR1", cluster="cluster")


def test_ancova_cluster_cr1_reference_vector():
    # Domain ref 3.11 "CR1": beta = (4.4, 2.6); Stata CR1 SE 0.86450, t = 3.008, df = G - 1 = 5,
    # p = 0.0298.
    result = _cr1(_cr1_frame())
    assert result["estimate"] == pytest.approx(2.6, abs=1e-10)
    assert result["std_error"] == pytest.approx(0.86450, abs=5e-6)
    assert result["estimate"] / result["std_error"] == pytest.approx(3.008, abs=5e-4)
    assert result["df"] == 5
    assert result["p_value"] == pytest.approx(0.0298, abs=5e-5)
    assert result["se_type"] == "CR1"
    # CI 2.6 -+ t_{5, 0.975} * 0.86450 with t_{5, 0.975} = 2.570582 (t table): half-width 2.22227.
    assert result["ci_low"] == pytest.approx(2.6 - 2.22227, abs=5e-5)
    assert result["ci_high"] == pytest.approx(2.6 + 2.22227, abs=5e-5)


def test_ancova_cluster_cr1_by_hand_sandwich():
    # Domain ref 3.10, computed here with numpy: V0 = (X'X)^-1 [sum_g (X_g'u_g)(X_g'u_g)'] (X'X)^-1,
    # scaled by G/(G-1) * (N-1)/(N-K) = 6/5 * 9/8 = 1.35 (the factor quoted in 3.11).
    x = np.column_stack([np.ones(10), CR1_TREAT]).astype(float)
    y = np.asarray(CR1_Y, dtype=float)
    bread = np.linalg.inv(x.T @ x)
    u = y - x @ (bread @ x.T @ y)
    cl = np.asarray(CR1_CLUSTER)
    meat = sum(np.outer(x[cl == g].T @ u[cl == g], x[cl == g].T @ u[cl == g]) for g in set(cl))
    v = 1.35 * bread @ meat @ bread
    assert _cr1(_cr1_frame())["std_error"] == pytest.approx(math.sqrt(v[1, 1]), rel=1e-10)


def test_ancova_cluster_se_does_not_depend_on_row_order():
    # Reordering the rows of the 3.11 CR1 vector must not change its SE (0.86450).
    shuffled = _cr1_frame().sample(frac=1.0, random_state=0)
    assert _cr1(shuffled)["std_error"] == pytest.approx(0.86450, abs=5e-6)


def test_ancova_accepts_a_label_index():
    # Same 3.11 CR1 vector with string row labels: same estimate and SE expected.
    data = _cr1_frame().set_axis(list("abcdefghij"), axis=0)
    result = _cr1(data)
    assert result["estimate"] == pytest.approx(2.6, abs=1e-10)
    assert result["std_error"] == pytest.approx(0.86450, abs=5e-6)


def test_ancova_rows_and_counts_with_a_missing_outcome():
    # Position 3 (a comparison, y = 4) missing: 9 complete cases, 5 participants (mean
    # (7+5+8+6+9)/5 = 7) and 4 comparison (mean (3+4+5+6)/4 = 4.5); OLS on a dummy gives the
    # difference in means 2.5 (hand).
    data = _cr1_frame()
    data.loc[3, "y"] = np.nan
    result = ancova(data, "y", baseline=None, covariates=[], se="HC3")
    assert list(result["rows"]) == [0, 1, 2, 4, 5, 6, 7, 8, 9]
    assert (result["n_participants"], result["n_comparison"]) == (5, 4)
    assert result["mean_participants"] == pytest.approx(7.0, abs=1e-12)
    assert result["estimate"] == pytest.approx(2.5, abs=1e-10)


def test_ancova_rows_and_counts_with_a_missing_outcome_and_reversed_index():
    # Same data as above but labelled 9..0: the complete cases are every label except 6 (the
    # row at position 3); counts 5 participants / 4 comparison as above (hand).
    data = _cr1_frame()
    data.loc[3, "y"] = np.nan
    data.index = list(range(9, -1, -1))
    result = ancova(data, "y", baseline=None, covariates=[], se="HC3")
    assert sorted(result["rows"]) == [0, 1, 2, 3, 4, 5, 7, 8, 9]
    assert (result["n_participants"], result["n_comparison"]) == (5, 4)
    assert result["mean_participants"] == pytest.approx(7.0, abs=1e-12)


def test_ancova_unknown_covariate_raises_config_error():
    # Documented: a covariate term that cannot be built raises ConfigError.
    with pytest.raises(ConfigError):
        ancova(_cr1_frame(), "y", baseline=None, covariates=["not_a_column"])


# --- (c) ancova with HC3 against a hand-built sandwich ----------------------------------------


def _hc3_data(seed: int = 7, n: int = 40):
    rng = np.random.default_rng(seed)
    treat = np.repeat([0, 1], n // 2)
    base = rng.normal(10.0, 2.0, n)
    noise = rng.normal(0.0, 1.0, n) * (0.5 + treat + 0.2 * np.abs(base - 10.0))
    y = 2.0 + 0.8 * treat + 0.6 * base + noise
    return treat, base, y


def test_ancova_hc3_matches_hand_sandwich():
    # MacKinnon & White (1985) HC3, computed here with numpy:
    #   beta = (X'X)^-1 X'y,  h_i = x_i (X'X)^-1 x_i',
    #   V = (X'X)^-1 X' diag(u_i^2 / (1 - h_i)^2) X (X'X)^-1,  t on N - K df.
    treat, base, y = _hc3_data()
    x = np.column_stack([np.ones_like(base), treat, base])
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    u = y - x @ beta
    h = np.einsum("ij,jk,ik->i", x, bread, x)
    v = bread @ (x.T * (u**2 / (1 - h) ** 2)) @ x @ bread
    se = math.sqrt(v[1, 1])
    df = len(y) - 3
    t_crit = stats.t.ppf(0.975, df)
    p = 2 * stats.t.sf(abs(beta[1] / se), df)

    result = ancova(_frame(treat, y=y, pre=base), "y", baseline="pre", se="HC3")
    assert result["estimate"] == pytest.approx(beta[1], rel=1e-10)
    assert result["std_error"] == pytest.approx(se, rel=1e-10)
    assert result["df"] == df
    assert result["p_value"] == pytest.approx(p, rel=1e-8)
    assert result["ci_low"] == pytest.approx(beta[1] - t_crit * se, rel=1e-10)
    assert result["ci_high"] == pytest.approx(beta[1] + t_crit * se, rel=1e-10)
    assert result["se_type"] == "HC3"


# --- (d) ancova coefficient vs pingouin.ancova on its documented dataset -----------------------


def _pingouin_two_methods() -> pd.DataFrame:
    # pingouin's documented ANCOVA example data (pingouin.ancova docstring: Scores ~ Method +
    # Income), restricted to methods A and B (8 students each) so Method has one df.
    data = pingouin.read_dataset("ancova")
    return data.loc[data["Method"].isin(["A", "B"])].reset_index(drop=True)


def _classical_ols(data: pd.DataFrame):
    # Normal equations by hand: X = [1, B, Income], sigma^2 = RSS / (N - K),
    # Var(beta) = sigma^2 (X'X)^-1; classical t on N - K df.
    x = np.column_stack([np.ones(len(data)), (data["Method"] == "B").astype(float), data["Income"]])
    y = data["Scores"].to_numpy(float)
    xtx = x.T @ x
    beta = np.linalg.solve(xtx, x.T @ y)
    u = y - x @ beta
    df = len(y) - x.shape[1]
    se = math.sqrt(u @ u / df * np.linalg.inv(xtx)[1, 1])
    t = beta[1] / se
    return beta[1], t, 2 * stats.t.sf(abs(t), df), df


# pingouin 0.7 calls DataFrame.rename(inplace=True), deprecated in pandas 3.1 (not our code).
@pytest.mark.filterwarnings("ignore:The inplace keyword in DataFrame.rename")
def test_hand_ols_agrees_with_pingouin_ancova():
    # With a two-level factor, pingouin's type-II F for Method equals the classical t^2 of the
    # Method coefficient, and its p-unc the classical two-sided t p-value.
    data = _pingouin_two_methods()
    aov = pingouin.ancova(data=data, dv="Scores", covar="Income", between="Method")
    row = aov.loc[aov["Source"] == "Method"].iloc[0]
    p_col = "p_unc" if "p_unc" in aov.columns else "p-unc"
    _, t, p, df = _classical_ols(data)
    assert row["DF"] == 1
    assert t**2 == pytest.approx(row["F"], rel=1e-9)
    assert p == pytest.approx(row[p_col], rel=1e-9)
    assert df == 13


def test_ancova_estimate_matches_pingouin_checked_coefficient():
    # Our point estimate is the OLS coefficient of the group dummy (hand normal equations above,
    # checked against pingouin.ancova in the previous test); 5.93373 with this data.
    data = _pingouin_two_methods().assign(
        group=lambda d: np.where(d["Method"] == "B", "participant", "comparison")
    )
    coefficient, _, _, df = _classical_ols(data)
    result = ancova(data, "Scores", baseline="Income", se="HC3")
    assert result["estimate"] == pytest.approx(coefficient, rel=1e-10)
    assert result["estimate"] == pytest.approx(5.93373, abs=5e-5)
    assert result["df"] == df
    # Raw-outcome summaries in the analysed sample (pandas mean of Scores per Method).
    by_method = data.groupby("Method")["Scores"].mean()
    assert result["mean_participants"] == pytest.approx(by_method["B"], abs=1e-12)
    assert result["mean_comparison"] == pytest.approx(by_method["A"], abs=1e-12)


# --- (e) simulation with a planted effect and confounding -------------------------------------


def test_ancova_removes_confounding_that_biases_the_unadjusted_difference():
    # Planted: y = 1 + 0.5 treat + 2 x + N(0, 1), P(treat | x) = logistic(1.5 x), 2000 rows, seed
    # fixed. Joiners have higher x, so the raw difference is about 0.5 + 2 * (E[x|1] - E[x|0])
    # (~2.5 here); adjusting for x recovers 0.5.
    rng = np.random.default_rng(2024)
    n = 2000
    x = rng.normal(size=n)
    treat = (rng.random(n) < 1 / (1 + np.exp(-1.5 * x))).astype(int)
    y = 1 + 0.5 * treat + 2 * x + rng.normal(size=n)
    data = _frame(treat, y=y, x=x)

    naive = unadjusted(data, "y")
    assert not naive["ci_low"] <= 0.5 <= naive["ci_high"]
    assert naive["ci_low"] > 1.0

    adjusted = ancova(data, "y", baseline=None, covariates=["x"], se="HC3")
    assert adjusted["ci_low"] <= 0.5 <= adjusted["ci_high"]
    assert adjusted["estimate"] == pytest.approx(0.5, abs=0.15)


def test_ancova_cluster_rows_without_a_cluster_are_left_out():
    # 3.11 CR1 vector plus one row without a cluster: that row cannot enter a cluster-robust
    # fit, so the result must equal the published vector's (2.6, SE 0.86450).
    data = pd.concat(
        [_cr1_frame(), pd.DataFrame({"group": ["participant"], "y": [100.0], "cluster": [None]})],
        ignore_index=True,
    )
    result = _cr1(data)
    assert result["estimate"] == pytest.approx(2.6, abs=1e-10)
    assert result["std_error"] == pytest.approx(0.86450, abs=5e-6)


def test_unadjusted_pooled_matches_students_t():
    # scipy.stats.ttest_ind(equal_var=True) is Student's t (an independent implementation).
    rng = np.random.default_rng(8)
    data = pd.DataFrame({
        "group": ["participant"] * 30 + ["comparison"] * 45,
        "y": np.r_[rng.normal(1.0, 2.0, 30), rng.normal(0.0, 1.0, 45)],
    })  # fmt: skip
    result = unadjusted(data, "y", se="pooled")
    reference = stats.ttest_ind(data.y[:30], data.y[30:], equal_var=True)
    assert result["estimate"] / result["std_error"] == pytest.approx(reference.statistic, rel=1e-10)
    assert result["p_value"] == pytest.approx(reference.pvalue, rel=1e-10)
    assert result["df"] == 73 and result["se_type"] == "pooled"
