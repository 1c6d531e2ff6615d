"""outcomes.compare / outcomes.balance and their commands, on a plain table."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import outcomes
from outcomes.cli import main
from outcomes.errors import OutcomesError


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A plain CSV: yes/no participation that depends on age and gender (confounding), a
    numeric and a categorical covariate, an outcome with a planted effect of 0.5 (seed 5)."""
    rng = np.random.default_rng(5)
    n = 3000
    age = rng.normal(15, 1.5, n)
    gender = rng.choice(["girl", "boy", "other"], n, p=[0.48, 0.48, 0.04])
    logit = -0.7 + 0.6 * (age - 15) + 0.5 * (gender == "girl")
    joined = rng.random(n) < 1 / (1 + np.exp(-logit))
    wellbeing = 10 + 1.2 * (age - 15) + 0.8 * (gender == "girl") + 0.5 * joined
    frame = pd.DataFrame({
        "mentored": np.where(joined, "yes", "no"), "age": age.round(2), "gender": gender,
        "wellbeing": wellbeing + rng.normal(0, 1, n),
    })  # fmt: skip
    path = tmp_path_factory.mktemp("plain") / "students.csv"
    frame.to_csv(path, index=False)
    return frame, path


METHODS = ["unadjusted", "ancova", "ipw", "aipw", "matching"]


def test_compare_recovers_the_planted_effect(table):
    frame, _ = table
    out = outcomes.compare(frame, group="mentored", treated="yes", outcome="wellbeing",
                           covariates=["age", "C(gender)"], method=METHODS)  # fmt: skip
    by = out.set_index("method")
    # Planted effect 0.5: every adjusted method's 95% CI covers it; the naive one does not
    # (joiners are older and more often girls, both of which raise wellbeing).
    for method in METHODS[1:]:
        assert by.loc[method, "ci_low"] <= 0.5 <= by.loc[method, "ci_high"], method
    assert by.loc["unadjusted", "ci_low"] > 0.5
    assert list(out.columns[:4]) == ["outcome", "method", "estimand", "estimate"]
    assert (out["n_participants"] > 500).all()


def test_compare_cli_json_is_a_list_of_estimate_rows(table, capsys):
    _, path = table
    code = main(["compare", str(path), "--group", "mentored", "--treated", "yes",
                 "--outcome", "wellbeing", "--covariates", "age", "C(gender)", "I(age**2)",
                 "--method", "unadjusted", "ipw", "--format", "json"])  # fmt: skip
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["method"] for r in rows] == ["unadjusted", "ipw"]
    for key in ("estimate", "ci_low", "ci_high", "p_value", "hedges_g", "n_participants"):
        assert all(isinstance(r[key], (int, float)) for r in rows), key
    assert rows[1]["covariates"] == "age + C(gender) + I(age**2)"


def test_balance_before_and_after(table, capsys):
    frame, path = table
    wide = outcomes.balance(frame, group="mentored", treated="yes",
                            covariates=["age", "C(gender)"], method=["ipw", "matching"],
                            wide=True)  # fmt: skip
    by = wide.set_index("covariate")
    # Age drives joining: large imbalance before, small after weighting.
    assert abs(by.loc["age", "smd_unadjusted"]) > 0.25
    assert abs(by.loc["age", "smd_ipw"]) < 0.05
    assert by.loc["age", "wwc_category_unadjusted"] == "does_not_satisfy"
    assert {"smd_matching", "ess_comparison_ipw", "variance_ratio_ipw"} <= set(wide.columns)
    code = main(["balance", str(path), "--group", "mentored", "--treated", "yes",
                 "--covariates", "age", "C(gender)", "--format", "json"])  # fmt: skip
    assert code == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["covariate"] and "smd_unadjusted" in rows[0] and "smd_ipw" in rows[0]


def test_clear_errors(table, capsys):
    frame, path = table
    with pytest.raises(OutcomesError, match="no row has the participant value"):
        outcomes.compare(frame, group="mentored", treated="Y", outcome="wellbeing")
    with pytest.raises(OutcomesError, match="unknown method"):
        outcomes.compare(frame, group="mentored", treated="yes", outcome="wellbeing",
                         method="magic")  # fmt: skip
    assert main(["compare", str(path), "--group", "mentored", "--treated", "yes",
                 "--outcome", "happiness"]) == 2  # fmt: skip
    assert "happiness" in capsys.readouterr().err


def test_binary_outcome_gets_risk_difference_odds_ratio_and_cox_index(table):
    frame, _ = table
    frame = frame.assign(high=(frame["wellbeing"] > 11).astype(int))
    out = outcomes.compare(
        frame, group="mentored", treated="yes", outcome="high",
        covariates=["age", "C(gender)"], method=["unadjusted", "ipw"],
    )  # fmt: skip
    naive = out.set_index("method").loc["unadjusted"]
    part = frame["mentored"] == "yes"
    p_t, p_c = frame.loc[part, "high"].mean(), frame.loc[~part, "high"].mean()
    # By hand from the two proportions: RD = p_t - p_c; OR = odds ratio; Cox = LOR / 1.65.
    assert naive["estimate"] == pytest.approx(p_t - p_c, abs=1e-12)
    odds = (p_t / (1 - p_t)) / (p_c / (1 - p_c))
    assert naive["odds_ratio"] == pytest.approx(odds, rel=1e-10)
    assert naive["cox_index"] == pytest.approx(np.log(odds) / 1.65, rel=1e-10)
    assert set(out["outcome_type"]) == {"binary"} and out["evalue"].notna().all()
