"""The analysis panel of one wave: one row per respondent analysed there, the outcomes at that
wave beside their baseline scores and the covariates."""

from __future__ import annotations

import pandas as pd

from outcomes.analysis.groups import group_membership
from outcomes.config import Cohort


def cohort_membership(scores: pd.DataFrame, cohort: Cohort) -> pd.DataFrame:
    """:func:`outcomes.analysis.groups.group_membership` with the cohort's plan."""
    plan = cohort.plan
    return group_membership(
        scores, cohort.waves, assignment_wave=plan.assignment_wave, group_from=plan.group_from
    )


def analysis_panel(
    scores: pd.DataFrame,
    cohort: Cohort,
    wave: str | None = None,
    membership: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Wide panel of the respondents analysed at ``wave`` (default: the primary wave).

    Returns
    -------
    DataFrame
        One row per respondent with a response at ``wave`` and an analysis group there
        (:func:`cohort_membership`), sorted by ``respondent_id``: ``respondent_id``,
        ``group`` (the analysis group: by default the one at the assignment wave),
        ``cluster`` (at the assignment wave, else at ``wave``), the covariates (their value
        at the baseline wave, else the assignment wave, else ``wave``), each outcome at
        ``wave`` under its own name and, when the plan has a baseline wave, at baseline as
        ``{outcome}_baseline`` (missing for a respondent without a baseline response).
    """
    plan = cohort.plan
    wave = plan.primary_wave if wave is None else wave
    membership = cohort_membership(scores, cohort) if membership is None else membership
    outcomes = [o.name for o in cohort.outcomes]
    covariates = list(cohort.covariates)

    def at(name: str | None) -> pd.DataFrame:
        rows = scores[scores["wave"] == name] if name is not None else scores.iloc[:0]
        return rows.drop_duplicates("respondent_id").set_index("respondent_id")

    current, assignment, base = at(wave), at(plan.assignment_wave), at(plan.baseline_wave)
    groups = membership[membership["wave"] == wave].set_index("respondent_id")["group"]
    groups = groups[groups.notna()]
    panel = current.loc[current.index.isin(groups.index), outcomes].copy()
    panel.insert(0, "group", groups.reindex(panel.index))
    panel.insert(1, "cluster", assignment["cluster"].reindex(panel.index))
    panel["cluster"] = panel["cluster"].combine_first(current["cluster"].reindex(panel.index))
    for column in covariates:
        value = base[column].reindex(panel.index)
        for later in (assignment, current):
            value = value.combine_first(later[column].reindex(panel.index))
        panel[column] = value
    if plan.baseline_wave is not None:
        for name in outcomes:
            panel[f"{name}_baseline"] = base[name].reindex(panel.index)
    panel.index.name = "respondent_id"
    return panel.reset_index().sort_values("respondent_id", kind="stable").reset_index(drop=True)
