"""The cohort's design diagnostics: baseline equivalence and balance before and after
adjustment, and the overlap of propensity scores (the tables behind the love plot)."""

from __future__ import annotations

import pandas as pd

from outcomes.analysis.balance import balance_table
from outcomes.analysis.propensity import (
    PropensityModel,
    balancing_weights,
    complete_rows,
    covariate_columns,
    design_matrix,
    fit_propensity,
    match_nearest,
    matching_weights,
    overlap_table,
)
from outcomes.config import Cohort

BALANCE_COLUMNS = [
    "covariate", "type", "adjustment", "mean_participants", "mean_comparison", "smd",
    "variance_ratio", "ks", "wwc_effect_size", "wwc_category", "ess_participants",
    "ess_comparison",
]  # fmt: skip
OVERLAP_COLUMNS = [
    "group", "n", "min", "p05", "median", "p95", "max", "n_below_other_min",
    "n_above_other_max", "n_outside_other",
]  # fmt: skip


def design_terms(cohort: Cohort) -> list[str]:
    """The terms of the cohort's design: the plan's covariates and, when there is a baseline
    wave, the baseline score of every outcome (WWC baseline equivalence is judged on those)."""
    baselines = (
        [f"{o.name}_baseline" for o in cohort.outcomes]
        if cohort.plan.baseline_wave is not None
        else []
    )
    return list(dict.fromkeys([*cohort.plan.covariates, *baselines]))


def design_diagnostics(panel: pd.DataFrame, cohort: Cohort) -> dict[str, pd.DataFrame]:
    """Balance and overlap for the analysis panel.

    Baseline equivalence (the unadjusted balance of ``design_terms``, complete cases of the
    panel) is always reported. When the plan runs a propensity method, one propensity model
    on the same terms gives the weights (``ipw``, for the plan's estimand) and the 1:1 match
    (``matching``, ATT; plan caliper) whose balance is reported beside it; a randomized
    design, or a plan without propensity methods, fits no propensity model at all (so block
    fixed effects such as ``C(school)`` never meet a separation problem). The outcome
    estimates use their own model (the plan's covariates and that outcome's baseline), so
    that each uses every student with its own baseline score.

    Returns
    -------
    dict
        ``balance``: :func:`outcomes.analysis.balance.balance_table` (long), one row per
        design column x adjustment (empty without design terms). ``propensity``: the overlap
        table (:func:`outcomes.analysis.propensity.overlap_table`) of the design model
        (empty when no propensity model is fitted).
    """
    plan = cohort.plan
    terms = design_terms(cohort)
    methods = [m for m in ("ipw", "matching") if m in plan.methods]
    if "aipw" in plan.methods and "ipw" not in methods:
        methods.insert(0, "ipw")  # AIPW weights like IPW
    groups = set(panel["group"].dropna())
    if not terms or groups != {"participant", "comparison"}:
        return {"balance": _empty_balance(), "propensity": _empty_overlap()}
    if not methods:
        return {
            "balance": baseline_balance(panel, terms, estimand=plan.estimand),
            "propensity": _empty_overlap(),
        }
    balance, model = adjusted_balance(
        panel, terms, methods=methods, estimand=plan.estimand, caliper=plan.caliper,
        replace=plan.propensity.get("replace", False), missing="drop",
    )  # fmt: skip
    return {"balance": balance, "propensity": overlap_table(model.scores, model.treated)}


def baseline_balance(data: pd.DataFrame, terms: list[str], *, estimand: str) -> pd.DataFrame:
    """Unadjusted balance of the design columns of ``terms`` (complete cases), without a
    propensity model: the baseline-equivalence table of a randomized design."""
    frame = data.assign(participant=(data["group"] == "participant").astype(int))
    rows = complete_rows(frame, covariate_columns(frame, terms), missing="drop", what="covariates")
    used = frame.loc[rows]
    design = design_matrix(used, terms, what="balance").drop(columns="Intercept")
    design["participant"] = used["participant"].to_numpy()
    return balance_table(
        design, "participant", [c for c in design.columns if c != "participant"],
        estimand="ATE" if estimand == "ATO" else estimand,
    )  # fmt: skip


def _empty_balance() -> pd.DataFrame:
    return pd.DataFrame(columns=BALANCE_COLUMNS)


def _empty_overlap() -> pd.DataFrame:
    return pd.DataFrame(columns=OVERLAP_COLUMNS)


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
        # Ties broken on the design's values, never on the row order (a pseudonym order).
        tiebreak = used[covariate_columns(used, terms)]
        pairs = match_nearest(model.scores, model.treated, caliper=caliper, replace=replace,
                              tiebreak=tiebreak)  # fmt: skip
        weights["matching"] = matching_weights(pairs, used.index).to_numpy()
    design = design_matrix(used, terms, what="balance").drop(columns="Intercept")
    design["participant"] = used["participant"].to_numpy()
    balance = balance_table(
        design, "participant", [c for c in design.columns if c != "participant"],
        weights=weights, estimand="ATE" if estimand == "ATO" else estimand,
    )  # fmt: skip
    return balance, model
