"""The comparison engine on any table, without a cohort config.

``outcomes.compare(df, group=..., treated=..., outcome=..., covariates=[...], method=...)``
runs the same estimators as the workflow's analyze stage on a plain DataFrame (or a CSV or
Parquet file through ``outcomes compare``), and returns rows with the columns of
``estimates.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from outcomes.analysis.engine import (
    ROW_COLUMNS,
    EstimationPlan,
    OutcomeSpec,
    adjust_families,
    estimate_outcome,
)
from outcomes.errors import OutcomesError
from outcomes.options import (
    DEFAULT_CALIPER,
    DEFAULT_METHODS,
    BalanceMethod,
    Direction,
    Estimand,
    Method,
    Multiplicity,
    SEChoice,
    check_option,
)
from outcomes.redact import label_values

#: Columns of :func:`compare`'s rows: those of ``estimates.csv`` that apply to one table.
COMPARE_COLUMNS = [c for c in ROW_COLUMNS if c not in ("label", "domain", "instrument")]


def with_groups(
    data: pd.DataFrame,
    group: str,
    treated: Sequence[str] | str,
    comparison: Sequence[str] | str | None = None,
) -> pd.DataFrame:
    """A copy of ``data`` with a ``group`` column of ``participant`` / ``comparison``.

    ``treated`` lists the values of ``group`` meaning "took part" (compared as text, so a
    yes/no, 1/0 or True/False column works); rows whose value is in ``comparison`` (default:
    every other non-missing value) are the comparison group; other rows are dropped.
    """
    if group not in data.columns:
        raise OutcomesError(
            "the group column is not in the data",
            column=group,
            expected=f"one of {list(data.columns)[:20]}",
            found="no such column",
        )
    treated = {str(v) for v in ([treated] if isinstance(treated, str) else treated)}
    values = data[group].astype(str).str.strip()
    in_data = set(values.unique())
    if not treated & in_data:
        raise OutcomesError(
            "no row has the participant value",
            column=group,
            expected="one of the values of the column: "
            + label_values(values[data[group].notna()]),
            found=f"treated = {sorted(treated)}",
        )
    if comparison is None:
        is_comparison = ~values.isin(treated) & data[group].notna()
    else:
        comparison = {str(v) for v in ([comparison] if isinstance(comparison, str) else comparison)}
        is_comparison = values.isin(comparison)
    keep = values.isin(treated) | is_comparison
    if not is_comparison.any():
        raise OutcomesError(
            "no row is in the comparison group: there is nothing to compare with",
            column=group,
            expected="rows with another value than the participant one(s)"
            + (f", one of {sorted(comparison)}" if comparison else ""),
            found=f"values: {label_values(values[data[group].notna()])}",
        )
    framed = data.loc[keep].copy()
    framed["group"] = values[keep].map(lambda v: "participant" if v in treated else "comparison")
    return framed


def compare(
    data: pd.DataFrame,
    *,
    group: str,
    treated: Sequence[str] | str,
    outcome: str,
    covariates: Sequence[str] = (),
    method: Sequence[Method] | Method = DEFAULT_METHODS,
    estimand: Estimand = "ATT",
    baseline: str | None = None,
    comparison: Sequence[str] | str | None = None,
    direction: Direction = "higher_is_better",
    alpha: float = 0.05,
    multiplicity: Multiplicity = "none",
    caliper: float | None = DEFAULT_CALIPER,
    replace: bool = False,
    cluster: str | None = None,
    se: SEChoice = "auto",
) -> pd.DataFrame:
    """Compare participants with non-participants on one outcome, by one or more methods.

    The same engine as the workflow's analyze stage
    (:func:`outcomes.analysis.engine.estimate_outcome`), on a plain table.

    Parameters
    ----------
    data : DataFrame
        One row per person.
    group, treated, comparison
        The column telling who took part, its participant value(s), and optionally its
        comparison value(s) (default: every other value).
    outcome : str
        The outcome column (numeric).
    covariates : list of str
        Formula terms adjusted for (``"C(gender)"``, ``"grade_level"``, ``"I(age**2)"``).
    method : str or list of str
        Any of ``unadjusted``, ``ancova``, ``ipw``, ``aipw``, ``matching``, ``did``.
    estimand : {"ATT", "ATE", "ATO"}
        Effect on participants (default), on everyone, or on the overlap population.
    baseline : str, optional
        The outcome's baseline column: adjusted for by ``ancova`` and the propensity
        methods, differenced by ``did``.
    direction : {"higher_is_better", "lower_is_better"}
        Orients ``favours`` and the improvement index.
    alpha : float
        1 - confidence level.
    multiplicity : {"none", "bh", "holm"}
        Adjustment across the methods' p-values (default none: they answer one question).
    caliper, replace
        Matching: caliper in SDs of the logit propensity score (default 0.2, Austin 2011;
        None for none) and matching with replacement. Without a caliper, greedy matching
        without replacement pairs participants with poor matches once the close comparison
        units are used up; with it, unmatched participants are dropped and counted.
    cluster : str, optional
        Column naming each person's cluster (school, site, mentor group): every method's SE
        is then cluster-robust (``se``).
    se : {"auto", "HC3", "CR1", "CR2"}
        ``auto``: with ``cluster``, CR1 from 40 clusters up and CR2 (Bell-McCaffrey) below;
        without, each method's robust default. ``HC3`` ignores the clusters.

    Returns
    -------
    DataFrame
        One row per method, with the columns of ``estimates.csv`` that apply to a single
        table (README.md, "Outputs"). A 0/1 outcome is a binary outcome: its estimate is a
        risk difference, with odds ratio, risk ratio and Cox index beside it. Every method
        uses the complete cases of the columns it needs.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = rng.normal(size=400)
    >>> joined = rng.random(400) < 1 / (1 + np.exp(-x))
    >>> df = pd.DataFrame({"mentor": np.where(joined, "yes", "no"), "x": x,
    ...                    "score": 2 * x + 0.5 * joined + rng.normal(size=400)})
    >>> out = compare(df, group="mentor", treated="yes", outcome="score", covariates=["x"])
    >>> out[["method", "n_participants"]].values.tolist()
    [['unadjusted', 182], ['ancova', 182]]
    """
    methods = (method,) if isinstance(method, str) else tuple(method)
    check_option(direction, Direction, "direction")
    check_option(multiplicity, Multiplicity, "multiplicity")
    for column in [outcome, *([baseline] if baseline else []), *([cluster] if cluster else [])]:
        if column not in data.columns:
            raise OutcomesError("a column is not in the data", column=column,
                                expected=f"one of {list(data.columns)[:20]}",
                                found="no such column")  # fmt: skip
    plan = EstimationPlan(
        methods=methods, estimand=estimand, covariates=tuple(covariates), se=se,
        cluster=cluster, alpha=alpha, caliper=caliper, replace=replace,
    )  # fmt: skip
    framed = with_groups(data, group, treated, comparison).reset_index(drop=True)
    observed = set(pd.unique(framed[outcome].dropna()))
    spec = OutcomeSpec(outcome, direction=direction, baseline=baseline,
                       binary=bool(observed) and observed <= {0, 1})  # fmt: skip
    table = adjust_families(estimate_outcome(framed, spec, plan), multiplicity, [])
    return table.reindex(columns=COMPARE_COLUMNS)


def balance(
    data: pd.DataFrame,
    *,
    group: str,
    treated: Sequence[str] | str,
    covariates: Sequence[str],
    method: Sequence[BalanceMethod] | BalanceMethod = ("ipw",),
    estimand: Estimand = "ATT",
    comparison: Sequence[str] | str | None = None,
    caliper: float | None = DEFAULT_CALIPER,
    replace: bool = False,
    wide: bool = False,
) -> pd.DataFrame:
    """Covariate balance before and after propensity-score adjustment.

    The covariates are the columns of the design the formula terms make (a categorical
    gives one indicator per level, ``I(age**2)`` its own column), so balance is checked on
    exactly what the propensity model saw.

    Parameters
    ----------
    data, group, treated, comparison
        As in :func:`compare`.
    covariates : list of str
        Formula terms of the propensity model.
    method : list of {"ipw", "matching"}
        Adjustments to check beside the unadjusted sample: inverse-probability weights for
        ``estimand`` (``outcomes.analysis.propensity.balancing_weights``) and 1:1 nearest
        neighbour matching on the propensity score (ATT).
    estimand : {"ATT", "ATE", "ATO"}
        Sets the weights and the SMD denominator (cobalt's convention).
    caliper, replace
        Matching options, as in :func:`compare` (caliper in SDs of the logit score).
    wide : bool
        False: the long table of :func:`outcomes.analysis.balance.balance_table`. True: one
        row per covariate, with each statistic before and after each adjustment as columns
        ``<statistic>_<adjustment>`` (``smd_unadjusted``, ``smd_ipw``, ...).

    Returns
    -------
    DataFrame
    """
    from outcomes.analysis.design import adjusted_balance

    methods = [method] if isinstance(method, str) else list(method)
    for name in methods:
        check_option(name, BalanceMethod, "balance method")
    check_option(estimand, Estimand, "estimand")
    if not covariates:
        raise OutcomesError("balance needs covariates", column="covariates",
                            expected="one or more formula terms", found="none")  # fmt: skip
    framed = with_groups(data, group, treated, comparison)
    table, _ = adjusted_balance(
        framed, list(covariates), methods=methods, estimand=estimand, caliper=caliper,
        replace=replace,
    )  # fmt: skip
    if not wide:
        return table
    statistics = [
        "mean_participants", "mean_comparison", "smd", "variance_ratio", "ks",
        "wwc_effect_size", "wwc_category", "ess_participants", "ess_comparison",
    ]  # fmt: skip
    spread = table.pivot(index="covariate", columns="adjustment", values=statistics)
    order = ["unadjusted", *(m for m in ("ipw", "matching") if m in methods)]
    spread.columns = [f"{stat}_{adj}" for stat, adj in spread.columns]
    columns = [f"{stat}_{adj}" for stat in statistics for adj in order]
    covariate_order = list(dict.fromkeys(table["covariate"]))
    return spread.loc[covariate_order, columns].reset_index()
