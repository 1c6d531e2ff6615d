"""Tests of outcomes.analysis.propensity: score model, weights, overlap, matching.

Expected numbers come from Stata's probit in statsmodels' stored ``teffects`` results (the
treatment model of ``results_teffects.results_ipw``) or from hand computations in the
comments; the fast matcher is also checked against a brute-force greedy matcher written here.
"""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels

from outcomes.analysis.propensity import (
    balancing_weights,
    covariate_columns,
    fit_propensity,
    match_nearest,
    overlap_table,
    tie_keys,
    trim_to_common_support,
)
from outcomes.errors import OutcomesError

CATTANEO = Path(statsmodels.__file__).parent / "treatment/tests/results/cataneo2.csv"

# --- fit_propensity --------------------------------------------------------------------------


def test_probit_reproduces_stata_treatment_model():
    # Stata teffects ipw treatment model, results_teffects.results_ipw.table rows mmarried,
    # mage, c.mage#c.mage, fbaby, medu, _cons. Only the coefficients: the table's SEs are
    # the robust SEs of the joint teffects system, not the probit's own.
    births = pd.read_csv(CATTANEO)
    model = fit_propensity(
        births, "mbsmoke_", ["mmarried_", "mage", "I(mage**2)", "fbaby_", "medu"], link="probit"
    )
    stata = {
        "mmarried_": -0.64848213804682,
        "mage": 0.17443269674281,
        "I(mage ** 2)": -0.00325591262232,
        "fbaby_": -0.2175961616731,
        "medu": -0.08636308703575,
        "Intercept": -1.5582552629264,
    }
    for name, coef in stata.items():
        assert model.results.params[name] == pytest.approx(coef, rel=1e-6)
    assert model.formula == "mbsmoke_ ~ mmarried_ + mage + I(mage**2) + fbaby_ + medu"
    assert model.link == "probit"
    assert model.scores.index.equals(births.index)
    assert model.scores.between(0, 1).all()


def _students(n: int = 300, seed: int = 11) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(15, 1.5, n),
            "gender": rng.choice(["f", "m"], n),
            "grade_level": rng.integers(8, 12, n),
        }
    )
    lin = -0.5 + 0.4 * (frame["age"] - 15) + 0.5 * (frame["gender"] == "f")
    frame["joined"] = (rng.random(n) < 1 / (1 + np.exp(-lin))).astype(int)
    return frame


def test_logit_default_and_terms_of_every_kind():
    frame = _students()
    model = fit_propensity(
        frame, "joined", ["C(gender)", "grade_level", "I(age**2)", "age:grade_level"]
    )
    assert model.link == "logit"
    assert list(model.results.params.index) == [
        "Intercept", "C(gender)[T.m]", "grade_level", "I(age ** 2)", "age:grade_level",
    ]  # fmt: skip
    # Logistic score equations: with an intercept, mean score = share of participants.
    assert model.scores.mean() == pytest.approx(frame["joined"].mean(), abs=1e-8)
    np.testing.assert_allclose(model.logit, np.log(model.scores / (1 - model.scores)))


def test_covariate_columns_reads_terms():
    frame = pd.DataFrame(columns=["age", "gender", "grade level", "x1", "x2"])
    terms = ["C(gender)", "I(age**2)", "x1:x2", "Q('grade level')", "np.log(age)"]
    assert covariate_columns(frame, terms) == ["gender", "age", "x1", "x2", "grade level"]


def test_missing_covariates_name_columns_and_counts():
    frame = _students()
    frame.loc[[0, 1, 2], "age"] = np.nan
    frame.loc[[2, 5], "gender"] = None
    with pytest.raises(OutcomesError) as error:
        fit_propensity(frame, "joined", ["age", "C(gender)"])
    message = str(error.value)
    assert "4 of 300 rows have missing values" in message
    assert "age: 3 rows missing" in message and "gender: 2 rows missing" in message
    model = fit_propensity(frame, "joined", ["age", "C(gender)"], missing="drop")
    assert len(model.rows) == 296
    assert not model.rows.isin([0, 1, 2, 5]).any()
    assert model.scores.index.equals(model.rows)


def test_term_that_cannot_be_built_is_named():
    with pytest.raises(OutcomesError, match="'gendr'"):
        fit_propensity(_students(), "joined", ["age", "gendr"])
    with pytest.raises(OutcomesError, match="not a valid patsy term"):
        fit_propensity(_students(), "joined", ["C(gender"])


def test_collinear_covariates_are_named():
    frame = _students().assign(age_months=lambda f: 12 * f["age"])
    with pytest.raises(OutcomesError, match="collinear"):
        fit_propensity(frame, "joined", ["age", "age_months"])


def test_treatment_must_be_zero_one():
    frame = _students().assign(joined=lambda f: f["joined"] + 1)
    with pytest.raises(OutcomesError, match="0 or 1"):
        fit_propensity(frame, "joined", ["age"])


def test_perfect_separation_is_an_error():
    frame = pd.DataFrame({"x": np.arange(20.0), "t": [0] * 10 + [1] * 10})
    with pytest.raises(OutcomesError, match="separates"):
        fit_propensity(frame, "t", ["x"])


def test_quasi_separation_by_a_category_is_an_error():
    # Everyone in school "B" joined: its coefficient runs off to infinity.
    frame = _students()
    frame["school"] = np.where(np.arange(len(frame)) % 5 == 0, "B", "A")
    frame.loc[frame["school"] == "B", "joined"] = 1
    with pytest.raises(OutcomesError, match=r"separates|did not converge"):
        fit_propensity(frame, "joined", ["age", "C(school)"])


def test_unknown_link_lists_the_options():
    with pytest.raises(OutcomesError, match="'logit', 'probit'"):
        fit_propensity(_students(), "joined", ["age"], link="cloglog")


# --- balancing_weights -----------------------------------------------------------------------

SCORES = [0.8, 0.5, 0.25, 0.2, 0.5, 0.75]
TREATED = [1, 1, 1, 0, 0, 0]


@pytest.mark.parametrize(
    ("estimand", "expected"),
    [
        # ATT: participants 1; comparison e/(1-e) = 0.25, 1, 3.
        ("ATT", [1, 1, 1, 0.25, 1, 3]),
        # ATE: participants 1/e = 1.25, 2, 4; comparison 1/(1-e) = 1.25, 2, 4.
        ("ATE", [1.25, 2, 4, 1.25, 2, 4]),
        # ATO: participants 1-e = 0.2, 0.5, 0.75; comparison e = 0.2, 0.5, 0.75.
        ("ATO", [0.2, 0.5, 0.75, 0.2, 0.5, 0.75]),
    ],
)
def test_weights_by_hand(estimand, expected):
    weights, info = balancing_weights(SCORES, TREATED, estimand)
    np.testing.assert_allclose(weights, expected, rtol=1e-12)
    assert info["n_truncated_participants"] == info["n_truncated_comparison"] == 0


def test_ess_by_hand():
    # ATT comparison weights 0.25, 1, 3: (4.25)^2 / (0.0625 + 1 + 9) = 18.0625 / 10.0625.
    _, info = balancing_weights(SCORES, TREATED, "ATT")
    assert info["ess_comparison"] == pytest.approx(18.0625 / 10.0625, rel=1e-12)
    assert info["ess_participants"] == pytest.approx(3.0, rel=1e-12)


def test_stabilized_ate_weights_by_hand():
    # P(T=1) = 3/6 = 0.5: every ATE weight halves.
    weights, info = balancing_weights(SCORES, TREATED, "ATE", stabilize=True)
    np.testing.assert_allclose(weights, [0.625, 1, 2, 0.625, 1, 2], rtol=1e-12)
    assert info["stabilized"] is True
    with pytest.raises(OutcomesError, match="ATE"):
        balancing_weights(SCORES, TREATED, "ATT", stabilize=True)


def test_truncation_at_values_by_hand():
    # ATE weights capped at 3: the 4 in each group becomes 3.
    weights, info = balancing_weights(
        SCORES, TREATED, "ATE", truncate=(None, 3), truncate_by="value"
    )
    np.testing.assert_allclose(weights, [1.25, 2, 3, 1.25, 2, 3], rtol=1e-12)
    assert info["n_truncated_participants"] == 1
    assert info["n_truncated_comparison"] == 1
    assert info["bounds_participants"] == (-math.inf, 3.0)


def test_truncation_at_quantiles_by_hand():
    # ATE participant weights 1.25, 2, 4: linear quantiles at 0.25 -> 1.25 + 0.5 * 0.75 = 1.625
    # and at 0.75 -> 2 + 0.5 * 2 = 3, so 1.25 -> 1.625 and 4 -> 3 (two truncated per group).
    weights, info = balancing_weights(SCORES, TREATED, "ATE", truncate=(0.25, 0.75))
    np.testing.assert_allclose(weights, [1.625, 2, 3, 1.625, 2, 3], rtol=1e-12)
    assert info["n_truncated_participants"] == 2
    assert info["n_truncated_comparison"] == 2
    assert info["bounds_comparison"] == pytest.approx((1.625, 3.0))
    # ATT: participants all weigh 1, nothing to truncate; comparison median of 0.25, 1, 3 is 1.
    weights, info = balancing_weights(SCORES, TREATED, "ATT", truncate=(0, 0.5))
    np.testing.assert_allclose(weights, [1, 1, 1, 0.25, 1, 1], rtol=1e-12)
    assert (info["n_truncated_participants"], info["n_truncated_comparison"]) == (0, 1)


def test_weights_reject_bad_input():
    with pytest.raises(OutcomesError, match="strictly between 0 and 1"):
        balancing_weights([0.0, 0.5], [1, 0])
    with pytest.raises(OutcomesError, match="0 or 1"):
        balancing_weights([0.3, 0.5], [1, 2])
    with pytest.raises(OutcomesError, match="'ATT', 'ATE', 'ATO'"):
        balancing_weights([0.3, 0.5], [1, 0], "ATC")
    with pytest.raises(OutcomesError, match="quantiles"):
        balancing_weights([0.3, 0.5], [1, 0], truncate=(0.9, 0.1))


# --- overlap -----------------------------------------------------------------------------------


def test_overlap_table_by_hand():
    # Participants 0.3, 0.6, 0.9, 0.5 (sorted .3 .5 .6 .9): median 0.55, p05 at position
    # 0.15 -> 0.3 + 0.15 * 0.2 = 0.33, p95 at 2.85 -> 0.6 + 0.85 * 0.3 = 0.855; one (0.9)
    # above the comparison maximum 0.7. Comparison 0.1, 0.2, 0.4, 0.7, 0.35: median 0.35,
    # p05 at 0.2 -> 0.12, p95 at 3.8 -> 0.64; two (0.1, 0.2) below the participant minimum.
    scores = [0.3, 0.6, 0.9, 0.5, 0.1, 0.2, 0.4, 0.7, 0.35]
    treated = [1, 1, 1, 1, 0, 0, 0, 0, 0]
    table = overlap_table(scores, treated).set_index("group")
    expected = pd.DataFrame(
        {"n": [4, 5], "min": [0.3, 0.1], "p05": [0.33, 0.12], "median": [0.55, 0.35],
         "p95": [0.855, 0.64], "max": [0.9, 0.7], "n_below_other_min": [0, 2],
         "n_above_other_max": [1, 0], "n_outside_other": [1, 2]},
        index=pd.Index(["participant", "comparison"], name="group"),
    )  # fmt: skip
    pd.testing.assert_frame_equal(table, expected, check_dtype=False, atol=1e-12)
    # Common support [max(0.3, 0.1), min(0.9, 0.7)] = [0.3, 0.7].
    keep = trim_to_common_support(pd.Series(scores, index=list("abcdefghi")), treated)
    assert keep[keep].index.tolist() == ["a", "b", "d", "g", "h", "i"]


# --- match_nearest ----------------------------------------------------------------------------


def _expit(x):
    return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))


def _line():
    # Logit scores: participants t1 0.0, t2 0.1, t3 2.0; comparison c1 0.05, c2 0.3, c3 -1.0.
    labels = ["t1", "t2", "t3", "c1", "c2", "c3"]
    scores = pd.Series(_expit([0.0, 0.1, 2.0, 0.05, 0.3, -1.0]), index=labels)
    return scores, [1, 1, 1, 0, 0, 0]


def _matched(pairs):
    return dict(zip(pairs["treated"], pairs["control"], strict=True))


def test_match_without_replacement_in_data_order_by_hand():
    # t1 takes c1 (0.05 away); t2 finds c1 used, takes c2 (0.2) over c3 (1.1); t3 gets c3 (3.0).
    # Changed: order="data" is no longer the default (issue 9: it made the estimate depend on
    # the row order), so this hand computation of data order now asks for it.
    pairs = match_nearest(*_line(), order="data")
    assert _matched(pairs) == {"t1": "c1", "t2": "c2", "t3": "c3"}
    np.testing.assert_allclose(pairs["distance"], [0.05, 0.2, 3.0], atol=1e-12)
    assert pairs["pair"].tolist() == [0, 1, 2]
    assert (pairs["status"] == "matched").all()


def test_match_closest_pair_first_by_hand():
    # The default. Sorted: c3 -1, t1 0, c1 0.05, t2 0.1, c2 0.3, t3 2. The closest pairs are
    # t1-c1 and t2-c1, both 0.05 away: the higher participant, t2, goes first. Then t1-c2
    # (0.3) is the closest pair left, then t3-c3 (3.0).
    pairs = match_nearest(*_line())
    assert _matched(pairs) == {"t1": "c2", "t2": "c1", "t3": "c3"}
    np.testing.assert_allclose(pairs["distance"], [0.3, 0.05, 3.0], atol=1e-12)
    assert pairs["pair"].tolist() == [1, 0, 2]
    assert pairs["match_order"].tolist() == [1, 0, 2]


def test_match_order_largest_first_by_hand():
    # t3 (2.0) first takes c2 (1.7 away); t2 (0.1) takes c1; t1 (0.0) is left with c3 (1.0).
    pairs = match_nearest(*_line(), order="largest")
    assert _matched(pairs) == {"t1": "c3", "t2": "c1", "t3": "c2"}
    assert pairs.set_index("treated")["match_order"].to_dict() == {"t3": 0, "t2": 1, "t1": 2}
    assert pairs.set_index("treated")["pair"].to_dict() == {"t3": 0, "t2": 1, "t1": 2}
    smallest = match_nearest(*_line(), order="smallest")
    assert _matched(smallest) == {"t1": "c1", "t2": "c2", "t3": "c3"}


def test_match_with_replacement_by_hand():
    # Each takes its nearest: t1 -> c1 (0.05), t2 -> c1 (0.05), t3 -> c2 (1.7).
    pairs = match_nearest(*_line(), replace=True)
    assert _matched(pairs) == {"t1": "c1", "t2": "c1", "t3": "c2"}
    np.testing.assert_allclose(pairs["distance"], [0.05, 0.05, 1.7], atol=1e-12)


def test_caliper_in_logit_units_by_hand():
    # Caliper 0.5. Changed with the default order (closest pair first; these were the data
    # order's pairs t1-c1, t2-c2): t2-c1 (0.05) and t1-c2 (0.3) are formed; t3's nearest
    # unit left is c3, 3.0 away -> dropped. With replacement t3's nearest is c2, 1.7 away ->
    # dropped too (order-free).
    pairs = match_nearest(*_line(), caliper=0.5, caliper_scale="logit")
    assert pairs["status"].tolist() == ["matched", "matched", "caliper"]
    assert pairs["control"].tolist() == ["c2", "c1", None]
    assert pairs["distance"].iloc[2] == pytest.approx(3.0, abs=1e-12)
    assert pairs["pair"].isna().tolist() == [False, False, True]
    replaced = match_nearest(*_line(), replace=True, caliper=0.5, caliper_scale="logit")
    assert replaced["status"].tolist() == ["matched", "matched", "caliper"]
    in_data_order = match_nearest(*_line(), caliper=0.5, caliper_scale="logit", order="data")
    assert in_data_order["control"].tolist() == ["c1", "c2", None]


def test_caliper_in_sd_of_logit_by_hand():
    # Pooled SD of the logit score: participants 0, 0.1, 2 have variance 2.54/2 = 1.27;
    # comparison 0.05, 0.3, -1 have variance 0.951667/2 = 0.475833;
    # sqrt((1.27 + 0.475833)/2) = 0.934300, times 0.2 = 0.186860. Closest first (changed
    # with the default order; data order matched t1 instead of t2): t2-c1 (0.05) stays;
    # every other pair is farther than 0.187, so t1 (nearest left: c2, 0.3) and t3 (c2,
    # 1.7) are dropped.
    pairs = match_nearest(*_line(), caliper=0.2)
    assert pairs.attrs["caliper_logit"] == pytest.approx(0.2 * math.sqrt(0.8729166667), rel=1e-9)
    assert pairs["status"].tolist() == ["caliper", "matched", "caliper"]
    assert pairs.set_index("treated").loc["t3", "distance"] == pytest.approx(1.7, abs=1e-12)
    assert pairs.set_index("treated").loc["t1", "distance"] == pytest.approx(0.3, abs=1e-12)
    in_data_order = match_nearest(*_line(), caliper=0.2, order="data")
    assert in_data_order["status"].tolist() == ["matched", "caliper", "caliper"]


def _tied():
    # p1 has logit 0; c_hi and c_hi2 (score 0.75) and c_lo (0.25) are all log(3) away (up to
    # rounding: the tie tolerance makes them equal). p2 has score 0.75.
    labels = ["p1", "c_hi", "c_lo", "c_hi2", "p2"]
    return pd.Series([0.5, 0.75, 0.25, 0.75, 0.75], index=labels), [1, 0, 0, 0, 1]


def test_tie_rules_by_hand():
    # Replaces the test of "the comparison unit first in the data wins" (issue 9).
    scores, treated = _tied()
    # Closest first: p2-c_hi (distance 0; c_hi is first of the tied run, no tiebreak given).
    # p1 is then log(3) from c_lo below and c_hi2 above: it takes the one above.
    assert _matched(match_nearest(scores, treated)) == {"p1": "c_hi2", "p2": "c_hi"}
    # Data order: p1 first, equally far from c_lo and the run c_hi, c_hi2: it takes the one
    # above, c_hi, the first of the run; p2 gets c_hi2.
    assert _matched(match_nearest(scores, treated, order="data")) == {
        "p1": "c_hi", "p2": "c_hi2"
    }  # fmt: skip
    # Smallest first takes the lower unit on such a tie (the higher one stays for the
    # participants still to come).
    smallest = match_nearest(scores, treated, order="smallest")
    assert _matched(smallest) == {"p1": "c_lo", "p2": "c_hi"}
    # With replacement both want the run c_hi, c_hi2 and take it in turn (closest first: p2)
    # instead of both taking c_hi.
    assert _matched(match_nearest(scores, treated, replace=True)) == {"p1": "c_hi2", "p2": "c_hi"}


def test_tiebreak_values_not_labels_or_rows_decide_between_tied_units():
    # With a tiebreak, which of the tied units is taken follows their values: reordering and
    # relabelling the rows gives the same pairs of tiebreak values.
    scores, treated = _tied()
    values = pd.Series(["v1", "v2", "v3", "v4", "v5"], index=scores.index)
    for replace in (False, True):
        reference = None
        for seed in range(6):
            rows = np.random.default_rng(seed).permutation(5)
            shuffled = scores.iloc[rows]
            shuffled.index = [f"x{seed}_{i}" for i in range(5)]  # new labels
            tb = values.iloc[rows].to_numpy()
            pairs = match_nearest(shuffled, np.asarray(treated)[rows], replace=replace, tiebreak=tb)
            value_of = dict(zip(shuffled.index, tb, strict=True))
            got = {value_of[p]: value_of[c] for p, c in _matched(pairs).items()}
            reference = reference or got
            assert got == reference, (replace, seed)


def test_scores_equal_but_for_rounding_are_ties():
    # 0.75 and 0.75 + 1e-15: a refit on reordered rows produces such last-bit differences,
    # which must not decide. Both units count as tied (exactly 0 away from p).
    scores = pd.Series([0.75, 0.75 + 1e-15, 0.75], index=["p", "c1", "c2"])
    pairs = match_nearest(scores, [1, 0, 0])
    assert pairs["control"].tolist() == ["c1"] and pairs["distance"].tolist() == [0.0]
    flipped = match_nearest(pd.Series([0.75, 0.75, 0.75 + 1e-15], index=["p", "c1", "c2"]),
                            [1, 0, 0])  # fmt: skip
    assert flipped["control"].tolist() == ["c1"]


def test_tiebreak_length_is_checked():
    with pytest.raises(OutcomesError, match="tiebreak has 2 rows for 3 scores"):
        match_nearest(pd.Series([0.5, 0.6, 0.55]), [1, 1, 0], tiebreak=[1, 2])


def test_controls_run_out_without_replacement():
    scores = pd.Series([0.5, 0.6, 0.55], index=["a", "b", "c"])
    pairs = match_nearest(scores, [1, 1, 0])
    assert pairs["status"].tolist() == ["matched", "no_controls_left"]
    assert math.isnan(pairs["distance"].iloc[1])


def test_random_order_is_reproducible_with_a_seed():
    rng = np.random.default_rng(5)
    scores = pd.Series(rng.uniform(0.05, 0.95, 60))
    treated = (rng.random(60) < 0.4).astype(int)
    first = match_nearest(scores, treated, order="random", seed=42)
    again = match_nearest(scores, treated, order="random", seed=42)
    pd.testing.assert_frame_equal(first, again)
    assert sorted(first["match_order"]) == list(range(int(treated.sum())))


def _logits(scores):
    x = np.log(scores / (1 - scores))
    return x, 1e-9 * max(1.0, np.abs(x).max())


def _brute_force(scores, treated, *, replace, width, order_seq, prefer_higher=True, keys=None):
    """Greedy matching the slow, obvious way: each participant in turn scans all controls.

    Nearest distance (ties within the tolerance); equally far on both sides, the higher
    score (the lower for smallest-first without replacement); among tied units, the first
    in (tie key, data) order or, with replacement, the one used least so far.
    """
    x, tol = _logits(scores)
    keys = np.zeros(len(x), np.uint64) if keys is None else keys
    t_pos, c_pos = np.flatnonzero(treated == 1), np.flatnonzero(treated == 0)
    available = np.ones(len(c_pos), bool)
    uses = np.zeros(len(c_pos), int)
    result = {}
    for i in order_seq:
        d = np.abs(x[t_pos[i]] - x[c_pos])
        d[~available] = np.inf
        if np.isinf(d).all():
            continue
        near = np.flatnonzero(d <= d.min() + tol)
        side = x[c_pos[near]].max() if prefer_higher else x[c_pos[near]].min()
        run = near[np.abs(x[c_pos[near]] - side) <= tol]  # tied units
        run = run[np.lexsort((run, keys[c_pos[run]]))]  # in (key, data) order
        j = int(run[np.argmin(uses[run])]) if replace else int(run[0])
        if d[j] <= width:
            result[int(t_pos[i])] = int(c_pos[j])
            uses[j] += 1
            if not replace:
                available[j] = False
    return result


def _brute_force_closest(scores, treated, *, width, keys=None):
    """Closest pair first, the slow way: at each step every pair of an available
    participant and control that are adjacent among the units left (sorted by score, tie
    key, participants before controls, position); the closest (ties: higher participant
    score, its key, higher control score, its key, then that order). Also checks that it is
    the closest of all pairs left."""
    x, tol = _logits(scores)
    keys = [0] * len(x) if keys is None else keys.tolist()
    alive = sorted(range(len(x)), key=lambda u: (x[u], keys[u], 1 - treated[u], u))
    rank = {u: k for k, u in enumerate(alive)}
    result = {}
    while True:
        candidates = []
        for a, b in itertools.pairwise(alive):
            if treated[a] != treated[b]:
                p, c = (a, b) if treated[a] else (b, a)
                d = abs(x[p] - x[c])
                if d <= width:
                    entry = (round(d / tol), -x[p], keys[p], -x[c], keys[c], rank[p], rank[c])
                    candidates.append((*entry, p, c))
        if not candidates:
            return result
        *_, p, c = min(candidates)
        closest = min(
            abs(x[q] - x[k]) for q in alive if treated[q] for k in alive if not treated[k]
        )
        assert abs(x[p] - x[c]) <= closest + tol
        result[p] = c
        alive = [u for u in alive if u not in (p, c)]


@pytest.mark.parametrize("with_tiebreak", [False, True])
@pytest.mark.parametrize("replace", [False, True])
@pytest.mark.parametrize("order", ["closest", "data", "largest", "smallest", "random"])
def test_fast_matcher_agrees_with_brute_force(replace, order, with_tiebreak):
    # Scores on a coarse grid, so that equal scores (ties) are frequent. Changed with the
    # tie rules (issue 9): ties within the tolerance, the side rule, turns with replacement,
    # the closest-first order (which has its own slow version) and tiebreak values (few
    # distinct ones, so that some tied units have equal values too).
    rng = np.random.default_rng(2024)
    for _ in range(20):
        n = int(rng.integers(5, 60))
        scores = np.round(rng.uniform(0.05, 0.95, n), 1)
        treated = (rng.random(n) < 0.45).astype(int)
        if treated.sum() == 0 or treated.sum() == n:
            continue
        caliper = float(rng.choice([np.inf, 0.3]))
        tiebreak = rng.integers(0, 4, n) if with_tiebreak else None
        keys = tie_keys(tiebreak, n) if with_tiebreak else None
        pairs = match_nearest(
            pd.Series(scores), treated, replace=replace, order=order, seed=3,
            caliper=None if np.isinf(caliper) else caliper, caliper_scale="logit",
            tiebreak=tiebreak,
        )  # fmt: skip
        sequence = pairs.sort_values("match_order").index.to_numpy()
        if order == "closest" and not replace:
            expected = _brute_force_closest(scores, treated, width=caliper, keys=keys)
        else:
            expected = _brute_force(
                scores, treated, replace=replace, width=caliper, order_seq=sequence,
                prefer_higher=replace or order != "smallest", keys=keys,
            )  # fmt: skip
        got = pairs[pairs["status"] == "matched"]
        assert dict(zip(got["treated"], got["control"], strict=True)) == expected
        if order in ("largest", "smallest"):
            x = np.log(scores / (1 - scores))[treated == 1]
            k = np.zeros(len(x), np.uint64) if keys is None else keys[treated == 1]
            sign = -1 if order == "largest" else 1
            assert (sequence == np.lexsort((np.arange(len(x)), k, sign * x))).all()
