"""Causal estimators of the participant - comparison effect under no unmeasured confounding.

Inverse probability weighting, augmented (doubly robust) weighting, 1:1 propensity-score
matching, and a difference-in-differences of change scores. Each takes the analysis panel
(a ``group`` column with ``participant`` / ``comparison``) and returns the same dict as
:func:`outcomes.analysis.estimators.ancova` (``estimate``, ``std_error``, ``df``, ``ci_low``,
``ci_high``, ``p_value``, ``n_participants``, ``n_comparison``, ``mean_participants``,
``mean_comparison``, ``sd_participants``, ``sd_comparison``, ``se_type``, ``rows``) plus
documented extras.

Standard errors of the weighting estimators are M-estimation (stacked estimating equations)
sandwich errors that include the estimation of the propensity score and of the outcome
models: the same equations as Stata's ``teffects`` and statsmodels' ``TreatmentEffect``,
solved in closed form and with the Jacobian taken numerically. statsmodels' class gives the
same numbers (the tests check both against Stata) but re-solves the system by Nelder-Mead
(about 16 s for AIPW on 100,000 rows) and clips the scores to [0.01, 0.99] in its variance
only; solving it here keeps one code path for ATE, ATT, ATO and the doubly robust ATT.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import pandas as pd
from statsmodels.tools.numdiff import approx_fprime

from outcomes.analysis.clustering import cluster_mean_se, cluster_meat
from outcomes.analysis.estimators import (
    CLUSTER_SE_LABELS,
    no_inference,
    t_inference,
    unadjusted,
)
from outcomes.analysis.propensity import (
    CaliperScale,
    Estimand,
    Link,
    MatchOrder,
    Missing,
    PropensityModel,
    balancing_weights,
    check_option,
    complete_rows,
    covariate_columns,
    design_matrix,
    fit_propensity,
    match_nearest,
    snap_ties,
    tie_tolerance,
)
from outcomes.errors import OutcomesError

GROUPS = ("participant", "comparison")
# Within-group neighbours for the conditional variance in the Abadie-Imbens variance
# (Stata's teffects default, vce(robust, nn(2))).
AI_NEIGHBOURS = 2


def ipw(
    data: pd.DataFrame,
    outcome: str,
    *,
    covariates: list[str] | tuple[str, ...],
    estimand: Estimand = "ATT",
    link: Link = "logit",
    missing: Missing = "raise",
    alpha: float = 0.05,
    cluster: str | None = None,
) -> dict:
    """Inverse-probability (propensity-score) weighted difference in means.

    Parameters
    ----------
    data : DataFrame
        Columns ``group``, ``outcome`` and every variable the covariate terms use; unique
        index. Rows with a missing outcome are dropped.
    outcome : str
    covariates : list of str
        Patsy terms of the propensity model, e.g. ``"C(gender)"``, ``"I(age**2)"``.
    estimand : {"ATT", "ATE", "ATO"}
        Effect on the participants (odds weights), on everyone (inverse probability
        weights), or on the overlap population (overlap weights); see
        :func:`outcomes.analysis.propensity.balancing_weights`.
    link : {"logit", "probit"}
        Propensity model.
    missing : {"raise", "drop"}
        Rows missing a covariate: stop with a per-column report (default), or drop them.
    alpha : float
    cluster : str, optional
        Cluster column: the sandwich sums the estimating functions within clusters (rows
        without a cluster are left out); see Notes.

    Returns
    -------
    dict
        The keys of :func:`~outcomes.analysis.estimators.ancova` (``mean_*`` and ``sd_*`` are
        the raw, unweighted outcome in the analysed sample; ``rows`` the index used), and
        ``estimand``, ``pom_participants``, ``pom_comparison`` (weighted means: the potential
        outcome means of the target population with and without the program),
        ``ess_participants``, ``ess_comparison`` (Kish effective sample sizes of the weights),
        ``link``.

    Notes
    -----
    Estimate: difference of normalized (Hajek) weighted means,
    ``sum(T w y)/sum(T w) - sum((1-T) w y)/sum((1-T) w)``, with ``w`` the estimand's weights
    at the fitted score ``e = F(x'g)``.

    Standard error (``se_type = "m_estimation"``): sandwich ``A^-1 B A^-T / n`` of the stacked
    estimating equations ``T w (y - mu1)``, ``(1-T) w (y - mu0)`` and the score of the
    propensity model, so it accounts for the estimation of ``e``. For ATE and ATT these are
    Stata's ``teffects ipw`` equations (its ATET for ``ATT``); the ATO version is the
    sandwich of Li, Morgan & Zaslavsky (2018). Inference is normal (``df`` is infinite), as
    in Stata. No weight truncation is applied: inspect ``ess_*`` and
    :func:`~outcomes.analysis.propensity.overlap_table`.

    With ``cluster`` (``se_type = "m_estimation_CR1"``): the meat sums each cluster's
    estimating functions before the outer product and is scaled by ``G/(G-1)``
    (:func:`outcomes.analysis.clustering.cluster_meat`, as Stata's ``vce(cluster)``), and
    the interval is t with ``G - 1`` df, a small-sample allowance for few clusters.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> x = rng.normal(size=500)
    >>> joined = rng.random(500) < 1 / (1 + np.exp(-x))
    >>> panel = pd.DataFrame({"group": np.where(joined, "participant", "comparison"),
    ...                       "x": x, "y": 1.0 * joined + x + rng.normal(size=500)})
    >>> result = ipw(panel, "y", covariates=["x"], estimand="ATE")
    >>> round(result["estimate"], 2), round(result["std_error"], 3), result["se_type"]
    (0.84, 0.134, 'm_estimation')
    """
    check_option(estimand, Estimand, "estimand")
    frame, ps, _ = _prepare(
        data, outcome, covariates, link=link, missing=missing, alpha=alpha, cluster=cluster
    )
    summary = _summary(frame, outcome, alpha, _m_label(cluster), cluster) | {
        "estimand": estimand,
        "link": link,
    }
    if ps is None:
        return summary | no_inference()
    y = frame[outcome].to_numpy(float)
    t = ps.treated.to_numpy(float)
    model = ps.results.model
    gamma = np.asarray(ps.results.params, dtype=float)

    def weights(g):
        return balancing_weights(_score_at(model, g), t, estimand)[0]

    w, info = balancing_weights(ps.scores.to_numpy(), t, estimand)
    mu1 = np.sum(t * w * y) / np.sum(t * w)
    mu0 = np.sum((1 - t) * w * y) / np.sum((1 - t) * w)

    def psi(theta):
        w = weights(theta[2:])
        return np.column_stack(
            [t * w * (y - theta[0]), (1 - t) * w * (y - theta[1]), model.score_obs(theta[2:])]
        )

    cov, df = _sandwich(psi, np.r_[mu1, mu0, gamma], _clusters(frame, cluster))
    se = _contrast_se(cov, [1, -1])
    return (
        summary
        | t_inference(mu1 - mu0, se, df, alpha)
        | {
            "pom_participants": float(mu1),
            "pom_comparison": float(mu0),
            "ess_participants": info["ess_participants"],
            "ess_comparison": info["ess_comparison"],
        }
    )


def aipw(
    data: pd.DataFrame,
    outcome: str,
    *,
    covariates: list[str] | tuple[str, ...],
    outcome_covariates: list[str] | tuple[str, ...] | None = None,
    estimand: Estimand = "ATE",
    link: Link = "logit",
    missing: Missing = "raise",
    alpha: float = 0.05,
    cluster: str | None = None,
) -> dict:
    """Augmented inverse-probability weighting: doubly robust ATE or ATT.

    Consistent when either the propensity model or the linear outcome model is correct.

    Parameters
    ----------
    data : DataFrame
        Columns ``group``, ``outcome`` and the variables of both models; unique index.
        Rows with a missing outcome are dropped.
    outcome : str
    covariates : list of str
        Patsy terms of the propensity model.
    outcome_covariates : list of str, optional
        Patsy terms of the linear outcome model (an intercept is added); None uses
        ``covariates``.
    estimand : {"ATE", "ATT"}
        ATO has no augmented form here; use :func:`ipw`.
    link : {"logit", "probit"}
    missing : {"raise", "drop"}
    alpha : float
    cluster : str, optional
        Cluster column, as in :func:`ipw`.

    Returns
    -------
    dict
        As :func:`ipw`: the ancova keys plus ``estimand``, ``pom_participants``,
        ``pom_comparison``, ``ess_participants``, ``ess_comparison`` (of the IPW weights of
        the estimand), ``link``.

    Notes
    -----
    ATE (Stata's ``teffects aipw``): outcome models ``m1``, ``m0`` fitted by OLS within each
    group, then ``mu1 = mean(m1 + T (y - m1) / e)``, ``mu0 = mean(m0 + (1-T)(y - m0)/(1-e))``
    over all units (unnormalized), estimate ``mu1 - mu0``.

    ATT (the augmented doubly robust ATT: Sant'Anna & Zhao's 2020 DR-DiD estimator with the
    outcome in place of the change; see also Moodie, Saarela & Stephens 2018), with ``m0``
    fitted by OLS on the comparison group: ``mean_{T=1}(y - m0) -
    sum((1-T) w (y - m0)) / sum((1-T) w)`` with odds weights ``w = e/(1-e)``.
    ``pom_comparison`` is then ``mean_{T=1}(m0)`` plus the weighted comparison residual.
    With an intercept-only outcome model it equals :func:`ipw` with ``estimand="ATT"``.

    Standard error (``se_type = "m_estimation"``): sandwich of the stacked estimating
    equations of the effect, the outcome models (OLS normal equations) and the propensity
    score, as Stata does for ATE; normal inference. With ``cluster``, summed by cluster as
    in :func:`ipw` (``m_estimation_CR1``, t with ``G - 1`` df).
    """
    check_option(estimand, Estimand, "estimand")
    if estimand == "ATO":
        raise OutcomesError(
            "AIPW is not provided for the overlap estimand",
            expected="estimand 'ATE' or 'ATT' (or ipw(..., estimand='ATO'))",
        )
    outcome_terms = covariates if outcome_covariates is None else outcome_covariates
    frame, ps, design = _prepare(
        data, outcome, covariates, list(outcome_terms), link=link, missing=missing, alpha=alpha,
        cluster=cluster,
    )  # fmt: skip
    summary = _summary(frame, outcome, alpha, _m_label(cluster), cluster) | {
        "estimand": estimand,
        "link": link,
    }
    if ps is None:
        return summary | no_inference()
    y = frame[outcome].to_numpy(float)
    t = ps.treated.to_numpy(float)
    z = design.to_numpy(float)
    k = z.shape[1]
    model = ps.results.model
    gamma = np.asarray(ps.results.params, dtype=float)
    e = ps.scores.to_numpy()
    beta0 = _ols_within(z, y, t == 0, design.columns, "comparison")
    _, info = balancing_weights(e, t, estimand)

    if estimand == "ATE":
        beta1 = _ols_within(z, y, t == 1, design.columns, "participant")
        m1, m0 = z @ beta1, z @ beta0
        mu1 = np.mean(m1 + t * (y - m1) / e)
        mu0 = np.mean(m0 + (1 - t) * (y - m0) / (1 - e))
        theta = np.r_[mu1, mu0, beta1, beta0, gamma]
        contrast = [1, -1]

        def psi(theta):
            b1, b0, g = theta[2 : 2 + k], theta[2 + k : 2 + 2 * k], theta[2 + 2 * k :]
            e = _score_at(model, g)
            m1, m0 = z @ b1, z @ b0
            return np.column_stack(
                [
                    m1 + t * (y - m1) / e - theta[0],
                    m0 + (1 - t) * (y - m0) / (1 - e) - theta[1],
                    (t * (y - m1))[:, None] * z,
                    ((1 - t) * (y - m0))[:, None] * z,
                    model.score_obs(g),
                ]
            )

    else:
        m0 = z @ beta0
        odds = e / (1 - e)
        mu1 = np.mean(y[t == 1])
        fitted0 = np.mean(m0[t == 1])
        residual0 = np.sum((1 - t) * odds * (y - m0)) / np.sum((1 - t) * odds)
        mu0 = fitted0 + residual0
        theta = np.r_[mu1, fitted0, residual0, beta0, gamma]
        contrast = [1, -1, -1]

        def psi(theta):
            b0, g = theta[3 : 3 + k], theta[3 + k :]
            e = _score_at(model, g)
            m0 = z @ b0
            return np.column_stack(
                [
                    t * (y - theta[0]),
                    t * (m0 - theta[1]),
                    (1 - t) * e / (1 - e) * (y - m0 - theta[2]),
                    ((1 - t) * (y - m0))[:, None] * z,
                    model.score_obs(g),
                ]
            )

    cov, df = _sandwich(psi, theta, _clusters(frame, cluster))
    se = _contrast_se(cov, contrast)
    return (
        summary
        | t_inference(mu1 - mu0, se, df, alpha)
        | {
            "pom_participants": float(mu1),
            "pom_comparison": float(mu0),
            "ess_participants": info["ess_participants"],
            "ess_comparison": info["ess_comparison"],
        }
    )


def matching(
    data: pd.DataFrame,
    outcome: str,
    *,
    covariates: list[str] | tuple[str, ...],
    replace: bool = False,
    caliper: float | None = None,
    caliper_scale: CaliperScale = "sd_logit",
    order: MatchOrder = "closest",
    seed: int | None = None,
    link: Link = "logit",
    missing: Missing = "raise",
    alpha: float = 0.05,
    cluster: str | None = None,
    cluster_se: Literal["CR1", "CR2"] = "CR1",
) -> dict:
    """ATT from greedy 1:1 nearest-neighbour matching on the logit propensity score.

    Parameters
    ----------
    data : DataFrame
        Columns ``group``, ``outcome`` and the covariates' variables; unique index. Rows
        with a missing outcome are dropped before the score is fitted.
    outcome : str
    covariates : list of str
        Patsy terms of the propensity model.
    replace, caliper, caliper_scale, order, seed
        As :func:`outcomes.analysis.propensity.match_nearest`: by default the closest
        available pair is formed first, and the result does not depend on the row order or
        the index labels (see Notes). ``order="data"`` brings back the row-order dependence.
    link : {"logit", "probit"}
    missing : {"raise", "drop"}
    alpha : float
    cluster, cluster_se : str, {"CR1", "CR2"}
        Cluster column, and the cluster-robust variant of the SE of the mean pair difference
        (see Notes).

    Returns
    -------
    dict
        The ancova keys, where ``n_participants`` is the number of matched participants,
        ``n_comparison`` the number of distinct comparison units used, and ``mean_*`` /
        ``sd_*`` are over the matched pairs (a reused comparison unit counts once per
        pair, so ``estimate = mean_participants - mean_comparison``); plus ``estimand``
        (``"ATT"``), ``n_unmatched`` (participants dropped by the caliper or left without a
        comparison unit), ``pairs`` (the :func:`match_nearest` table), ``link``.

    Notes
    -----
    Estimate: mean of the pair differences ``y_p - y_c`` over the matched participants.
    With a caliper that drops participants, it is the effect on the matched participants,
    not on all of them.

    Without replacement (``se_type = "paired"``): ``sd(d) / sqrt(m)`` with ``m - 1`` df over
    the ``m`` pair differences, the paired t interval. It equals the SE of the group
    coefficient in a regression on the matched sample clustered by pair (MatchIt's
    recommendation) with the ``G/(G-1)`` correction.

    With replacement (``se_type = "abadie_imbens"``): the variance of the population ATT
    with one match, following Abadie & Imbens (2006),
    ``[sum_pairs (d - estimate)^2 + sum_c K_c (K_c - 1) s2_c] / m^2``, where ``K_c`` is how
    often comparison unit ``c`` is used and ``s2_c = J/(J+1) (y_c - mean of its J = 2
    nearest comparison neighbours on the logit score)^2``; normal inference. When the
    second-nearest neighbour is tied with others (equal distance), all of them are used,
    with ``J`` their number (Abadie & Imbens's sets of matches likewise include ties), so
    that ``s2_c`` does not depend on the row order.

    Ties (units with equal scores, frequent with discrete covariates) are broken by the
    rule of :func:`~outcomes.analysis.propensity.match_nearest`, with ``tiebreak`` the
    unit's outcome and covariate values: a hash of them orders the units with
    equal scores, a random tie-break fixed by the data, so that neither the row order nor
    the pseudonyms (the index) change the estimate, its SE or the counts. Units equal in
    score and in all these values are interchangeable. With replacement, participants
    tied to the same group of comparison units take its members in turn. The SEs are
    computed over the pairs in the order they were formed, so even their rounding does not
    depend on the row order.

    Both treat the propensity score as known: they ignore its estimation (Abadie & Imbens
    2016 show that the correction can go either way for the ATT).

    With ``cluster`` (``se_type = "paired_CR1"`` or ``"paired_CR2_BM"``): the pairs are
    clustered by the participant's cluster and the SE is the cluster-robust SE of their mean
    (:func:`outcomes.analysis.clustering.cluster_mean_se`: CR1 with ``G - 1`` df, or CR2 with
    Bell-McCaffrey df), with or without replacement. It allows outcomes to be correlated
    within a school; it does not add the Abadie-Imbens term for reused comparison units.
    """
    check_option(caliper_scale, CaliperScale, "caliper_scale")
    check_option(order, MatchOrder, "order")
    frame, ps, _ = _prepare(
        data, outcome, covariates, link=link, missing=missing, alpha=alpha, cluster=cluster
    )
    se_type = "abadie_imbens" if replace else "paired"
    if cluster is not None:
        se_type = "paired_" + CLUSTER_SE_LABELS[cluster_se]
    summary = _summary(frame, outcome, alpha, se_type, cluster) | {"estimand": "ATT", "link": link}
    if ps is None:
        return summary | no_inference() | {"n_unmatched": np.nan, "pairs": None}
    # Tie-break on values that do not identify the unit (never the index, a pseudonym), and
    # not on the cluster, so that the pairs are the same with and without clustered SEs.
    terms = [covariates] if isinstance(covariates, str) else list(covariates)
    tie_columns = [outcome, *covariate_columns(frame, terms)]
    tiebreak = frame.loc[ps.scores.index, list(dict.fromkeys(tie_columns))]
    pairs = match_nearest(
        ps.scores, ps.treated, replace=replace, caliper=caliper,
        caliper_scale=caliper_scale, order=order, seed=seed, tiebreak=tiebreak,
    )  # fmt: skip
    # In the order the pairs were formed: free of the row order, so are the sums below.
    matched = pairs[pairs["status"] == "matched"].sort_values("pair")
    y = frame[outcome]
    y_p = y.loc[matched["treated"].to_list()].to_numpy(float)
    y_c = y.loc[matched["control"].to_list()].to_numpy(float)
    m = len(matched)
    summary |= {
        "n_participants": m,
        "n_comparison": int(matched["control"].nunique()),
        "mean_participants": float(y_p.mean()) if m else np.nan,
        "mean_comparison": float(y_c.mean()) if m else np.nan,
        "sd_participants": float(y_p.std(ddof=1)) if m > 1 else np.nan,
        "sd_comparison": float(y_c.std(ddof=1)) if m > 1 else np.nan,
        "n_unmatched": int(len(pairs) - m),
        "pairs": pairs,
    }
    if m < 2:
        return summary | no_inference()
    d = y_p - y_c
    estimate = d.mean()
    if cluster is not None:
        codes = pd.factorize(frame.loc[matched["treated"].to_list(), cluster].astype(str))[0]
        if len(np.unique(codes)) < 2:
            return summary | no_inference() | {"n_clusters": 1}
        fit = cluster_mean_se(d, codes, kind=cluster_se)
        return (
            summary
            | t_inference(estimate, fit["std_error"], fit["df"], alpha)
            | {"n_clusters": int(fit["n_clusters"])}
        )
    if not replace:
        se = d.std(ddof=1) / np.sqrt(m)
        return summary | t_inference(estimate, se, m - 1, alpha)

    controls = ps.treated.index[ps.treated == 0]
    uses = matched["control"].value_counts().reindex(controls, fill_value=0).to_numpy()
    logit = ps.logit.to_numpy()
    tol = tie_tolerance(logit)  # the scores as match_nearest compares them
    snapped = pd.Series(snap_ties(logit, tol), index=ps.logit.index)
    s2 = _within_group_variance(
        snapped.loc[controls].to_numpy(), y.loc[controls].to_numpy(float), tol
    )
    reuse = np.sort(uses * (uses - 1) * s2).sum()  # sorted: a sum free of the row order
    variance = (np.sum((d - estimate) ** 2) + reuse) / m**2
    return summary | t_inference(estimate, np.sqrt(variance), np.inf, alpha)


def did(
    data: pd.DataFrame,
    outcome: str,
    *,
    baseline: str,
    alpha: float = 0.05,
    se: Literal["welch", "CR1", "CR2"] = "welch",
    cluster: str | None = None,
) -> dict:
    """Difference-in-differences of change scores, participants minus comparison.

    Parameters
    ----------
    data : DataFrame
        One row per respondent with ``group``, the follow-up ``outcome`` and its
        ``baseline`` score; rows missing either are dropped.
    outcome : str
    baseline : str
        Column of the same measure at baseline (e.g. ``"phq9_baseline"``).
    alpha : float
    se, cluster : {"welch", "CR1", "CR2"}, str
        The SE of the difference in mean changes, as in
        :func:`~outcomes.analysis.estimators.unadjusted` (cluster-robust needs ``cluster``).

    Returns
    -------
    dict
        The ancova keys, with ``mean_*`` and ``sd_*`` of the follow-up outcome in the
        analysed sample (so that an effect size divides by the outcome's SD), plus
        ``estimand`` (``"ATT"``), ``mean_baseline_participants``,
        ``mean_baseline_comparison``, ``mean_change_participants``,
        ``mean_change_comparison``, ``sd_change_participants``, ``sd_change_comparison``.

    Notes
    -----
    Estimate: ``mean_p(y1 - y0) - mean_c(y1 - y0)``; SE and df by Welch on the change
    scores (``se_type = "welch"``). It is the ATT if both groups would have changed alike
    without the program (parallel trends), an assumption the data cannot check with two
    waves.

    Examples
    --------
    >>> panel = pd.DataFrame({"group": ["participant"] * 3 + ["comparison"] * 3,
    ...                       "y": [5.0, 6, 8, 4, 5, 5], "y_baseline": [4.0, 4, 5, 4, 4, 3]})
    >>> round(did(panel, "y", baseline="y_baseline")["estimate"], 4)
    1.0
    """
    _check_alpha(alpha)
    _check_columns(data, [outcome, baseline])
    frame = data[data[outcome].notna() & data[baseline].notna()]
    if se != "welch":
        frame = frame[frame[cluster].notna()] if cluster in frame else frame
    _check_groups(frame)
    change = frame.assign(change=frame[outcome] - frame[baseline])
    result = unadjusted(change, "change", alpha=alpha, se=se, cluster=cluster)
    follow = unadjusted(frame, outcome, alpha=alpha)
    base = unadjusted(frame, baseline, alpha=alpha)
    return result | {
        "estimand": "ATT",
        "mean_participants": follow["mean_participants"],
        "mean_comparison": follow["mean_comparison"],
        "sd_participants": follow["sd_participants"],
        "sd_comparison": follow["sd_comparison"],
        "mean_baseline_participants": base["mean_participants"],
        "mean_baseline_comparison": base["mean_comparison"],
        "mean_change_participants": result["mean_participants"],
        "mean_change_comparison": result["mean_comparison"],
        "sd_change_participants": result["sd_participants"],
        "sd_change_comparison": result["sd_comparison"],
        "rows": frame.index,
    }


def _prepare(
    data: pd.DataFrame,
    outcome: str,
    ps_terms,
    outcome_terms=None,
    *,
    link: str,
    missing: str,
    alpha: float,
    cluster: str | None = None,
) -> tuple[pd.DataFrame, PropensityModel | None, pd.DataFrame | None]:
    """Complete cases, the fitted propensity score and the outcome design (None if no terms).

    The score is None when a group has fewer than two units (no inference, as
    :func:`~outcomes.analysis.estimators.unadjusted`).
    """
    check_option(link, Link, "link")
    check_option(missing, Missing, "missing")
    _check_alpha(alpha)
    ps_terms = [ps_terms] if isinstance(ps_terms, str) else list(ps_terms)
    if isinstance(outcome_terms, str):
        outcome_terms = [outcome_terms]
    _check_columns(data, [outcome])
    if not data.index.is_unique:
        raise OutcomesError(
            "the data index has duplicate labels", expected="a unique index (reset_index())"
        )
    frame = data[data[outcome].notna()]
    if cluster is not None:
        _check_columns(data, [cluster])
        frame = frame[frame[cluster].notna()]  # a row without a cluster cannot be clustered
    _check_groups(frame)
    columns = covariate_columns(frame, [*ps_terms, *(outcome_terms or [])])
    rows = complete_rows(frame, columns, missing=missing, what="covariates")
    frame = frame.loc[rows].assign(participant=(frame.loc[rows, "group"] == GROUPS[0]))
    n_p = int(frame["participant"].sum())
    if n_p < 2 or len(frame) - n_p < 2:
        return frame, None, None
    ps = fit_propensity(frame, "participant", ps_terms, link=link)
    design = None
    if outcome_terms is not None:
        design = design_matrix(frame, list(outcome_terms), what="outcome model")
    return frame, ps, design


def _summary(
    frame: pd.DataFrame, outcome: str, alpha: float, se_type: str, cluster: str | None = None
) -> dict:
    """Sample sizes, raw means and SDs of the analysed rows (as the ancova keys), and the
    number of clusters (NaN without clusters)."""
    summary = unadjusted(frame, outcome, alpha=alpha)
    keep = {k: summary[k] for k in summary if k.startswith(("n_", "mean_", "sd_"))}
    clusters = frame[cluster].nunique() if cluster is not None else np.nan
    return keep | {"se_type": se_type, "rows": frame.index, "n_clusters": clusters}


def _sandwich(
    psi: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, clusters: np.ndarray | None = None
) -> tuple[np.ndarray, float]:
    """Covariance ``A^-1 B A^-T / n`` of the root of ``mean psi(theta) = 0``, and the df.

    ``A`` is the Jacobian of the mean estimating function (central differences), ``B`` the
    mean outer product of the per-unit estimating functions (HC0, as Stata and statsmodels'
    GMM; df infinite), or with ``clusters`` of the per-cluster sums times ``G/(G-1)``
    (df ``G - 1``).
    """
    moments = psi(theta)
    n = moments.shape[0]
    jacobian = approx_fprime(theta, lambda th: psi(th).mean(axis=0), centered=True)
    bread = np.linalg.inv(jacobian)
    if clusters is None:
        meat, df = moments.T @ moments / n, np.inf
    else:
        meat, df = cluster_meat(moments, clusters), len(np.unique(clusters)) - 1
    return bread @ meat @ bread.T / n, df


def _clusters(frame: pd.DataFrame, cluster: str | None) -> np.ndarray | None:
    """Integer cluster codes of the analysed rows, or None without clusters."""
    if cluster is None:
        return None
    return pd.factorize(frame[cluster].astype(str))[0]


def _m_label(cluster: str | None) -> str:
    return "m_estimation" if cluster is None else "m_estimation_CR1"


def _score_at(model, gamma: np.ndarray) -> np.ndarray:
    """Propensity score at parameters ``gamma`` (``model.predict`` without its overhead)."""
    return model.cdf(model.exog @ gamma)


def _contrast_se(cov: np.ndarray, weights) -> float:
    c = np.zeros(cov.shape[0])
    c[: len(weights)] = weights
    return float(np.sqrt(c @ cov @ c))


def _ols_within(z: np.ndarray, y: np.ndarray, mask: np.ndarray, names, group: str) -> np.ndarray:
    zg = z[mask]
    if np.linalg.matrix_rank(zg) < z.shape[1]:
        raise OutcomesError(
            f"the outcome model cannot be fitted within the {group} group: its covariates "
            "are collinear there (e.g. a category or value the group does not vary on)",
            expected="outcome covariates that vary within each group",
            found=", ".join(map(str, names)),
        )
    return np.linalg.lstsq(zg, y[mask], rcond=None)[0]


def _within_group_variance(score: np.ndarray, y: np.ndarray, tol: float) -> np.ndarray:
    """``J/(J+1) (y_i - mean of its J nearest same-group neighbours)^2`` on a line.

    ``score`` is tie-snapped (:func:`~outcomes.analysis.propensity.snap_ties`). The neighbours
    are every other unit at most as far as the ``AI_NEIGHBOURS``-th nearest (distances within
    ``tol`` are equal), so ``J`` is larger when that distance is tied; the result depends on
    the values only, not on the order of the units.
    """
    n = len(score)
    j = min(AI_NEIGHBOURS, n - 1)
    if j < 1:
        return np.zeros(n)
    by_value = np.lexsort((y, score))  # a value order, so that the sums are order-free too
    s, ys = score[by_value], y[by_value]
    offsets = np.r_[np.arange(-j, 0), np.arange(1, j + 1)]
    cand = np.arange(n)[:, None] + offsets[None, :]
    valid = (cand >= 0) & (cand < n)
    dist = np.where(valid, np.abs(s[np.clip(cand, 0, n - 1)] - s[:, None]), np.inf)
    reach = np.sort(dist, axis=1)[:, j - 1] + tol  # the j nearest lie within j positions
    lo = np.searchsorted(s, s - reach, side="left")
    hi = np.searchsorted(s, s + reach, side="right")
    centred = ys - ys.mean()  # smaller partial sums, less cancellation
    cumulative = np.r_[0.0, np.cumsum(centred)]
    count = hi - lo - 1
    others = (cumulative[hi] - cumulative[lo] - centred) / count
    s2 = np.empty(n)
    s2[by_value] = count / (count + 1) * (centred - others) ** 2
    return s2


def _check_alpha(alpha: float) -> None:
    if not isinstance(alpha, float | int) or not 0 < alpha < 1:
        raise OutcomesError(
            "alpha must lie between 0 and 1", expected="e.g. 0.05", found=repr(alpha)
        )


def _check_columns(data: pd.DataFrame, columns: list[str]) -> None:
    absent = [c for c in ["group", *columns] if c not in data.columns]
    if absent:
        raise OutcomesError(
            "the analysis data lacks a column the estimator needs",
            column=", ".join(absent),
            expected="a 'group' column and the outcome columns",
        )


def _check_groups(frame: pd.DataFrame) -> None:
    other = frame.loc[~frame["group"].isin(GROUPS), "group"]
    if len(other):
        raise OutcomesError(
            f"{len(other)} rows have a group other than participant/comparison",
            column="group",
            expected="'participant' or 'comparison'",
            found=", ".join(sorted({str(v) for v in other})[:5]),
        )
