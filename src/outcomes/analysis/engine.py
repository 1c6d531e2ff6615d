"""The estimation engine: an analysis panel and a plan in, tidy estimate rows out.

The analyze stage (one panel per wave of a cohort) and :func:`outcomes.compare` (any table)
both call :func:`estimate_outcome`; nothing else dispatches to the estimators. The options
come from :mod:`outcomes.options`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from outcomes.analysis import causal
from outcomes.analysis.effect_sizes import cox_index, hedges_g, improvement_index, pooled_sd
from outcomes.analysis.estimators import ancova, no_inference, unadjusted
from outcomes.analysis.multiplicity import adjust_pvalues
from outcomes.analysis.propensity import (
    covariate_columns,
    fit_propensity,
    trim_to_common_support,
)
from outcomes.analysis.sensitivity import evalue_smd, plausibility_warning
from outcomes.errors import OutcomesError
from outcomes.options import (
    DEFAULT_CALIPER,
    DEFAULT_ESTIMAND,
    DEFAULT_METHODS,
    FEW_CLUSTERS,
    METHODS,
    PROPENSITY_METHODS,
    Design,
    Direction,
    Estimand,
    Method,
    SEChoice,
    Trim,
    check_option,
)
from outcomes.redact import describe_value

#: The columns of one estimate row (``estimates.csv`` adds ``cohort`` and ``wave``).
ROW_COLUMNS = [
    "outcome", "label", "domain", "instrument", "method", "estimand",
    "estimate", "std_error", "df", "ci_low", "ci_high", "p_value", "p_adjusted",
    "p_adjust_method", "hedges_g", "g_se", "g_ci_low", "g_ci_high", "improvement_index",
    "n_participants", "n_comparison", "mean_participants", "mean_comparison", "sd_pooled",
    "direction", "favours", "se_type", "n_clusters", "covariates", "evalue", "evalue_ci",
    "plausibility_warning", "outcome_type", "odds_ratio", "risk_ratio", "cox_index", "note",
]  # fmt: skip


@dataclass(frozen=True)
class OutcomeSpec:
    """One outcome column of a panel and how to read it.

    ``baseline`` names the column of its pre-program score (adjusted for by ancova and the
    propensity methods, differenced by did); ``binary`` marks a 0/1 outcome (risk
    difference, odds ratio, risk ratio, Cox index); ``self_reported`` turns on the
    plausibility warning for large effects.
    """

    name: str
    label: str = ""
    domain: str = ""
    instrument: str = ""
    direction: Direction = "higher_is_better"
    baseline: str | None = None
    binary: bool = False
    self_reported: bool = False


@dataclass(frozen=True)
class EstimationPlan:
    """How to estimate: methods, estimand, adjustment terms and standard errors.

    ``cluster`` names the panel's cluster column (None: no clusters). ``se`` is resolved by
    :func:`resolve_se`. ``caliper``, ``replace`` and ``trim`` are the propensity options;
    ``design`` decides whether large effects on self-reported outcomes get the plausibility
    warning (self-selected designs only).
    """

    methods: tuple[Method, ...] = DEFAULT_METHODS  # type: ignore[assignment]
    estimand: Estimand = DEFAULT_ESTIMAND  # type: ignore[assignment]
    covariates: tuple[str, ...] = ()
    se: SEChoice = "auto"
    cluster: str | None = None
    alpha: float = 0.05
    caliper: float | None = DEFAULT_CALIPER
    replace: bool = False
    trim: Trim = "none"
    design: Design = "self_selected"

    def __post_init__(self) -> None:
        for method in self.methods:
            check_option(method, Method, "method")
        check_option(self.estimand, Estimand, "estimand")
        check_option(self.se, SEChoice, "se")
        check_option(self.trim, Trim, "trim")
        check_option(self.design, Design, "design")


def resolve_se(panel: pd.DataFrame, plan: EstimationPlan) -> tuple[str | None, str | None]:
    """The cluster column and cluster-robust variant the plan asks for on this panel.

    Returns ``(cluster, kind)``: ``(None, None)`` for no clustering (no cluster column, fewer
    than two clusters, or ``se="HC3"``), else the column and ``"CR1"`` or ``"CR2"``. With
    ``se="auto"``, ``CR1`` from :data:`outcomes.options.FEW_CLUSTERS` (40) clusters up, else
    ``CR2`` (Bell-McCaffrey).
    """
    if plan.cluster is None or plan.se == "HC3":
        if plan.se in ("CR1", "CR2"):
            raise OutcomesError(
                "cluster-robust standard errors need a cluster column",
                column="cluster",
                expected="the column naming each row's cluster",
                found=f"se {plan.se} without cluster",
            )
        return None, None
    if plan.cluster not in panel.columns:
        raise OutcomesError(
            "the cluster column is not in the data",
            column=plan.cluster,
            expected=f"one of {list(panel.columns)[:20]}",
            found="no such column",
        )
    n_clusters = panel[plan.cluster].nunique()
    if n_clusters < 2:
        return None, None
    if plan.se == "auto":
        return plan.cluster, "CR1" if n_clusters >= FEW_CLUSTERS else "CR2"
    return plan.cluster, plan.se


def estimate_outcome(
    panel: pd.DataFrame, outcome: OutcomeSpec, plan: EstimationPlan
) -> pd.DataFrame:
    """One row per method of ``plan`` for one outcome of ``panel``.

    Parameters
    ----------
    panel : DataFrame
        One row per person: ``group`` (``participant`` / ``comparison``), the outcome, its
        baseline column when ``outcome.baseline`` is set, the covariates' variables and the
        cluster column when ``plan.cluster`` is set. Unique index.
    outcome : OutcomeSpec
    plan : EstimationPlan

    Returns
    -------
    DataFrame
        :data:`ROW_COLUMNS` (README.md, "Outputs"), ``p_adjusted`` still empty (see
        :func:`adjust_families`). Every method uses the complete cases of the columns it
        needs; ``n_participants`` / ``n_comparison`` count them.

    Notes
    -----
    ``unadjusted``: difference in means. ``ancova``: ``outcome ~ participant + baseline +
    covariates``. ``ipw`` / ``aipw`` / ``matching``: a propensity model on ``baseline +
    covariates`` (``trim="common_support"`` first drops rows outside the common support).
    ``did``: difference in mean changes from ``baseline``. Standard errors: see
    :func:`resolve_se`; ``se_type`` names what was used.
    """
    check_usable(panel, outcome, plan)
    cluster, kind = resolve_se(panel, plan)
    rows = []
    for method in plan.methods:
        try:
            fit, terms = _fit(panel, method, outcome, plan, cluster, kind)
        except (np.linalg.LinAlgError, FloatingPointError) as exc:
            # A singular design for this method (e.g. a covariate constant in one group):
            # a row that says so, not a traceback.
            fit = unadjusted(panel, outcome.name, alpha=plan.alpha) | no_inference()
            fit |= {"se_type": "none", "note": "could not be estimated: the data are singular "
                    f"for this method ({type(exc).__name__})"}  # fmt: skip
            terms = []
        row = effect_row(fit, direction=outcome.direction, alpha=plan.alpha)
        row |= sensitivity_columns(row, self_reported=outcome.self_reported, design=plan.design)
        row |= binary_row(row) if outcome.binary else {"outcome_type": "continuous"}
        rows.append(
            {
                "outcome": outcome.name,
                "label": outcome.label or outcome.name,
                "domain": outcome.domain,
                "instrument": outcome.instrument,
                "method": method,
                "estimand": fit.get("estimand", plan.estimand),
                **row,
                "covariates": " + ".join(terms),
                "note": fit.get("note") or _note(fit, row),
            }
        )
    return pd.DataFrame(rows).reindex(columns=ROW_COLUMNS)


def _note(fit: dict, row: dict) -> str | None:
    """Why a row has no estimate (None when it has one)."""
    if np.isfinite(row["estimate"]) and np.isfinite(row["std_error"]):
        return None
    n = row["n_participants"] + row["n_comparison"]
    if n == 0:
        return "no student has every value this method needs"
    if min(row["n_participants"], row["n_comparison"]) < 2:
        return "fewer than two students in a group have every value this method needs"
    return "too few students with every value this method needs to estimate it"


#: Largest absolute value analysed; beyond it sums of squares overflow double precision.
MAX_ABS_VALUE = 1e100


def check_usable(panel: pd.DataFrame, outcome: OutcomeSpec, plan: EstimationPlan) -> None:
    """Stop with a clear message on columns no estimator can use: an outcome or baseline that
    is not numeric, a non-finite value (inf) in the outcome, its baseline or a numeric
    covariate, values too large for double precision, or text among the numbers of a
    covariate (which would silently make it categorical). No value is echoed."""
    for column, what in ((outcome.name, "the outcome"), (outcome.baseline, "the baseline")):
        if column is None or column not in panel:
            continue
        values = panel[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            numbers = pd.to_numeric(values, errors="coerce")
            text = values[numbers.isna() & values.notna()]
            raise OutcomesError(
                f"{what} is not numeric",
                column=column,
                expected="numbers (scores, 0/1 for a yes/no outcome); blank for missing",
                found=f"{len(text)} text cells, e.g. {describe_value(text.iloc[0])}"
                if len(text) else f"values of type {values.dtype}",
            )  # fmt: skip
        _check_finite(values, column, what)
    variables = covariate_columns(panel, [t for t in plan.covariates if t])
    for column in variables:
        values = panel[column]
        if pd.api.types.is_bool_dtype(values):
            continue
        if pd.api.types.is_numeric_dtype(values):
            _check_finite(values, column, "a covariate")
            continue
        present = values[values.notna() & (values.astype(str).str.strip() != "")]
        numbers = pd.to_numeric(present, errors="coerce")
        if len(present) and numbers.notna().mean() >= 0.8 and numbers.isna().any():
            text = present[numbers.isna()]
            raise OutcomesError(
                "text among the numbers of a covariate (it would be taken as categories)",
                column=column,
                expected="numbers only, blank for missing; or C(column) to use categories",
                found=f"{len(text)} text cells, e.g. {describe_value(text.iloc[0])}",
            )


def _check_finite(values: pd.Series, column: str, what: str) -> None:
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if np.isinf(numbers).any():
        raise OutcomesError(
            f"{what} holds an infinite value",
            column=column,
            expected="finite numbers; blank for missing",
            found=f"{int(np.isinf(numbers).sum())} infinite values",
        )
    if np.nanmax(np.abs(numbers), initial=0) > MAX_ABS_VALUE:
        raise OutcomesError(
            f"{what} holds values too large to analyse",
            column=column,
            expected=f"values below {MAX_ABS_VALUE:g} in size (rescale the column)",
            found=f"{int((np.abs(numbers) > MAX_ABS_VALUE).sum())} such values",
        )


def _fit(panel, method, outcome, plan, cluster, kind) -> tuple[dict, list[str]]:
    """Run one estimator; returns its result and the adjustment terms it used."""
    name, baseline, alpha = outcome.name, outcome.baseline, plan.alpha
    terms = [t for t in dict.fromkeys([baseline, *plan.covariates]) if t]
    observed = panel.loc[panel[name].notna(), "group"] if name in panel else panel["group"][:0]
    if min((observed == g).sum() for g in ("participant", "comparison")) < 2:
        # Too few students to estimate anything (an empty wave, a group nobody answered in):
        # a row of counts without inference, never an estimator on an empty sample.
        note = ("no student has a value of the outcome" if observed.empty else
                "fewer than two students in a group have a value of the outcome")  # fmt: skip
        return _counts_only(panel, name, plan, note), terms
    if panel.loc[panel[name].notna(), name].nunique() < 2:
        note = "the outcome has the same value for every student: there is nothing to compare"
        return _counts_only(panel, name, plan, note), terms
    needed = [name, *covariate_columns(panel, terms)]
    needed += [cluster] if cluster else []
    complete = panel.loc[panel[needed].notna().all(axis=1), "group"]
    if method != "unadjusted" and min((complete == g).sum() for g in GROUPS) < 2:
        note = (
            "no student has every value this method needs"
            if complete.empty
            else "fewer than two students in a group have every value this method needs"
        )
        return _counts_only(panel.loc[complete.index], name, plan, note), terms
    if method == "unadjusted":
        return unadjusted(panel, name, alpha=alpha, se=kind or "welch", cluster=cluster), []
    if method == "ancova":
        fit = ancova(panel, name, baseline=baseline, covariates=terms[1:] if baseline else terms,
                     se=kind or "HC3", cluster=cluster, alpha=alpha)  # fmt: skip
        return fit, terms
    if method == "did":
        if not baseline:
            raise OutcomesError(
                "difference in differences needs the outcome's pre-program baseline",
                column="baseline", expected="the outcome's baseline column", found="none",
            )  # fmt: skip
        fit = causal.did(panel, name, baseline=baseline, alpha=alpha, se=kind or "welch",
                         cluster=cluster)  # fmt: skip
        return fit, [baseline]
    if method not in PROPENSITY_METHODS:  # pragma: no cover - EstimationPlan checks methods
        raise OutcomesError("unknown method", expected=f"one of {METHODS}", found=method)
    if not terms:
        raise OutcomesError(
            f"{method} needs covariates for the propensity score",
            column="covariates", expected="one or more terms (or the outcome's baseline)",
            found="none",
        )  # fmt: skip
    data = panel
    if plan.trim == "common_support":
        data = panel.loc[common_support(panel, terms)]
    kwargs = {"covariates": terms, "alpha": alpha, "missing": "drop", "cluster": cluster}
    if method == "matching":
        kwargs |= {"caliper": plan.caliper, "replace": plan.replace, "cluster_se": kind or "CR1"}
        return causal.matching(data, name, **kwargs), terms
    estimator = causal.ipw if method == "ipw" else causal.aipw
    return estimator(data, name, estimand=plan.estimand, **kwargs), terms


GROUPS = ("participant", "comparison")


def _counts_only(panel: pd.DataFrame, name: str, plan: EstimationPlan, note: str) -> dict:
    """A result with the sample's counts and means but no inference, and the reason."""
    if name in panel:
        with np.errstate(invalid="ignore", divide="ignore"):
            fit = unadjusted(panel, name, alpha=plan.alpha) | no_inference()
    else:
        keys = ("estimate", "std_error", "df", "ci_low", "ci_high", "p_value",
                "mean_participants", "mean_comparison", "sd_participants",
                "sd_comparison")  # fmt: skip
        fit = dict.fromkeys(keys, np.nan) | {"n_participants": 0, "n_comparison": 0}
    return fit | {"se_type": "none", "estimand": plan.estimand, "n_clusters": np.nan,
                  "note": note}  # fmt: skip


def common_support(panel: pd.DataFrame, terms: list[str]) -> pd.Index:
    """Rows of ``panel`` inside the common support of a propensity model on ``terms``."""
    frame = panel.assign(participant=(panel["group"] == "participant").astype(int))
    model = fit_propensity(frame, "participant", terms, missing="drop")
    keep = trim_to_common_support(model.scores, model.treated)
    return keep.index[keep.to_numpy()]


def adjust_families(table: pd.DataFrame, method: str, by: list[str]) -> pd.DataFrame:
    """``table`` with ``p_adjusted`` (``method`` applied within each family of rows sharing
    the ``by`` columns; all rows one family when ``by`` is empty) and ``p_adjust_method``."""
    table = table.copy()
    table["p_adjust_method"] = method
    if table.empty:
        table["p_adjusted"] = np.nan
        return table
    keys = table[by] if by else pd.Series(0, index=table.index)
    table["p_adjusted"] = table.groupby(
        [table[c] for c in by] if by else keys, sort=False, dropna=False
    )["p_value"].transform(lambda p: pd.Series(adjust_pvalues(p.to_numpy(), method), index=p.index))
    return table


def effect_row(fit: dict, *, direction: str, alpha: float = 0.05) -> dict:
    """The columns of an estimates row that follow from one estimator's result: the
    estimate and its inference, Hedges' g (WWC), improvement index, sample, direction,
    ``favours``, ``se_type`` and ``n_clusters``."""
    n_p, n_c = fit["n_participants"], fit["n_comparison"]
    sd = (
        pooled_sd(fit["sd_participants"], fit["sd_comparison"], n_p, n_c)
        if n_p > 1 and n_c > 1
        else np.nan
    )
    sd = sd if sd > 0 else np.nan  # no spread: no standardized effect
    g = hedges_g(fit["estimate"], sd, n_p, n_c, alpha=alpha)
    sign = 1 if direction == "higher_is_better" else -1
    return {
        **{k: fit[k] for k in ("estimate", "std_error", "df", "ci_low", "ci_high", "p_value")},
        **g,
        "improvement_index": improvement_index(sign * g["hedges_g"]),
        "n_participants": n_p,
        "n_comparison": n_c,
        "mean_participants": fit["mean_participants"],
        "mean_comparison": fit["mean_comparison"],
        "sd_pooled": sd,
        "direction": direction,
        "favours": _favours(fit["ci_low"], fit["ci_high"], sign),
        "se_type": fit["se_type"],
        "n_clusters": fit.get("n_clusters", np.nan),
    }


def binary_row(row: dict) -> dict:
    """Columns of a 0/1 outcome's row: its estimate is a risk difference; the comparison
    proportion it implies (``p_participants - estimate``, the WWC way to read an adjusted
    difference; the observed one for ``unadjusted``) gives the odds ratio, the risk ratio and
    the Cox index ``[logit(p_i) - logit(p_c)] / 1.65`` (no small-sample factor)."""
    p_i = row["mean_participants"]
    p_c = p_i - row["estimate"]
    valid = 0 < p_i < 1 and 0 < p_c < 1
    if not valid:
        return {"outcome_type": "binary", "odds_ratio": np.nan, "risk_ratio": np.nan,
                "cox_index": np.nan}  # fmt: skip
    odds_ratio = (p_i / (1 - p_i)) / (p_c / (1 - p_c))
    return {
        "outcome_type": "binary",
        "odds_ratio": odds_ratio,
        "risk_ratio": p_i / p_c,
        "cox_index": cox_index(p_i, p_c, row["n_participants"], row["n_comparison"])["cox_index"],
    }


def sensitivity_columns(row: dict, *, self_reported: bool, design: str = "self_selected") -> dict:
    """E-values (VanderWeele & Ding 2017) of the effect size and of its CI limit nearest the
    null, and the plausibility warning for large effects on self-reported outcomes."""
    if np.isnan(row["hedges_g"]):
        return {"evalue": np.nan, "evalue_ci": np.nan, "plausibility_warning": None}
    values = evalue_smd(row["hedges_g"], row["g_se"])
    warning = plausibility_warning(row["hedges_g"], self_reported=self_reported, design=design)
    return {"evalue": values["evalue"], "evalue_ci": values["evalue_ci"],
            "plausibility_warning": warning}  # fmt: skip


def _favours(ci_low: float, ci_high: float, sign: int) -> str:
    if np.isnan(ci_low) or ci_low <= 0 <= ci_high:
        return "unclear"
    return "participants" if (ci_low > 0) == (sign > 0) else "comparison"
