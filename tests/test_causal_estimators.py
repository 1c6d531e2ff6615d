"""Tests of outcomes.analysis.causal: IPW, AIPW, propensity-score matching, DiD.

Reference values and where they come from:

- Stata 13 ``teffects`` on the Cattaneo (2010) birthweight data, as stored in statsmodels'
  ``statsmodels/treatment/tests/results/results_teffects.py`` and quoted in
  shared/reference/evaluation-methods.md ("Reference values for tests"). Treatment model:
  probit of smoking on mmarried, mage, mage^2, fbaby, medu; outcome model: bweight on
  prenatal1, mmarried, mage, fbaby. Tolerances are those of statsmodels' own
  ``test_teffects.py`` (effects rtol 1e-5, SEs rtol 1e-3, CI limits rtol 5e-4).
- Hand computations, written out in the comments.
- Bootstrap SEs produced by :func:`bootstrap_reference` below (run this file as a script
  to regenerate them), for the two SEs Stata does not report (ATO, doubly robust ATT).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels
from scipy import stats

from outcomes.analysis.causal import aipw, did, ipw, matching
from outcomes.analysis.estimators import ancova, unadjusted
from outcomes.errors import OutcomesError

CATTANEO = Path(statsmodels.__file__).parent / "treatment/tests/results/cataneo2.csv"
TREATMENT_TERMS = ["mmarried_", "mage", "I(mage**2)", "fbaby_", "medu"]
OUTCOME_TERMS = ["prenatal1_", "mmarried_", "mage", "fbaby_"]


@pytest.fixture(scope="module")
def births() -> pd.DataFrame:
    """Cattaneo's 4,642 births; smokers are the 'participants'."""
    data = pd.read_csv(CATTANEO)
    return data.assign(group=np.where(data["mbsmoke_"] == 1, "participant", "comparison"))


def _births_ipw(births, estimand):
    return ipw(births, "bweight", covariates=TREATMENT_TERMS, estimand=estimand, link="probit")


# --- Stata teffects on Cattaneo -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimand", "effect", "se", "pom0", "ci"),
    [
        # results_teffects.results_ipw.table rows r1vs0.mbsmoke and 0.mbsmoke (Stata ATE).
        ("ATE", -230.68863779526, 25.815243801554, 3403.4627086846,
         (-281.28558589843, -180.09168969209)),
        # results_teffects.results_ipw.table_t (Stata ATET).
        ("ATT", -225.17726054799, 23.664582726945, 3362.8369827702,
         (-271.55899040197, -178.795530694)),
    ],
)  # fmt: skip
def test_ipw_reproduces_stata_teffects(births, estimand, effect, se, pom0, ci):
    result = _births_ipw(births, estimand)
    assert result["estimate"] == pytest.approx(effect, rel=1e-5)
    assert result["std_error"] == pytest.approx(se, rel=1e-3)
    assert result["pom_comparison"] == pytest.approx(pom0, rel=1e-5)
    assert result["ci_low"] == pytest.approx(ci[0], rel=5e-4)
    assert result["ci_high"] == pytest.approx(ci[1], rel=5e-4)
    # Stata reports z statistics: the p-value is the normal one, the df infinite.
    assert result["df"] == math.inf
    assert result["p_value"] == pytest.approx(2 * stats.norm.sf(abs(effect / se)), rel=1e-3)
    assert result["se_type"] == "m_estimation"
    assert result["n_participants"] == 864  # smokers in the data (mbsmoke_ == 1)
    assert result["n_comparison"] == 3778


def test_aipw_ate_reproduces_stata_teffects(births):
    # results_teffects.results_aipw.table: ATE -230.98920111258 (SE 26.210564625435),
    # POM untreated 3403.3552531738.
    result = aipw(
        births, "bweight", covariates=TREATMENT_TERMS, outcome_covariates=OUTCOME_TERMS,
        estimand="ATE", link="probit",
    )  # fmt: skip
    assert result["estimate"] == pytest.approx(-230.98920111258, rel=1e-5)
    assert result["std_error"] == pytest.approx(26.210564625435, rel=1e-3)
    assert result["pom_comparison"] == pytest.approx(3403.3552531738, rel=1e-5)
    assert result["ci_low"] == pytest.approx(-282.36096379289, rel=5e-4)
    assert result["ci_high"] == pytest.approx(-179.61743843227, rel=5e-4)


def test_dr_att_with_intercept_only_outcome_model_is_ipw_att(births):
    # Algebra: with m0 = mean of the comparison outcomes, the augmentation cancels and the
    # DR ATT is the odds-weighted IPW ATT, so estimate and SE are Stata's ATET
    # (results_ipw.table_t: -225.17726054799, SE 23.664582726945).
    result = aipw(
        births, "bweight", covariates=TREATMENT_TERMS, outcome_covariates=[],
        estimand="ATT", link="probit",
    )  # fmt: skip
    assert result["estimate"] == pytest.approx(-225.17726054799, rel=1e-5)
    assert result["std_error"] == pytest.approx(23.664582726945, rel=1e-3)


# Nonparametric bootstrap SEs on Cattaneo (B = 1000, seed 20240601, resampling births), made
# by bootstrap_reference() below: {'ipw_ato': 22.039536823173435, 'aipw_att': 23.331192270746747}.
# Monte Carlo error of a bootstrap SD with B = 1000 is about 1/sqrt(2B) = 2.2 %, so a 7 %
# tolerance is about three Monte Carlo SEs (the sandwich SEs are 22.51 and 23.63).
BOOTSTRAP_SE = {"ipw_ato": 22.04, "aipw_att": 23.33}


def test_ato_sandwich_agrees_with_bootstrap(births):
    result = _births_ipw(births, "ATO")
    assert result["std_error"] == pytest.approx(BOOTSTRAP_SE["ipw_ato"], rel=0.07)
    assert result["se_type"] == "m_estimation"


def test_dr_att_sandwich_agrees_with_bootstrap(births):
    result = aipw(
        births, "bweight", covariates=TREATMENT_TERMS, outcome_covariates=OUTCOME_TERMS,
        estimand="ATT", link="probit",
    )  # fmt: skip
    assert result["std_error"] == pytest.approx(BOOTSTRAP_SE["aipw_att"], rel=0.07)


def test_returns_the_ancova_keys_plus_documented_extras(births):
    keys = set(ancova(births, "bweight", baseline=None, covariates=["mage"]))
    extras = {"estimand", "pom_participants", "pom_comparison", "ess_participants",
              "ess_comparison", "link"}  # fmt: skip
    assert set(_births_ipw(births, "ATE")) == keys | extras
    dr = aipw(births, "bweight", covariates=["mage"], estimand="ATE")
    assert set(dr) == keys | extras
    matched = matching(births, "bweight", covariates=["mage", "medu"])
    assert set(matched) == keys | {"estimand", "n_unmatched", "pairs", "link"}
    panel = births.assign(pre=births["bweight"] - births["mage"])
    assert keys <= set(did(panel, "bweight", baseline="pre"))


# --- matching by hand ----------------------------------------------------------------------------


def _matching_panel() -> pd.DataFrame:
    # One covariate: the fitted logit score is a + b*x, so nearest on the logit score is
    # nearest on x, and a caliper in SDs of the logit score is the same caliper in SDs of x.
    rows = [
        ("P1", "participant", 1.0, 10.0), ("P2", "participant", 2.0, 12.0),
        ("P3", "participant", 4.0, 15.0), ("P4", "participant", 2.7, 14.0),
        ("C1", "comparison", 0.0, 6.0), ("C2", "comparison", 1.1, 8.0),
        ("C3", "comparison", 2.6, 9.0), ("C4", "comparison", 3.0, 11.0),
        ("C5", "comparison", 5.5, 13.0), ("C6", "comparison", -1.0, 5.0),
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["id", "group", "x", "y"]).set_index("id")


def _pairs(result) -> list[tuple[str, str]]:
    pairs = result["pairs"]
    pairs = pairs[pairs["status"] == "matched"]
    return list(zip(pairs["treated"], pairs["control"], strict=True))


def test_matching_without_replacement_in_data_order_by_hand():
    # Data order: P1 (x 1.0) takes C2 (1.1); P2 (2.0) takes C3 (2.6, distance 0.6); P3 (4.0)
    # takes C4 (3.0; C5 is 1.5 away); P4 (2.7) finds C2-C4 used and takes C1 (0.0, 2.7 away;
    # C5 is 2.8 away). Differences 10-8 = 2, 12-9 = 3, 15-11 = 4, 14-6 = 8: mean 4.25;
    # sd^2 = (2.25^2 + 1.25^2 + 0.25^2 + 3.75^2)/3 = 20.75/3, SE = sqrt(20.75/12) = 1.314978,
    # paired t with 3 df. Changed: data order is no longer the default (issue 9: it made the
    # estimate depend on the row order), so this test asks for it.
    result = matching(_matching_panel(), "y", covariates=["x"], order="data")
    assert _pairs(result) == [("P1", "C2"), ("P2", "C3"), ("P3", "C4"), ("P4", "C1")]
    assert result["estimate"] == pytest.approx(4.25, abs=1e-12)
    assert result["std_error"] == pytest.approx(math.sqrt(20.75 / 12), abs=1e-12)
    assert result["df"] == 3
    half = stats.t.ppf(0.975, 3) * math.sqrt(20.75 / 12)
    assert result["ci_low"] == pytest.approx(4.25 - half, abs=1e-12)
    assert result["se_type"] == "paired"
    assert (result["n_participants"], result["n_comparison"], result["n_unmatched"]) == (4, 4, 0)
    assert result["mean_participants"] == pytest.approx(12.75, abs=1e-12)  # (10+12+15+14)/4
    assert result["mean_comparison"] == pytest.approx(8.5, abs=1e-12)  # (8+9+11+6)/4


def test_matching_closest_pair_first_by_hand():
    # The default order. The closest pairs are P4-C3 and P1-C2 (0.1 apart in x); then P2-C4
    # and P3-C4 are both 1.0 apart (a tie up to rounding), and the higher participant, P3,
    # takes C4; P2 is left with C1 (2.0; C5 is 3.5 away). Differences in pair order
    # 14-9 = 5, 10-8 = 2, 15-11 = 4, 12-6 = 6: mean 4.25; sd^2 = (0.75^2 + 2.25^2 + 0.25^2
    # + 1.75^2)/3 = 8.75/3, SE = sqrt(8.75/12) = 0.853913, paired t with 3 df.
    result = matching(_matching_panel(), "y", covariates=["x"])
    pairs = result["pairs"].sort_values("pair")
    assert list(zip(pairs["treated"], pairs["control"], strict=True)) == [
        ("P4", "C3"), ("P1", "C2"), ("P3", "C4"), ("P2", "C1")
    ]  # fmt: skip
    assert result["estimate"] == pytest.approx(4.25, abs=1e-12)
    assert result["std_error"] == pytest.approx(math.sqrt(8.75 / 12), abs=1e-12)
    assert result["df"] == 3
    assert result["mean_comparison"] == pytest.approx(8.5, abs=1e-12)  # (9+8+11+6)/4


def test_matching_paired_se_is_pair_clustered_regression_with_g_over_g_minus_1():
    # Documented equivalence: CR0 by pair on y ~ participant in the matched sample, times
    # G/(G-1), is the paired SE. statsmodels' cluster SE uses G/(G-1) (N-1)/(N-K); undo
    # the (N-1)/(N-K) factor with N = 8 rows, K = 2.
    import statsmodels.formula.api as smf

    panel = _matching_panel()
    result = matching(panel, "y", covariates=["x"])
    pairs = result["pairs"]
    long = pd.concat(
        [
            pd.DataFrame({"y": panel.loc[pairs["treated"], "y"].to_numpy(), "t": 1.0,
                          "pair": pairs["pair"].to_numpy(int)}),
            pd.DataFrame({"y": panel.loc[pairs["control"], "y"].to_numpy(), "t": 0.0,
                          "pair": pairs["pair"].to_numpy(int)}),
        ]
    )  # fmt: skip
    fit = smf.ols("y ~ t", long).fit(cov_type="cluster", cov_kwds={"groups": long["pair"]})
    assert result["std_error"] == pytest.approx(fit.bse["t"] / math.sqrt(7 / 6), rel=1e-10)


def test_matching_with_caliper_by_hand():
    # Pooled SD of x (= of the logit score / |b|): participants var 4.7675/3 = 1.589167,
    # comparison var 27.313333/5 = 5.462667, sqrt((1.589167 + 5.462667)/2) = 1.877743;
    # caliper 0.5 SD = 0.938872 in x.
    # Data order (asked for since it is no longer the default, issue 9): P3's nearest
    # available (C4, 1.0 away) is beyond the caliper: dropped, C4 stays available and P4
    # (2.7) takes it (0.3 away). Pairs P1-C2 (2), P2-C3 (3), P4-C4 (14-11 = 3): estimate 8/3.
    result = matching(_matching_panel(), "y", covariates=["x"], caliper=0.5, order="data")
    assert _pairs(result) == [("P1", "C2"), ("P2", "C3"), ("P4", "C4")]
    assert result["n_unmatched"] == 1
    pairs = result["pairs"].set_index("treated")
    assert pairs.loc["P3", "status"] == "caliper"
    assert result["estimate"] == pytest.approx(8 / 3, abs=1e-12)
    assert result["n_participants"] == 3
    # Closest first (the default): P4-C3 and P1-C2 (0.1 apart); every other pair (P2-C4 and
    # P3-C4 1.0, P3-C5 1.5, P2-C1 2.0) is beyond 0.938872. Pairs P1-C2 (2), P4-C3 (5).
    closest = matching(_matching_panel(), "y", covariates=["x"], caliper=0.5)
    assert _pairs(closest) == [("P1", "C2"), ("P4", "C3")]
    assert closest["n_unmatched"] == 2
    assert closest["estimate"] == pytest.approx(3.5, abs=1e-12)


def test_matching_with_replacement_abadie_imbens_by_hand():
    # Each participant takes its nearest: P1-C2 (2), P2-C3 (3), P3-C4 (4), P4-C3 (14-9 = 5);
    # estimate 3.5, three distinct comparison units. Abadie-Imbens: sum (d - 3.5)^2 = 5;
    # C3 is used K = 2 times, K(K-1) = 2; its J = 2 nearest comparison neighbours on x are
    # C4 (0.4 away, y 11) and C2 (1.5 away, y 8), so s2 = 2/3 (9 - 9.5)^2 = 1/6.
    # V = (5 + 2/6) / 4^2 = 1/3, SE = 0.577350, normal inference.
    result = matching(_matching_panel(), "y", covariates=["x"], replace=True)
    assert _pairs(result) == [("P1", "C2"), ("P2", "C3"), ("P3", "C4"), ("P4", "C3")]
    assert result["estimate"] == pytest.approx(3.5, abs=1e-12)
    assert result["std_error"] == pytest.approx(math.sqrt(1 / 3), abs=1e-12)
    assert result["se_type"] == "abadie_imbens"
    assert result["df"] == math.inf
    assert (result["n_participants"], result["n_comparison"]) == (4, 3)


def test_abadie_imbens_neighbours_include_ties_and_ignore_the_row_order():
    # Replaces "ties among neighbours: first in the data" (issue 9). Scores 0, 0, 0, 1 with
    # outcomes 1, 2, 3, 10. Unit 0: its two nearest are the other two at score 0, s2 = 2/3
    # (1 - 2.5)^2 = 1.5. Unit 3: all three are 1 away, a tie for the second nearest, so all
    # three are used: J = 3, s2 = 3/4 (10 - 2)^2 = 48. Reordering the units permutes s2.
    from outcomes.analysis.causal import _within_group_variance

    score = np.array([0.0, 0.0, 0.0, 1.0])
    y = np.array([1.0, 2.0, 3.0, 10.0])
    s2 = _within_group_variance(score, y, 1e-9)
    np.testing.assert_allclose(s2, [1.5, 2 / 3 * 0.0**2, 2 / 3 * 1.5**2, 48.0], atol=1e-12)
    rows = np.array([3, 1, 0, 2])
    np.testing.assert_array_equal(_within_group_variance(score[rows], y[rows], 1e-9), s2[rows])


# --- difference in differences -------------------------------------------------------------------


def test_did_by_hand_and_against_scipy_welch():
    # Change scores: participants 1, 2, 3 (mean 2, var 1); comparison 0, 1, 2 (mean 1,
    # var 1). DiD = 1; Welch SE = sqrt(1/3 + 1/3) = 0.816497, df = (2/3)^2 / (2 (1/3)^2 / 2)
    # = 4. A row missing its baseline is dropped.
    panel = pd.DataFrame(
        {"group": ["participant"] * 4 + ["comparison"] * 3,
         "y": [5.0, 6, 8, 9, 4, 5, 5], "y_baseline": [4.0, 4, 5, np.nan, 4, 4, 3]}
    )  # fmt: skip
    result = did(panel, "y", baseline="y_baseline")
    assert result["estimate"] == pytest.approx(1.0, abs=1e-12)
    assert result["std_error"] == pytest.approx(math.sqrt(2 / 3), abs=1e-12)
    assert result["df"] == pytest.approx(4.0, abs=1e-12)
    ref = stats.ttest_ind([1, 2, 3], [0, 1, 2], equal_var=False)
    assert result["p_value"] == pytest.approx(ref.pvalue, rel=1e-10)
    assert result["n_participants"] == 3
    assert result["mean_participants"] == pytest.approx(19 / 3, abs=1e-12)  # follow-up mean
    assert result["mean_change_participants"] == pytest.approx(2.0, abs=1e-12)
    assert result["mean_baseline_comparison"] == pytest.approx(11 / 3, abs=1e-12)
    assert result["se_type"] == "welch"


# --- simulation: planted effect, confounding -----------------------------------------------------

TRUE_EFFECT = 0.5


@pytest.fixture(scope="module")
def confounded() -> pd.DataFrame:
    """n = 4000; ability and a binary risk factor raise both joining and the outcome.

    The effect is constant (0.5), so the ATT, ATE and ATO are all 0.5; the unadjusted
    difference is biased upwards by about 0.8 x (gap in ability) + 0.8 x (gap in risk).
    """
    rng = np.random.default_rng(20240607)
    n = 4000
    ability = rng.normal(size=n)
    risk = (rng.random(n) < 0.4).astype(float)
    joined = rng.random(n) < 1 / (1 + np.exp(-(-0.7 + 0.8 * ability + 0.7 * risk)))
    outcome = 1 + TRUE_EFFECT * joined + 0.8 * ability + 0.8 * risk + rng.normal(size=n)
    return pd.DataFrame(
        {"group": np.where(joined, "participant", "comparison"), "ability": ability,
         "risk": risk, "y": outcome}
    )  # fmt: skip


def _covers(result) -> bool:
    return result["ci_low"] <= TRUE_EFFECT <= result["ci_high"]


def test_simulation_adjusted_estimators_cover_truth_and_unadjusted_does_not(confounded):
    terms = ["ability", "C(risk)"]
    naive = unadjusted(confounded, "y")
    assert not _covers(naive)
    assert naive["ci_low"] > TRUE_EFFECT + 0.3
    fits = {
        f"ipw_{estimand}": ipw(confounded, "y", covariates=terms, estimand=estimand)
        for estimand in ("ATT", "ATE", "ATO")
    }
    fits["aipw_ATE"] = aipw(confounded, "y", covariates=terms, estimand="ATE")
    fits["aipw_ATT"] = aipw(confounded, "y", covariates=terms, estimand="ATT")
    # Without replacement, 43 % participants exhaust the close comparison units: greedy 1:1
    # matching without a caliper keeps poor late pairs (estimate 0.83 on this draw), so it
    # is run with Austin's 0.2 SD caliper (about 1,350 of 1,710 participants kept).
    fits["matching"] = matching(confounded, "y", covariates=terms, caliper=0.2)
    fits["matching_replace"] = matching(confounded, "y", covariates=terms, replace=True)
    for name, fit in fits.items():
        assert _covers(fit), (name, fit["estimate"], fit["ci_low"], fit["ci_high"])
        assert abs(fit["estimate"] - TRUE_EFFECT) < 0.15, name


def test_simulation_aipw_is_doubly_robust(confounded):
    # Wrong propensity model (risk only) but right outcome model: AIPW still covers, while
    # IPW with the same wrong score stays biased (ability is left unadjusted).
    wrong_ps = ["C(risk)"]
    right = ["ability", "C(risk)"]
    for estimand in ("ATE", "ATT"):
        dr = aipw(confounded, "y", covariates=wrong_ps, outcome_covariates=right,
                  estimand=estimand)  # fmt: skip
        assert _covers(dr), estimand
        assert not _covers(ipw(confounded, "y", covariates=wrong_ps, estimand=estimand))
    # Right propensity model, outcome model with the intercept only: covers too.
    assert _covers(aipw(confounded, "y", covariates=right, outcome_covariates=[]))


def test_ipw_agrees_with_statsmodels_treatment_effect_on_logit(confounded):
    # Independent implementation: statsmodels TreatmentEffect.ipw (GMM, Nelder-Mead) on the
    # same logit model; statsmodels' tests allow rtol 1e-5 on effects, 1e-3 on SEs.
    import statsmodels.api as sm
    from statsmodels.treatment.treatment_effects import TreatmentEffect

    t = (confounded["group"] == "participant").to_numpy(float)
    exog = sm.add_constant(confounded[["ability", "risk"]])
    select = sm.Logit(t, exog).fit(disp=0)
    assert select.predict().min() > 0.01 and select.predict().max() < 0.99  # no GMM clipping
    effect = TreatmentEffect(sm.OLS(confounded["y"].to_numpy(), exog), t, results_select=select)
    for estimand, group in (("ATE", "all"), ("ATT", "treated")):
        reference = effect.ipw(effect_group=group)
        ours = ipw(confounded, "y", covariates=["ability", "risk"], estimand=estimand)
        assert ours["estimate"] == pytest.approx(reference.effect[0], rel=1e-5)
        assert ours["std_error"] == pytest.approx(reference.sd[0], rel=1e-3)


def test_ato_weights_balance_logit_covariates_exactly(confounded):
    # Li, Morgan & Zaslavsky (2018): with a logistic score, overlap weights make the
    # weighted means of every covariate in the model equal between groups.
    from outcomes.analysis.propensity import balancing_weights, fit_propensity

    frame = confounded.assign(participant=(confounded["group"] == "participant").astype(int))
    model = fit_propensity(frame, "participant", ["ability", "risk"])
    weights, _ = balancing_weights(model.scores, model.treated, "ATO")
    t = model.treated.to_numpy() == 1
    for column in ("ability", "risk"):
        x = frame[column].to_numpy()
        gap = np.average(x[t], weights=weights[t]) - np.average(x[~t], weights=weights[~t])
        assert abs(gap) < 1e-8


# --- argument checks ----------------------------------------------------------------------------


def test_unknown_estimand_lists_the_valid_ones(confounded):
    with pytest.raises(OutcomesError, match="'ATT', 'ATE', 'ATO'"):
        ipw(confounded, "y", covariates=["ability"], estimand="att")


def test_aipw_refuses_ato(confounded):
    with pytest.raises(OutcomesError, match="overlap"):
        aipw(confounded, "y", covariates=["ability"], estimand="ATO")


def test_missing_covariates_are_reported_then_dropped_on_request(confounded):
    panel = confounded.head(400).copy()
    panel.loc[panel.index[:3], "ability"] = np.nan
    with pytest.raises(OutcomesError, match="ability: 3 rows missing"):
        ipw(panel, "y", covariates=["ability", "C(risk)"])
    result = ipw(panel, "y", covariates=["ability", "C(risk)"], missing="drop")
    assert result["n_participants"] + result["n_comparison"] == 397
    assert len(result["rows"]) == 397


def test_missing_outcomes_are_dropped_silently(confounded):
    panel = confounded.head(400).copy()
    panel.loc[panel.index[:5], "y"] = np.nan
    result = ipw(panel, "y", covariates=["ability"])
    assert result["n_participants"] + result["n_comparison"] == 395


def test_unknown_group_label_is_an_error(confounded):
    panel = confounded.head(50).copy()
    panel.loc[panel.index[0], "group"] = "mentor"
    with pytest.raises(OutcomesError, match="mentor"):
        ipw(panel, "y", covariates=["ability"])


def test_a_group_with_fewer_than_two_units_gives_nan_not_an_error():
    panel = pd.DataFrame(
        {"group": ["participant"] + ["comparison"] * 5, "x": range(6), "y": range(6)}
    )
    result = ipw(panel, "y", covariates=["x"])
    assert result["n_participants"] == 1
    assert math.isnan(result["estimate"]) and math.isnan(result["std_error"])


# --- reference generator --------------------------------------------------------------------------


def bootstrap_reference(n_boot: int = 1000, seed: int = 20240601) -> dict[str, float]:
    """Nonparametric bootstrap SEs on Cattaneo for the ``BOOTSTRAP_SE`` constants.

    Resamples births with replacement, refits the probit score (and the outcome model) and
    recomputes the estimate; the SE is the SD (ddof = 1) of the bootstrap estimates.
    Takes about a minute: ``python -m tests.test_causal_estimators``.
    """
    data = pd.read_csv(CATTANEO)
    data = data.assign(group=np.where(data["mbsmoke_"] == 1, "participant", "comparison"))
    rng = np.random.default_rng(seed)
    draws: dict[str, list[float]] = {"ipw_ato": [], "aipw_att": []}
    for _ in range(n_boot):
        sample = data.iloc[rng.integers(0, len(data), len(data))].reset_index(drop=True)
        draws["ipw_ato"].append(_births_ipw(sample, "ATO")["estimate"])
        draws["aipw_att"].append(
            aipw(
                sample,
                "bweight",
                covariates=TREATMENT_TERMS,
                outcome_covariates=OUTCOME_TERMS,
                estimand="ATT",
                link="probit",
            )["estimate"]
        )
    return {name: float(np.std(values, ddof=1)) for name, values in draws.items()}


if __name__ == "__main__":
    print(bootstrap_reference())
