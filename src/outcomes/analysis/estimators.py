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

from outcomes.errors import ConfigError

SEType = Literal["HC3", "cluster"]


def unadjusted(
    data: pd.DataFrame,
    outcome: str,
    *,
    alpha: float = 0.05,
    se: Literal["welch", "pooled"] = "welch",
) -> dict:
    """Difference in means, participants minus comparison, with Welch's t interval.

    Parameters
    ----------
    data : DataFrame
        Columns ``group`` and ``outcome``; rows with a missing outcome are dropped.
    outcome : str
    alpha : float

    Returns
    -------
    dict
        ``estimate``, ``std_error`` (``sqrt(s_p^2/n_p + s_c^2/n_c)``), ``df``
        (Welch-Satterthwaite), ``ci_low``, ``ci_high``, ``p_value`` (two-sided t),
        ``n_participants``, ``n_comparison``, ``mean_participants``, ``mean_comparison``,
        ``sd_participants``, ``sd_comparison`` (ddof = 1), ``se_type`` (``"welch"`` or
        ``"pooled"``).

    Notes
    -----
    ``se="welch"`` (default): ``sqrt(s_p^2/n_p + s_c^2/n_c)`` with Welch-Satterthwaite df; it
    does not assume equal variances, and with self-selected groups the spread often differs.
    ``se="pooled"``: Student's ``S_p sqrt(1/n_p + 1/n_c)`` with ``n_p + n_c - 2`` df. Either
    way it is the naive comparison, biased whenever joiners differ from non-joiners.
    """
    y = data.loc[data[outcome].notna(), ["group", outcome]]
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
        "se_type": se,
    }
    if n_p < 2 or n_c < 2:
        return summary | no_inference()
    if se not in ("welch", "pooled"):
        raise ValueError(f"se must be 'welch' or 'pooled'; got {se!r}")
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
    se : {"HC3", "cluster"}
        ``HC3``: heteroskedasticity-robust (MacKinnon & White 1985), t with residual df.
        ``cluster``: CR1 in Stata's convention, ``G/(G-1) * (N-1)/(N-K)`` (statsmodels'
        default correction), t with ``G - 1`` df; unreliable with fewer than ~40 clusters.
    cluster : str, optional
        Cluster column, required for ``se="cluster"``; rows without a cluster are left out.
    alpha : float

    Returns
    -------
    dict
        ``estimate``, ``std_error``, ``df``, ``ci_low``, ``ci_high``, ``p_value``,
        ``n_participants``, ``n_comparison`` (complete cases used), ``mean_participants``,
        ``mean_comparison``, ``sd_participants``, ``sd_comparison`` (raw outcome in the
        analysed sample), ``se_type``, ``rows`` (index of the rows used).
    """
    terms = [t for t in dict.fromkeys([baseline, *covariates]) if t]
    frame = data.assign(participant=(data["group"] == "participant").astype(float))
    if se == "cluster":  # a row without a cluster cannot enter a cluster-robust fit
        frame = frame[frame[cluster].notna()]
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
    if summary["n_participants"] < 2 or summary["n_comparison"] < 2 or model.df_resid < 1:
        return summary | no_inference() | {"se_type": se}
    if se == "cluster":
        groups = pd.factorize(used[cluster])[0]
        fit = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
        df = len(np.unique(groups)) - 1
    else:
        fit = model.fit(cov_type="HC3", use_t=True)
        df = fit.df_resid
    estimate = float(fit.params["participant"])
    std_error = float(fit.bse["participant"])
    return summary | t_inference(estimate, std_error, df, alpha) | {"se_type": se}


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
