"""The cohort's design diagnostics: baseline equivalence and balance before and after
adjustment, and the overlap of propensity scores (the tables behind the love plot)."""

from __future__ import annotations

import pandas as pd

from outcomes.analysis.balance import balance_table
from outcomes.analysis.propensity import (
    PropensityModel,
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
    methods = [m for m in ("ipw", "matching") if m in plan.methods]
    if "aipw" in plan.methods and "ipw" not in methods:
        methods.insert(0, "ipw")  # AIPW weights like IPW
    balance, model = adjusted_balance(
        panel, design_terms(cohort), methods=methods, estimand=plan.estimand,
        caliper=plan.propensity.get("caliper", 0.2),
        replace=plan.propensity.get("replace", False), missing="drop",
    )  # fmt: skip
    return {"balance": balance, "propensity": overlap_table(model.scores, model.treated)}


def adjusted_balance(
    data: pd.DataFrame,
    terms: list[str],
    *,
    methods: list[str],
    estimand: str,
    caliper: float | None,
    replace: bool,
    missing: str = "raise",
) -> tuple[pd.DataFrame, PropensityModel]:
    """Balance of the design columns of ``terms``, unadjusted and after each of ``methods``.

    ``data`` has a ``group`` column (``participant`` / ``comparison``). One propensity model
    on ``terms`` gives the ``ipw`` weights (for ``estimand``) and the 1:1 ``matching`` weights
    (ATT; ``caliper`` in SDs of the logit score). Returns the long balance table
    (:func:`outcomes.analysis.balance.balance_table`) and the fitted model.
    """
    frame = data.assign(participant=(data["group"] == "participant").astype(int))
    model = fit_propensity(frame, "participant", terms, missing=missing)
    used = frame.loc[model.rows]
    weights = {}
    if "ipw" in methods:
        weights["ipw"], _ = balancing_weights(model.scores, model.treated, estimand)
    if "matching" in methods:
        pairs = match_nearest(model.scores, model.treated, caliper=caliper, replace=replace)
        weights["matching"] = matching_weights(pairs, used.index).to_numpy()
    design = design_matrix(used, terms, what="balance").drop(columns="Intercept")
    design["participant"] = used["participant"].to_numpy()
    balance = balance_table(
        design, "participant", [c for c in design.columns if c != "participant"],
        weights=weights, estimand="ATE" if estimand == "ATO" else estimand,
    )  # fmt: skip
    return balance, model
