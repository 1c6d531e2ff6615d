"""The cohort's design diagnostics: baseline equivalence and balance before and after
adjustment, and the overlap of propensity scores (the tables behind the love plot)."""

from __future__ import annotations

import pandas as pd

from outcomes.analysis.balance import balance_table
from outcomes.analysis.propensity import (
    balancing_weights,
    design_matrix,
    fit_propensity,
    match_nearest,
    matching_weights,
    overlap_table,
)
from outcomes.config import Cohort


def design_terms(cohort: Cohort) -> list[str]:
    """The terms of the cohort's design propensity model: the plan's covariates and the
    baseline score of every outcome (WWC baseline equivalence is judged on those)."""
    baselines = [f"{o.name}_baseline" for o in cohort.outcomes]
    return list(dict.fromkeys([*cohort.plan.covariates, *baselines]))


def design_diagnostics(panel: pd.DataFrame, cohort: Cohort) -> dict[str, pd.DataFrame]:
    """Balance and overlap for the analysis panel.

    One propensity model (``design_terms``, complete cases of the panel) gives the weights
    (``ipw``, for the plan's estimand) and the 1:1 match (``matching``, ATT; plan caliper)
    whose balance is reported beside the unadjusted sample. The outcome estimates use their
    own model (the plan's covariates and that outcome's baseline), so that each uses every
    student with its own baseline score.

    Returns
    -------
    dict
        ``balance``: :func:`outcomes.analysis.balance.balance_table` (long), one row per
        design column x adjustment. ``propensity``: the overlap table
        (:func:`outcomes.analysis.propensity.overlap_table`) of the design model.
    """
    plan = cohort.plan
    terms = design_terms(cohort)
    frame = panel.assign(participant=(panel["group"] == "participant").astype(int))
    model = fit_propensity(frame, "participant", terms, missing="drop")
    used = frame.loc[model.rows]
    weights = {}
    if any(m in plan.methods for m in ("ipw", "aipw")):
        weights["ipw"], _ = balancing_weights(model.scores, model.treated, plan.estimand)
    if "matching" in plan.methods:
        pairs = match_nearest(
            model.scores, model.treated, caliper=plan.propensity.get("caliper", 0.2),
            replace=plan.propensity.get("replace", False),
        )  # fmt: skip
        weights["matching"] = matching_weights(pairs, used.index).to_numpy()
    design = design_matrix(used, terms, what="balance").drop(columns="Intercept")
    design["participant"] = used["participant"].to_numpy()
    estimand = "ATE" if plan.estimand == "ATO" else plan.estimand
    balance = balance_table(
        design, "participant", [c for c in design.columns if c != "participant"],
        weights=weights, estimand=estimand,
    )  # fmt: skip
    propensity = overlap_table(model.scores, model.treated)
    return {"balance": balance, "propensity": propensity}
