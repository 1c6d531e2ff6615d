"""The estimates table: families of the multiplicity adjustment, orientation columns."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from outcomes.analysis import analysis_panel, estimates
from outcomes.analysis.multiplicity import adjust_pvalues
from outcomes.analysis.propensity import fit_propensity
from outcomes.config import cohort_from_dict
from outcomes.ingest import ingest_wave
from outcomes.instruments.stage import score_responses


def _scores(cohort):
    responses = pd.concat([ingest_wave(cohort, w).responses for w in cohort.waves])
    return score_responses(responses, cohort)


def test_p_values_are_adjusted_within_domains(small_simulation, settings):
    _, cohort, _ = small_simulation
    scores = _scores(cohort)
    table = estimates(scores, cohort, settings)
    ancova = table[(table["method"] == "ancova") & (table["outcome_type"] == "continuous")]
    ancova = ancova.set_index("outcome")
    # Demo domains (config/cohorts/demo.yaml): 4 mental-health outcomes, loneliness (social),
    # gpa (academic). BH within the family of 4, by the tested adjust_pvalues (R's p.adjust).
    mental = ["stress", "self_esteem", "depression", "anxiety"]
    expected = adjust_pvalues(ancova.loc[mental, "p_value"].to_numpy(), "bh")
    np.testing.assert_allclose(ancova.loc[mental, "p_adjusted"], expected, rtol=1e-12)
    # A family of one is not adjusted.
    for single in ("loneliness", "gpa"):
        assert ancova.loc[single, "p_adjusted"] == ancova.loc[single, "p_value"]
    # With multiplicity_family "all" the six form one family.
    every = estimates(scores, cohort, dataclasses.replace(settings, multiplicity_family="all"))
    every = every[(every["method"] == "ancova") & (every["outcome_type"] == "continuous")]
    every = every.set_index("outcome")
    np.testing.assert_allclose(
        every["p_adjusted"], adjust_pvalues(every["p_value"].to_numpy(), "bh"), rtol=1e-12
    )


def test_caseness_rows_match_the_two_by_two_table(small_simulation, settings):
    """PHQ-9 >= 10 (config case_at_least): the unadjusted follow-up row's risk difference,
    odds ratio and Cox index equal those of the 2 x 2 table counted from the scores, through
    the reference-tested binary_effects (domain ref 3.3)."""
    from outcomes.analysis.effect_sizes import binary_effects

    _, cohort, _ = small_simulation
    scores = _scores(cohort)
    table = estimates(scores, cohort, settings)
    row = table[(table["outcome"] == "depression_case") & (table["method"] == "unadjusted")
                & (table["wave"] == "followup")].iloc[0]  # fmt: skip
    # The follow-up sample is the baseline cohort (intention to treat: late entrants are out).
    cohort_ids = scores.loc[scores["wave"] == "baseline", "respondent_id"]
    follow = scores[(scores["wave"] == "followup") & scores["depression"].notna()
                    & scores["respondent_id"].isin(cohort_ids)]  # fmt: skip
    case = follow["depression"] >= 10
    part = follow["group"] == "participant"
    reference = binary_effects(case[part].sum(), part.sum(), case[~part].sum(), (~part).sum())
    assert row["estimate"] == pytest.approx(reference["risk_difference"], abs=1e-12)
    assert row["odds_ratio"] == pytest.approx(reference["odds_ratio"], rel=1e-12)
    assert row["cox_index"] == pytest.approx(reference["cox_index"], rel=1e-12)
    assert row["outcome_type"] == "binary"
    # Binary rows form their own multiplicity family: continuous p_adjusted are unchanged.
    continuous = table[table["outcome_type"] == "continuous"]
    assert "depression_case" not in set(continuous["outcome"])


def test_trimming_to_common_support_drops_the_units_outside(small_simulation, settings):
    """plan.propensity.trim: the ipw rows use only students inside the common support of
    their propensity model; counted by hand with the min-max rule on the same model."""
    _, cohort, _ = small_simulation
    raw = {**cohort.raw, "plan": {**cohort.raw["plan"], "methods": ["ipw"],
                                  "propensity": {"trim": "common_support"}}}  # fmt: skip
    trimmed_cohort = cohort_from_dict(raw)
    scores = _scores(trimmed_cohort)
    row = estimates(scores, trimmed_cohort, settings).set_index("outcome").loc["stress"]
    panel = analysis_panel(scores, trimmed_cohort)
    terms = ["stress_baseline", *trimmed_cohort.plan.covariates]
    frame = panel.assign(participant=(panel["group"] == "participant").astype(int))
    model = fit_propensity(frame, "participant", terms, missing="drop")
    e, t = model.scores, model.treated
    low, high = max(e[t == 1].min(), e[t == 0].min()), min(e[t == 1].max(), e[t == 0].max())
    inside = (e >= low) & (e <= high)
    used = frame.loc[inside[inside].index].dropna(subset=["stress"])
    assert row["n_participants"] + row["n_comparison"] == len(used) < len(frame)
