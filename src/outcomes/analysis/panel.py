"""The analysis panel: one row per respondent, outcomes at the primary wave beside their
baseline scores."""

from __future__ import annotations

import pandas as pd

from outcomes.config import Cohort


def analysis_panel(scores: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """Wide panel of respondents seen at the primary wave.

    Returns
    -------
    DataFrame
        One row per respondent with a primary-wave response: ``respondent_id``, ``group``
        and ``cluster`` (primary wave), covariates (baseline value, else primary), each
        outcome at the primary wave under its own name and at baseline as
        ``{outcome}_baseline`` (missing when the respondent has no baseline response).
    """
    outcomes = [o.name for o in cohort.outcomes]
    covariates = list(cohort.covariates)
    plan = cohort.plan
    base = scores[scores["wave"] == plan.baseline_wave].set_index("respondent_id")
    primary = scores[scores["wave"] == plan.primary_wave].set_index("respondent_id")
    panel = primary[["group", "cluster", *outcomes]].copy()
    for column in covariates:
        panel[column] = base[column].reindex(panel.index).combine_first(primary[column])
    panel["cluster"] = base["cluster"].reindex(panel.index).combine_first(primary["cluster"])
    for name in outcomes:
        panel[f"{name}_baseline"] = base[name].reindex(panel.index)
    return panel.reset_index().sort_values("respondent_id", kind="stable").reset_index(drop=True)
