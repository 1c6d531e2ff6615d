"""Estimators of the participant - comparison difference in an outcome.

Each takes a DataFrame with a ``group`` column (``participant`` / ``comparison``) and returns a
dict of estimate, standard error, confidence interval, p-value and the sample it used; the
analyze stage stacks these into ``estimates``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import patsy
import statsmodels.formula.api as smf
from scipy import stats

from outcomes.analysis.clustering import ols_cluster
from outcomes.errors import ConfigError, OutcomesError

#: The SE of a regression estimator: HC3 (Welch for the difference in means), or
#: cluster-robust CR1 / CR2 (``cluster`` is an alias of CR1, kept for old configs).
SEType = Literal["HC3", "CR1", "CR2", "cluster"]
#: ``se_type`` written in the estimates for each cluster-robust variant.
CLUSTER_SE_LABELS = {"CR1": "CR1", "CR2": "CR2_BM"}


def unadjusted(
    data: pd.DataFrame,
    outcome: str,
    *,
    alpha: float = 0.05,
    se: Literal["welch", "pooled", "CR1", "CR2"] = "welch",
    cluster: str | None = None,
) -> dict:
    """Difference in means, participants minus comparison, with Welch's t interval.

    Parameters
    ----------
    data : DataFrame
        Columns ``group`` and ``outcome``; rows with a missing outcome are dropped.
    outcome : str
    alpha : float
    se : {"welch", "pooled", "CR1", "CR2"}
        See Notes.
    cluster : str, optional
        Cluster column, required for ``CR1`` and ``CR2``; rows without a cluster are left out.

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``df``, ``ci_low``, ``ci_high``, ``p_value`` (two-sided
        t), ``n_participants``, ``n_comparison``, ``mean_participants``, ``mean_comparison``,
        ``sd_participants``, ``sd_comparison`` (ddof = 1), ``se_type`` (``"welch"``,
        ``"pooled"``, ``"CR1"`` or ``"CR2_BM"``), ``n_clusters`` (NaN without clusters).

    Notes
    -----
    ``se="welch"`` (default): ``sqrt(s_p^2/n_p + s_c^2/n_c)`` with Welch-Satterthwaite df; it
    does not assume equal variances, and with self-selected groups the spread often differs.
    ``se="pooled"``: Student's ``S_p sqrt(1/n_p + 1/n_c)`` with ``n_p + n_c - 2`` df.
    ``CR1`` / ``CR2``: the coefficient of a participant dummy in an OLS regression of the
    outcome on an intercept and the dummy (it equals the difference in means), with the
    cluster-robust SE of :func:`outcomes.analysis.clustering.ols_cluster` (CR1: Stata's
    ``G/(G-1) (N-1)/(N-K)`` and ``G - 1`` df; CR2: Bell-McCaffrey bias-reduced with its
    Satterthwaite df, for fewer than about 40 clusters). Either way it is the naive
    comparison, biased whenever joiners differ from non-joiners.
    """
    if se not in ("welch", "pooled", "CR1", "CR2"):
        raise ValueError(f"se must be 'welch', 'pooled', 'CR1' or 'CR2'; got {se!r}")
    keep = data[outcome].notna()
    if se in CLUSTER_SE_LABELS:
        keep &= data[_need_cluster(data, cluster)].notna()
    y = data.loc[keep, ["group", outcome, *([cluster] if se in CLUSTER_SE_LABELS else [])]]
    part = y.loc[y["group"] == "participant", outcome].to_numpy(float)
    comp = y.loc[y["group"] == "comparison", outcome].to_numpy(float)
    n_p, n_c = len(part), len(comp)
    summary = {
        "n_participants": n_p,
        "n_comparison": n_c,
        "mean_participants": part.mean() if n_p else np.nan,
        "mean_comparison": comp.mean() if n_c else np.nan,
        "sd_participants": part.std(ddof=1) if n_p > 1 else np.nan,
        "sd_comparison": comp.std(ddof=1) if n_c > 1 else np.nan,
        "se_type": CLUSTER_SE_LABELS.get(se, se),
        "n_clusters": np.nan,
    }
    if n_p < 2 or n_c < 2:
        return summary | no_inference()
    if se in CLUSTER_SE_LABELS:
        x = np.column_stack([np.ones(len(y)), (y["group"] == "participant").to_numpy(float)])
        return summary | cluster_inference(x, y[outcome].to_numpy(float), y[cluster], se, alpha)
    s_p, s_c = summary["sd_participants"], summary["sd_comparison"]
    if se == "pooled":  # Student's t: one variance, df n_p + n_c - 2
        pooled = ((n_p - 1) * s_p**2 + (n_c - 1) * s_c**2) / (n_p + n_c - 2)
        std_error, df = np.sqrt(pooled * (1 / n_p + 1 / n_c)), n_p + n_c - 2
    else:
        v_p, v_c = s_p**2 / n_p, s_c**2 / n_c
        std_error = np.sqrt(v_p + v_c)
        df = (v_p + v_c) ** 2 / (v_p**2 / (n_p - 1) + v_c**2 / (n_c - 1))
    estimate = summary["mean_participants"] - summary["mean_comparison"]
    return summary | t_inference(estimate, std_error, df, alpha)


def ancova(
    data: pd.DataFrame,
    outcome: str,
    *,
    baseline: str | None,
    covariates: list[str] | tuple[str, ...] = (),
    se: SEType = "HC3",
    cluster: str | None = None,
    alpha: float = 0.05,
) -> dict:
    """Regression-adjusted difference (ANCOVA) with robust standard errors.

    Fits ``outcome ~ participant + baseline + covariates`` by OLS on complete cases and
    reports the coefficient of ``participant`` (1 for participants, 0 for comparison).

    Parameters
    ----------
    data : DataFrame
        Columns ``group``, ``outcome``, ``baseline`` and every variable the covariate terms use.
    outcome : str
    baseline : str or None
        Column of the outcome's baseline score (adjusted for first); None for none.
    covariates : list of str
        Patsy terms, e.g. ``"C(gender)"``, ``"grade_level"``, ``"loneliness_baseline"``.
    se : {"HC3", "CR1", "CR2"}
        ``HC3``: heteroskedasticity-robust (MacKinnon & White 1985), t with residual df.
        ``CR1``: cluster-robust in Stata's convention, ``G/(G-1) * (N-1)/(N-K)`` (statsmodels'
        default correction), t with ``G - 1`` df; unreliable with fewer than ~40 clusters.
        ``CR2``: Bell-McCaffrey bias-reduced cluster-robust SE with its Satterthwaite df
        (:func:`outcomes.analysis.clustering.ols_cluster`), for few clusters. ``cluster`` is
        an alias of ``CR1``.
    cluster : str, optional
        Cluster column, required for CR1 and CR2; rows without a cluster are left out.
    alpha : float

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``df``, ``ci_low``, ``ci_high``, ``p_value``,
        ``n_participants``, ``n_comparison`` (complete cases used), ``mean_participants``,
        ``mean_comparison``, ``sd_participants``, ``sd_comparison`` (raw outcome in the
        analysed sample), ``se_type`` (``HC3``, ``CR1`` or ``CR2_BM``), ``n_clusters`` (NaN
        without clusters), ``rows`` (index of the rows used).
    """
    se = "CR1" if se == "cluster" else se
    if se not in ("HC3", "CR1", "CR2"):
        raise ValueError(f"se must be 'HC3', 'CR1' or 'CR2'; got {se!r}")
    terms = [t for t in dict.fromkeys([baseline, *covariates]) if t]
    frame = data.assign(participant=(data["group"] == "participant").astype(float))
    if se in CLUSTER_SE_LABELS:  # a row without a cluster cannot enter a cluster-robust fit
        frame = frame[frame[_need_cluster(data, cluster)].notna()]
    formula = f"Q('{outcome}') ~ participant" + "".join(f" + {t}" for t in terms)
    try:
        model = smf.ols(formula, data=frame, missing="drop")
    except (patsy.PatsyError, NameError, KeyError) as exc:
        raise ConfigError(
            "an ANCOVA covariate term cannot be built from the analysis panel",
            column="plan.covariates",
            expected="covariate names, OUTCOME_baseline columns or patsy terms such as C(gender)",
            found=f"{terms}: {exc}",
        ) from None
    # row_labels are the index labels of the complete cases patsy kept (not positions).
    rows = pd.Index(model.data.row_labels) if model.data.row_labels is not None else frame.index
    used = frame.loc[rows]
    summary = unadjusted(used, outcome, alpha=alpha)
    summary["rows"] = rows
    summary["se_type"] = CLUSTER_SE_LABELS.get(se, se)
    if summary["n_participants"] < 2 or summary["n_comparison"] < 2 or model.df_resid < 1:
        return summary | no_inference()
    if se in CLUSTER_SE_LABELS:
        column = list(model.exog_names).index("participant")
        return summary | cluster_inference(
            model.exog, model.endog, used[cluster], se, alpha, coefficient=column
        )
    fit = model.fit(cov_type="HC3", use_t=True)
    estimate = float(fit.params["participant"])
    std_error = float(fit.bse["participant"])
    return summary | t_inference(estimate, std_error, fit.df_resid, alpha)


def cluster_inference(
    x: np.ndarray,
    y: np.ndarray,
    clusters: pd.Series | np.ndarray,
    kind: Literal["CR1", "CR2"],
    alpha: float,
    *,
    coefficient: int = 1,
) -> dict:
    """Estimate, cluster-robust SE, df, t interval and p-value of one OLS coefficient, with
    ``se_type`` and ``n_clusters`` (:func:`outcomes.analysis.clustering.ols_cluster`)."""
    codes = pd.factorize(pd.Series(np.asarray(clusters, dtype=object)))[0]
    fit = ols_cluster(np.asarray(x, float), np.asarray(y, float), codes, kind=kind,
                      coefficient=coefficient)  # fmt: skip
    if not np.isfinite(fit["std_error"]) or fit["df"] is None or not fit["df"] > 0:
        return no_inference() | {"se_type": CLUSTER_SE_LABELS[kind],
                                 "n_clusters": fit["n_clusters"]}  # fmt: skip
    return t_inference(fit["estimate"], fit["std_error"], fit["df"], alpha) | {
        "se_type": CLUSTER_SE_LABELS[kind],
        "n_clusters": int(fit["n_clusters"]),
    }


def _need_cluster(data: pd.DataFrame, cluster: str | None) -> str:
    if cluster is None or cluster not in data.columns:
        raise OutcomesError(
            "cluster-robust standard errors need the cluster column",
            column=str(cluster),
            expected="a column naming each row's cluster (school, site, mentor group)",
            found="no such column" if cluster else "no cluster given",
        )
    return cluster


def t_inference(estimate: float, se: float, df: float, alpha: float) -> dict:
    """Estimate, SE, df, two-sided (1 - alpha) t interval and p-value (``df = inf``: normal)."""
    t_crit = stats.t.ppf(1 - alpha / 2, df)
    return {
        "estimate": float(estimate),
        "std_error": float(se),
        "df": float(df),
        "ci_low": float(estimate - t_crit * se),
        "ci_high": float(estimate + t_crit * se),
        "p_value": float(2 * stats.t.sf(abs(estimate / se), df)) if se > 0 else np.nan,
    }


def no_inference() -> dict:
    """The inference keys, all NaN: for a sample too small to estimate from."""
    keys = ("estimate", "std_error", "df", "ci_low", "ci_high", "p_value")
    return dict.fromkeys(keys, np.nan)
