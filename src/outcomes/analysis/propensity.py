"""Propensity scores of participation: the fitted model, balancing weights, overlap, matching.

The propensity score ``e(x) = P(participant | x)`` is fitted by a logit (default) or probit
model on patsy covariate terms. Everything downstream (weights, overlap diagnostics, 1:1
nearest-neighbour matching) takes the scores and the 0/1 participation indicator, so it works
with any score, not only one fitted here.
"""

from __future__ import annotations

import ast
import heapq
import warnings
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import patsy
from scipy import linalg
from statsmodels.discrete.discrete_model import Logit, Probit
from statsmodels.tools.sm_exceptions import ConvergenceWarning, PerfectSeparationWarning

from outcomes.analysis.balance import effective_sample_size
from outcomes.errors import OutcomesError
from outcomes.options import Estimand, check_option

Link = Literal["logit", "probit"]
Missing = Literal["raise", "drop"]
TruncateBy = Literal["quantile", "value"]
CaliperScale = Literal["sd_logit", "logit"]
MatchOrder = Literal["closest", "largest", "smallest", "random", "data"]
# Matching treats logit scores (and distances) as equal when they differ by at most this times
# max(1, max |logit|): the last-bit noise of a refitted score must not decide a match.
TIE_TOLERANCE = 1e-9

TERM_HINT = "column names or patsy terms such as C(gender), grade_level, I(age**2), x1:x2"


@dataclass
class PropensityModel:
    """A fitted propensity-score model.

    Attributes
    ----------
    scores : Series
        ``e(x)``, indexed by the rows used (``rows``), named ``propensity_score``.
    treated : Series
        The 0/1 participation indicator on the same rows.
    results : statsmodels BinaryResults
        The logit or probit fit (``results.model`` has ``predict`` and ``score_obs``).
    formula : str
        ``treatment ~ terms`` as fitted (an intercept is always included).
    rows : Index
        Index labels of the rows used (complete cases).
    link : {"logit", "probit"}
    """

    scores: pd.Series
    treated: pd.Series
    results: Any
    formula: str
    rows: pd.Index
    link: str

    @property
    def logit(self) -> pd.Series:
        """The linear predictor on the logit scale, ``log(e / (1 - e))``."""
        return np.log(self.scores / (1 - self.scores)).rename("logit_score")


def covariate_columns(data: pd.DataFrame, terms: list[str] | tuple[str, ...]) -> list[str]:
    """The columns of ``data`` that the patsy ``terms`` refer to, in order of first use.

    >>> frame = pd.DataFrame({"age": [1], "gender": ["f"], "grade": [9]})
    >>> covariate_columns(frame, ["C(gender)", "I(age**2)", "age:grade"])
    ['gender', 'age', 'grade']
    """
    names: list[str] = []
    for term in terms:
        try:
            desc = patsy.ModelDesc.from_formula(term)
            codes = [f.code for t in desc.rhs_termlist for f in t.factors]
            trees = [ast.parse(code, mode="eval") for code in codes]
        except (patsy.PatsyError, SyntaxError) as exc:
            raise OutcomesError(
                f"the covariate term {term!r} is not a valid patsy term",
                expected=TERM_HINT,
                found=str(exc).splitlines()[0],
            ) from None
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and node.id in data.columns:
                    names.append(node.id)
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id == "Q"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value in data.columns
                ):
                    names.append(node.args[0].value)
    return list(dict.fromkeys(names))


def complete_rows(
    data: pd.DataFrame, columns: list[str], *, missing: Missing = "raise", what: str = "model"
) -> pd.Index:
    """Index of the rows with no missing value in ``columns``.

    With ``missing="raise"`` any incomplete row raises :class:`OutcomesError`, naming each
    column with missing values and how many rows it leaves out; with ``"drop"`` the complete
    cases are returned.
    """
    check_option(missing, Missing, "missing")
    absent = [c for c in columns if c not in data.columns]
    if absent:
        raise OutcomesError(
            f"the {what} needs columns that the data does not have",
            column=", ".join(absent),
            expected="columns of the analysis data",
            found=", ".join(map(str, data.columns[:20])),
        )
    isna = data[columns].isna()
    incomplete = isna.any(axis=1)
    if incomplete.any() and missing == "raise":
        counts = isna.sum()
        counts = counts[counts > 0]
        raise OutcomesError(
            f"{int(incomplete.sum())} of {len(data)} rows have missing values in the {what}",
            column=", ".join(counts.index),
            expected="complete values, or missing='drop' to analyse complete cases only",
            found="; ".join(f"{col}: {int(n)} rows missing" for col, n in counts.items()),
        )
    return data.index[~incomplete.to_numpy()]


def design_matrix(
    data: pd.DataFrame, terms: list[str] | tuple[str, ...], *, what: str = "model"
) -> pd.DataFrame:
    """Intercept plus the patsy ``terms``, on complete data, checked for full column rank.

    Raises :class:`OutcomesError` naming the term that cannot be built, or the columns that
    are linear combinations of the others.
    """
    if not terms:  # patsy cannot size an intercept-only design from the data alone
        return pd.DataFrame({"Intercept": np.ones(len(data))}, index=data.index)
    formula = " + ".join(["1", *terms])
    # patsy classifies string columns value by value; pandas categoricals (same sorted
    # levels) are an order of magnitude faster on large panels.
    text = [
        c
        for c in covariate_columns(data, terms)
        if pd.api.types.is_object_dtype(data[c]) or pd.api.types.is_string_dtype(data[c])
    ]
    if text:
        data = data.assign(**{c: data[c].astype("category") for c in text})
    try:
        matrix = patsy.dmatrix(formula, data, return_type="dataframe", NA_action="raise")
    except Exception:  # patsy wraps user errors (NameError, TypeError...) in many types
        for term in terms:
            try:
                patsy.dmatrix(f"1 + {term}", data, NA_action="raise")
            except Exception as exc:
                raise OutcomesError(
                    f"the {what} term {term!r} cannot be built from the data",
                    column=term,
                    expected=TERM_HINT,
                    found=str(exc).splitlines()[0],
                ) from None
        raise
    values = matrix.to_numpy(float)
    if not np.isfinite(values).all():
        bad = matrix.columns[~np.isfinite(values).all(axis=0)]
        raise OutcomesError(
            f"the {what} design has infinite values",
            column=", ".join(bad),
            expected="finite covariate values (check transformations such as log of 0)",
        )
    _, r, pivots = linalg.qr(values, mode="economic", pivoting=True)
    tol = np.abs(r[0, 0]) * max(values.shape) * np.finfo(float).eps if r.size else 0.0
    rank = int((np.abs(np.diag(r)) > tol).sum())
    if rank < values.shape[1]:
        redundant = [matrix.columns[i] for i in sorted(pivots[rank:])]
        raise OutcomesError(
            f"the {what} covariates are collinear (rank {rank} for {values.shape[1]} columns)",
            column=", ".join(redundant),
            expected="covariates that are not constant and not combinations of each other",
            found=f"redundant: {', '.join(redundant)}",
        )
    return matrix


def fit_propensity(
    data: pd.DataFrame,
    treatment: str,
    covariates: list[str] | tuple[str, ...] = (),
    *,
    link: Link = "logit",
    missing: Missing = "raise",
) -> PropensityModel:
    """Fit the propensity score ``e(x) = P(treatment = 1 | x)`` by maximum likelihood.

    Parameters
    ----------
    data : DataFrame
        One row per unit, with a unique index.
    treatment : str
        Column holding 1 (participant) or 0 (comparison); booleans are accepted.
    covariates : list of str
        Patsy terms, e.g. ``"C(gender)"``, ``"grade_level"``, ``"I(age**2)"``, ``"x1:x2"``.
        An intercept is always included; no terms gives a constant score.
    link : {"logit", "probit"}
        Logistic (default, the usual choice) or probit (Stata's ``teffects`` examples).
    missing : {"raise", "drop"}
        What to do with rows missing the treatment or a covariate: ``"raise"`` (default)
        stops with the columns and row counts; ``"drop"`` fits on complete cases.

    Returns
    -------
    PropensityModel
        ``scores``, ``treated``, ``results``, ``formula``, ``rows``, ``link``.

    Raises
    ------
    OutcomesError
        A term cannot be built, covariates are collinear, rows are incomplete
        (``missing="raise"``), the treatment is not 0/1 or has one group only, or the fit
        separates the groups (perfectly or quasi-perfectly) or does not converge.

    Notes
    -----
    Newton-Raphson, at most 100 iterations. Non-convergence is almost always
    (quasi-)separation: a covariate or a category that only one group has. Such units have
    no comparable counterpart; drop or coarsen the covariate, or restrict the sample.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> frame = pd.DataFrame({"age": rng.normal(15, 2, 200)})
    >>> frame["joined"] = (rng.random(200) < 1 / (1 + np.exp(-(frame["age"] - 15)))).astype(int)
    >>> model = fit_propensity(frame, "joined", ["age"])
    >>> model.formula
    'joined ~ age'
    >>> len(model.scores), bool(model.scores.between(0, 1).all())
    (200, True)
    """
    check_option(link, Link, "link")
    check_option(missing, Missing, "missing")
    terms = [covariates] if isinstance(covariates, str) else list(covariates)
    if not data.index.is_unique:
        raise OutcomesError(
            "the data index has duplicate labels", expected="a unique index (reset_index())"
        )
    columns = [treatment, *covariate_columns(data, terms)]
    rows = complete_rows(data, columns, missing=missing, what="propensity model")
    frame = data.loc[rows]
    treated = _as_treated(frame[treatment], len(frame), name=treatment)
    if treated.min() == treated.max():
        raise OutcomesError(
            "the propensity model needs both groups",
            column=treatment,
            expected="rows with 1 (participants) and rows with 0 (comparison)",
            found=f"only {int(treated[0])} in {len(treated)} complete rows",
        )
    exog = design_matrix(frame, terms, what="propensity model")
    model = (Logit if link == "logit" else Probit)(treated.astype(float), exog)
    formula = f"{treatment} ~ {' + '.join(terms) or '1'}"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            results = model.fit(disp=0, maxiter=100)
        except np.linalg.LinAlgError as exc:
            raise OutcomesError(
                "the propensity model cannot be fitted", found=f"{formula}: {exc}"
            ) from None
    scores = np.asarray(results.predict(), dtype=float)
    extreme = int(((scores < 1e-8) | (scores > 1 - 1e-8)).sum())
    separated = any(issubclass(w.category, PerfectSeparationWarning) for w in caught)
    converged = bool(results.mle_retvals.get("converged", True))
    if separated or not converged or extreme:
        raise OutcomesError(
            "the propensity model separates participants from the comparison group"
            if separated or extreme
            else "the propensity model did not converge",
            expected="covariates on which both groups overlap (see overlap_table); drop or "
            "coarsen a covariate or category that only one group has",
            found=f"{formula}: {extreme} of {len(scores)} rows with a score within 1e-8 of 0 "
            f"or 1; converged: {converged}",
        )
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning | PerfectSeparationWarning):
            warnings.warn(w.message, w.category, stacklevel=2)
    return PropensityModel(
        scores=pd.Series(scores, index=rows, name="propensity_score"),
        treated=pd.Series(treated, index=rows, name=treatment),
        results=results,
        formula=formula,
        rows=rows,
        link=link,
    )


def balancing_weights(
    scores,
    treated,
    estimand: Estimand = "ATT",
    *,
    stabilize: bool = False,
    truncate: tuple[float | None, float | None] | None = None,
    truncate_by: TruncateBy = "quantile",
) -> tuple[np.ndarray, dict]:
    """Propensity-score weights that balance the groups for an estimand.

    Parameters
    ----------
    scores : array-like
        Propensity scores, strictly between 0 and 1.
    treated : array-like
        1 (participant) or 0 (comparison), same length and order.
    estimand : {"ATT", "ATE", "ATO"}
        ``ATT`` (odds weights): 1 for participants, ``e/(1-e)`` for the comparison group,
        which reweights it to the participants' covariate distribution. ``ATE`` (inverse
        probability): ``1/e`` and ``1/(1-e)``. ``ATO`` (overlap weights, Li, Morgan &
        Zaslavsky 2018): ``1-e`` and ``e``, which targets the population with most overlap
        and cannot explode.
    stabilize : bool
        ATE only: multiply by the marginal share of the unit's group (``P(T=1)`` for
        participants, ``P(T=0)`` for comparison), so each group's weights sum to its size in
        expectation. Normalized (Hajek) estimators are unchanged by it.
    truncate : (lower, upper), optional
        Winsorize the weights within each group at these bounds; either may be None.
    truncate_by : {"quantile", "value"}
        Whether ``truncate`` gives quantiles of the group's weights (e.g. ``(0.01, 0.99)``,
        numpy's linear interpolation) or absolute weight values (e.g. ``(None, 20)``).

    Returns
    -------
    weights : ndarray
        In the input order.
    info : dict
        ``estimand``, ``stabilized``, ``n_truncated_participants``, ``n_truncated_comparison``
        (weights moved to a bound), ``bounds_participants``, ``bounds_comparison`` (the
        bounds applied, or None), ``ess_participants``, ``ess_comparison`` (Kish effective
        sample size ``(sum w)^2 / sum w^2`` of the final weights).

    Examples
    --------
    >>> w, info = balancing_weights([0.2, 0.5, 0.8], [1, 0, 0], "ATT")
    >>> w.round(6).tolist(), round(info["ess_comparison"], 4)
    ([1.0, 1.0, 4.0], 1.4706)
    """
    check_option(estimand, Estimand, "estimand")
    check_option(truncate_by, TruncateBy, "truncate_by")
    e = _as_scores(scores)
    t = _as_treated(treated, len(e))
    if estimand == "ATT":
        weights = np.where(t == 1, 1.0, e / (1 - e))
    elif estimand == "ATE":
        weights = np.where(t == 1, 1 / e, 1 / (1 - e))
    else:
        weights = np.where(t == 1, 1 - e, e)
    if stabilize:
        if estimand != "ATE":
            raise OutcomesError(
                f"stabilize applies to ATE weights, not {estimand}",
                expected="stabilize=False, or estimand='ATE'",
            )
        share = t.mean()
        weights = weights * np.where(t == 1, share, 1 - share)
    info: dict = {"estimand": estimand, "stabilized": bool(stabilize)}
    for group, label in ((1, "participants"), (0, "comparison")):
        mask = t == group
        bounds = None
        n_truncated = 0
        if truncate is not None and mask.any():
            lower, upper = _truncation_bounds(weights[mask], truncate, truncate_by)
            n_truncated = int(((weights[mask] < lower) | (weights[mask] > upper)).sum())
            weights[mask] = np.clip(weights[mask], lower, upper)
            bounds = (float(lower), float(upper))
        info[f"n_truncated_{label}"] = n_truncated
        info[f"bounds_{label}"] = bounds
    for group, label in ((1, "participants"), (0, "comparison")):
        own = weights[t == group]
        info[f"ess_{label}"] = effective_sample_size(own) if own.any() else 0.0
    return weights, info


def overlap_table(scores, treated) -> pd.DataFrame:
    """Distribution of the propensity score by group, and who lies outside common support.

    Parameters
    ----------
    scores, treated : array-like
        Propensity scores and the 0/1 participation indicator, same order.

    Returns
    -------
    DataFrame
        One row per group (``participant``, ``comparison``) with ``group``, ``n``, ``min``,
        ``p05``, ``median``, ``p95``, ``max`` (numpy's linear quantiles),
        ``n_below_other_min`` and ``n_above_other_max`` (units whose score is below the
        smallest / above the largest score of the other group) and ``n_outside_other``
        (their sum: units with no counterpart of similar score).

    Examples
    --------
    >>> table = overlap_table([0.1, 0.4, 0.9, 0.2, 0.3, 0.5], [1, 1, 1, 0, 0, 0])
    >>> table[["group", "n", "n_below_other_min", "n_above_other_max"]]
             group  n  n_below_other_min  n_above_other_max
    0  participant  3                  1                  1
    1   comparison  3                  0                  0
    """
    e = _as_scores(scores, strict=False)
    t = _as_treated(treated, len(e))
    rows = []
    for group, label in ((1, "participant"), (0, "comparison")):
        own, other = e[t == group], e[t != group]
        q = np.quantile(own, [0, 0.05, 0.5, 0.95, 1]) if len(own) else np.full(5, np.nan)
        below = int((own < other.min()).sum()) if len(other) else len(own)
        above = int((own > other.max()).sum()) if len(other) else 0
        rows.append(
            {"group": label, "n": len(own), "min": q[0], "p05": q[1], "median": q[2],
             "p95": q[3], "max": q[4], "n_below_other_min": below,
             "n_above_other_max": above, "n_outside_other": below + above}
        )  # fmt: skip
    return pd.DataFrame(rows)


def trim_to_common_support(scores, treated) -> pd.Series:
    """Which units lie in the common support of the two groups' scores (min-max rule).

    A unit is kept when its score lies in ``[max(min_p, min_c), min(max_p, max_c)]``, the
    range both groups cover (MatchIt's ``discard = "both"``).

    Returns
    -------
    Series of bool
        Indexed like ``scores`` when it is a Series, else 0..n-1; True = keep.

    Examples
    --------
    >>> trim_to_common_support([0.1, 0.4, 0.9, 0.2, 0.3, 0.5], [1, 1, 1, 0, 0, 0]).tolist()
    [False, True, False, True, True, True]
    """
    e = _as_scores(scores, strict=False)
    t = _as_treated(treated, len(e))
    low = max(e[t == 1].min(), e[t == 0].min())
    high = min(e[t == 1].max(), e[t == 0].max())
    index = scores.index if isinstance(scores, pd.Series) else pd.RangeIndex(len(e))
    return pd.Series((e >= low) & (e <= high), index=index, name="common_support")


def match_nearest(
    scores,
    treated,
    *,
    replace: bool = False,
    caliper: float | None = None,
    caliper_scale: CaliperScale = "sd_logit",
    order: MatchOrder = "closest",
    seed: int | None = None,
    tiebreak=None,
) -> pd.DataFrame:
    """Greedy 1:1 nearest-neighbour matching on the logit of the propensity score (for ATT).

    Every participant (``treated == 1``) gets a comparison unit whose logit score is close,
    ``|logit(e_p) - logit(e_c)|``. With the default ``order`` the result does not depend on
    the order of the rows (see Notes).

    Parameters
    ----------
    scores : Series or array-like
        Propensity scores strictly between 0 and 1; a Series' index labels name the units.
    treated : array-like
        1 (participant) or 0 (comparison), in the order of ``scores``.
    replace : bool
        False (default): a comparison unit is used at most once, pairs are formed one at a
        time in ``order`` and each participant takes the nearest unit still available.
        True: each participant takes the nearest comparison unit, which may serve several
        (order then only decides which of several tied units a participant gets).
    caliper : float, optional
        Maximum distance; a participant whose nearest available comparison unit is farther
        is dropped (not matched). None (default) matches everyone while controls remain.
        Austin (2011) recommends 0.2 SD of the logit score.
    caliper_scale : {"sd_logit", "logit"}
        ``sd_logit``: ``caliper`` is in standard deviations of the logit score, pooled over
        groups as ``sqrt((s_p^2 + s_c^2) / 2)`` (ddof = 1, Austin 2011); ``logit``: in logit
        units.
    order : {"closest", "largest", "smallest", "random", "data"}
        Order in which pairs are formed (matters without replacement). ``"closest"``
        (default): the closest pair of an available participant and an available comparison
        unit first, then the closest of the rest, and so on ("best match first"); it depends
        on the scores only. ``"largest"`` / ``"smallest"``: participants choose in
        decreasing / increasing score (``"largest"`` is MatchIt's default for propensity
        scores), within equal scores in ``tiebreak`` order; equally far from a unit above
        and one below, a participant takes the one on the side already passed (above /
        below), which the participants still to come need least. With a caliper both drift:
        the units on the side already passed are used up, so the matches lie on one side
        (lower scores for ``"largest"``), which biases the estimate when the outcome rises
        with the score. ``"random"``: a permutation, drawn with ``seed``, of the
        largest-first order (for a given seed free of the row order too). ``"data"``:
        participants choose as the rows come, so the result depends on the row order (kept
        to reproduce earlier results; not recommended).
    seed : int, optional
        Seed of ``numpy.random.default_rng`` for ``order="random"``.
    tiebreak : DataFrame, Series or array-like, optional
        Values of each unit, in the order of ``scores``, that decide between units with
        equal scores. Each row is hashed (``pandas.util.hash_pandas_object`` without the
        index), so only equality of the values matters, not their size. Pass values that do
        not identify the unit (not a pseudonym or row number):
        :func:`outcomes.analysis.causal.matching` passes the outcome, the covariates and the
        cluster. None (default): units with equal scores are taken in data order.

    Returns
    -------
    DataFrame
        One row per participant, in data order: ``treated`` and ``control`` (unit labels;
        ``control`` is None when unmatched), ``distance`` (logit units; for a caliper drop,
        the distance to the nearest unit left at the end, or at its turn for the orders in
        which participants choose), ``pair`` (0, 1, ... in the order the pairs were formed;
        <NA> when unmatched), ``match_order`` (when the participant was matched or, for
        the unmatched, dropped) and ``status``: ``matched``, ``caliper`` (nearest unit
        beyond the caliper) or ``no_controls_left`` (without replacement, all comparison
        units used). The caliper in logit units is in ``attrs["caliper_logit"]``.

    Notes
    -----
    The rule, with the default ``order="closest"``:

    1. Logit scores that differ by at most ``TIE_TOLERANCE`` (1e-9) times
       ``max(1, max |logit|)`` count as equal, and so do two distances: a propensity model
       refitted on reordered rows changes the scores in their last bits, which must not
       decide a match.
    2. Without replacement, the closest available pair is formed first, then the closest
       of the rest, and so on. Among equally close pairs, the one with the higher
       participant score goes first; a participant equally far from a unit above and one
       below takes the one above.
    3. Which of several units with equal scores (in either group) is used follows the hash
       order of their ``tiebreak`` values: the units are lined up by score, then hash, and
       pairs are formed between neighbours in that line. With replacement each participant
       takes its nearest unit, and the participants that share a group of tied units take
       its members in turn (in hash order; closest participants first), instead of all
       taking one.

    In the other orders participants choose in turn, each taking the nearest available
    unit: equally far above and below as described under ``order`` (above for ``"data"``
    and ``"random"``), among tied units the first available in hash order.

    Everything but the identity of units with equal scores (the distances, statuses, which
    score each participant is matched to, and how often) follows from the scores alone. The
    hashes act as a random tie-break fixed by the data's values, so it does not favour small
    or large values (ordering tied units by their outcome would, when a tied group is only
    partly used). Units equal in score and in their ``tiebreak`` values are taken in data
    order: they are interchangeable for any estimate computed from those values. Without
    ``tiebreak``, which of several tied units is matched depends on the row order.

    A distance equal to the caliper is accepted. Greedy matching is not optimal matching: an
    early pair may take the unit a later one needed. Stata's ``teffects psmatch`` and R's
    ``Matching`` instead use all tied units, with weights. Runs in ``O(n log n)``.

    Examples
    --------
    >>> pairs = match_nearest(pd.Series([0.5, 0.6, 0.45, 0.7, 0.62], index=list("abcde")),
    ...                       [1, 1, 0, 0, 0])
    >>> pairs[["treated", "control", "match_order", "status"]]
      treated control  match_order   status
    0       a       c            1  matched
    1       b       e            0  matched
    """
    check_option(caliper_scale, CaliperScale, "caliper_scale")
    check_option(order, MatchOrder, "order")
    e = _as_scores(scores)
    t = _as_treated(treated, len(e))
    labels = scores.index if isinstance(scores, pd.Series) else pd.RangeIndex(len(e))
    raw = np.log(e / (1 - e))
    tol = tie_tolerance(raw)
    x = snap_ties(raw, tol)
    key = tie_keys(tiebreak, len(e))
    treated_pos = np.flatnonzero(t == 1)
    control_pos = np.flatnonzero(t == 0)
    x_t, x_c = x[treated_pos], x[control_pos]
    k_t, k_c = key[treated_pos], key[control_pos]
    width = np.inf
    if caliper is not None:
        if not np.isfinite(caliper) or caliper < 0:
            raise OutcomesError("caliper must be a non-negative number", found=repr(caliper))
        width = caliper
        if caliper_scale == "sd_logit":
            # Sorted, so that the sums (and the width) do not depend on the row order.
            spread = [
                np.var(np.sort(raw[pos]), ddof=1) if len(pos) > 1 else 0.0
                for pos in (treated_pos, control_pos)
            ]
            width = caliper * np.sqrt(np.mean(spread))
    n_t = len(x_t)
    position = np.arange(n_t)
    sequence = None  # "closest": the order in which the pairs are formed
    if order in ("largest", "random"):
        sequence = np.lexsort((position, k_t, -x_t))
        if order == "random":
            sequence = sequence[np.random.default_rng(seed).permutation(n_t)]
    elif order == "smallest":
        sequence = np.lexsort((position, k_t, x_t))
    elif order == "data":
        sequence = position
    if replace:
        chosen, distance, sequence = _with_replacement(x_t, x_c, k_t, k_c, sequence, width, tol)
    elif order == "closest":
        chosen, distance, sequence = _closest_first(x_t, x_c, k_t, k_c, width, tol)
    else:
        chosen, distance = _in_turn(x_t, x_c, k_c, sequence, width, tol, order != "smallest")
    status = np.where(chosen < 0, "no_controls_left", "matched").astype(object)
    beyond = (chosen >= 0) & (distance > width)
    status[beyond] = "caliper"
    matched = status == "matched"
    step = np.empty(n_t, dtype=int)
    step[sequence] = position
    pair = np.full(n_t, -1)
    in_order = sequence[matched[sequence]]
    pair[in_order] = np.arange(len(in_order))
    control_labels = labels[control_pos]
    result = pd.DataFrame(
        {
            "treated": labels[treated_pos],
            "control": pd.Series(
                [control_labels[c] if ok else None for c, ok in zip(chosen, matched, strict=True)],
                dtype=object,
            ),
            "distance": np.where(chosen >= 0, distance, np.nan),
            "pair": pd.array(np.where(matched, pair, 0), dtype="Int64"),
            "match_order": step,
            "status": status.astype(str),
        }
    )
    result.loc[~matched, "pair"] = pd.NA
    result.attrs["caliper_logit"] = float(width)
    return result


def tie_tolerance(x: np.ndarray) -> float:
    """Logit scores (or distances) at most this far apart count as equal in matching:
    ``TIE_TOLERANCE * max(1, max |x|)``, far above the rounding noise of a fitted score."""
    return TIE_TOLERANCE * max(1.0, float(np.max(np.abs(x), initial=0.0)))


def snap_ties(x: np.ndarray, tol: float) -> np.ndarray:
    """``x`` with each run of values at most ``tol`` apart (in sorted order) set to its
    smallest value, so that values equal but for rounding noise become exactly equal.

    >>> snap_ties(np.array([2.0, 1.0, 1.0 + 1e-12, 3.0]), 1e-9).tolist()
    [2.0, 1.0, 1.0, 3.0]
    """
    order = np.argsort(x, kind="stable")
    s = x[order]
    new = np.r_[True, np.diff(s) > tol]
    snapped = np.empty_like(s)
    snapped[order] = s[new][np.cumsum(new) - 1]
    return snapped


def tie_keys(tiebreak, n: int) -> np.ndarray:
    """One unsigned 64-bit hash per unit of the ``tiebreak`` values (zeros without them).

    The hash of a row depends on its values only, not on its index label or position.
    """
    if tiebreak is None:
        return np.zeros(n, dtype=np.uint64)
    frame = pd.DataFrame(tiebreak)
    if len(frame) != n:
        raise OutcomesError(
            f"tiebreak has {len(frame)} rows for {n} scores", expected="one row per unit"
        )
    hashed = pd.util.hash_pandas_object(frame.reset_index(drop=True), index=False)
    return hashed.to_numpy(dtype=np.uint64)


def _sorted_controls(x_c: np.ndarray, k_c: np.ndarray) -> np.ndarray:
    """Controls in (score, tie key, data position) order: a tied group is a run."""
    return np.lexsort((np.arange(len(x_c)), k_c, x_c))


def _nearest_group(
    x_t: np.ndarray, s: np.ndarray, tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each ``x_t``, the run ``[start, end)`` of the sorted (non-empty) ``s`` with the
    nearest value, and the distance; equally far (within ``tol``) above and below: above."""
    n_c = len(s)
    insert = np.searchsorted(s, x_t, side="left")  # start of the first run >= x_t
    left = np.maximum(insert - 1, 0)
    right = np.minimum(insert, n_c - 1)
    d_left = np.where(insert > 0, x_t - s[left], np.inf)
    d_right = np.where(insert < n_c, s[right] - x_t, np.inf)
    take_left = (d_left < d_right) & (np.abs(d_left - d_right) > tol)
    start = np.where(take_left, np.searchsorted(s, s[left], side="left"), right)
    end = np.where(take_left, left + 1, np.searchsorted(s, s[right], side="right"))
    return start, end, np.where(take_left, d_left, d_right)


def _with_replacement(x_t, x_c, k_t, k_c, sequence, width, tol):
    """Each participant's nearest control; the participants that share a tied run take its
    members in turn, in ``sequence`` order (None: closest first, then higher score, then
    key). Returns the chosen control positions, the distances and the sequence."""
    n_t = len(x_t)
    position = np.arange(n_t)
    if len(x_c) == 0:
        if sequence is None:
            sequence = np.lexsort((position, k_t, -x_t))
        return np.full(n_t, -1), np.full(n_t, np.nan), sequence
    by_score = _sorted_controls(x_c, k_c)
    start, end, distance = _nearest_group(x_t, x_c[by_score], tol)
    if sequence is None:
        sequence = np.lexsort((position, k_t, -x_t, np.rint(distance / tol)))
    step = np.empty(n_t, dtype=int)
    step[sequence] = position
    within = np.flatnonzero(distance <= width)
    turns = within[np.lexsort((step[within], start[within]))]
    rank = np.zeros(n_t, dtype=int)
    rank[turns] = np.arange(len(turns)) - np.searchsorted(start[turns], start[turns])
    return by_score[start + rank % (end - start)], distance, sequence


def _closest_first(x_t, x_c, k_t, k_c, width, tol):
    """Without replacement, closest available pair first.

    On a line the closest pair of a participant and a control is adjacent in the sorted
    order of the units left, so a heap of adjacent mixed pairs suffices: forming a pair
    removes both units and makes their outer neighbours adjacent. Heap key: the distance
    in units of ``tol`` (so that distances equal but for rounding tie), then the higher
    participant score, its key, the higher control score, its key. Pairs beyond ``width``
    are never formed. Returns the chosen control positions (for the unmatched, the nearest
    control left, -1 if none), the distances and the order (the pairs as formed, then the
    unmatched from the highest score).
    """
    n_t, n_c = len(x_t), len(x_c)
    chosen = np.full(n_t, -1)
    distance = np.full(n_t, np.nan)
    values = np.r_[x_t, x_c]
    units = np.lexsort((np.arange(n_t + n_c), np.r_[k_t, k_c], values))
    n = len(units)
    v = values[units].tolist()
    keys = np.r_[k_t, k_c][units].tolist()
    unit = units.tolist()
    is_p = (units < n_t).tolist()
    prev, nxt = list(range(-1, n - 1)), list(range(1, n + 1))
    alive = [True] * n

    def entry(a: int, b: int) -> tuple:  # a < b adjacent, one participant and one control
        p, c = (a, b) if is_p[a] else (b, a)
        d = v[b] - v[a]
        return (round(d / tol), -v[p], keys[p], -v[c], keys[c], p, c, d)

    heap = [entry(a, a + 1) for a in range(n - 1) if is_p[a] != is_p[a + 1]]
    heapq.heapify(heap)
    formed = []
    while heap:
        *_, p, c, d = heapq.heappop(heap)
        if d > width or not (alive[p] and alive[c]):
            continue
        alive[p] = alive[c] = False
        i = unit[p]
        chosen[i], distance[i] = unit[c] - n_t, d
        formed.append(i)
        left, right = prev[min(p, c)], nxt[max(p, c)]
        if left >= 0:
            nxt[left] = right
        if right < n:
            prev[right] = left
        if left >= 0 and right < n and is_p[left] != is_p[right]:
            heapq.heappush(heap, entry(left, right))
    rest = [unit[k] for k in range(n) if alive[k] and is_p[k]]
    rest.sort(key=lambda i: (-x_t[i], k_t[i], i))
    controls_left = np.array([unit[k] - n_t for k in range(n) if alive[k] and not is_p[k]], int)
    if rest and len(controls_left):  # caliper drops: the nearest control left
        idx = np.array(rest)
        start, _, gap = _nearest_group(x_t[idx], x_c[controls_left], tol)
        chosen[idx], distance[idx] = controls_left[start], gap
    return chosen, distance, np.array(formed + rest, dtype=int)


def _in_turn(
    x_t: np.ndarray,
    x_c: np.ndarray,
    k_c: np.ndarray,
    sequence: np.ndarray,
    width: float,
    tol: float,
    prefer_higher: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Without replacement, participants choose in ``sequence``: position (into x_c) of
    each one's nearest available control, -1 if none.

    Distances within ``tol`` of each other are ties, won by the higher score when
    ``prefer_higher`` (else the lower); within equal scores the first available in
    (key, position) order. A control is used up only when it is within ``width``.
    """
    n_t, n_c = len(x_t), len(x_c)
    chosen = np.full(n_t, -1)
    distance = np.full(n_t, np.nan)
    if n_c == 0:
        return chosen, distance
    by_score = _sorted_controls(x_c, k_c)
    s = x_c[by_score]
    starts = np.searchsorted(s, s, side="left").tolist()
    inserts = np.searchsorted(s, x_t, side="left").tolist()
    s_list, x_list = s.tolist(), x_t.tolist()
    # Union-find "next available" pointers to the right and left.
    right_parent = np.arange(n_c + 1)  # n_c = none to the right
    left_parent = np.arange(n_c + 1)  # shifted by one: 0 = none to the left
    for i in sequence.tolist():
        r = _find(right_parent, inserts[i])  # the first available unit of its run
        left = _find(left_parent, inserts[i]) - 1
        if r >= n_c and left < 0:
            continue
        if left >= 0:  # the first available unit of its equal-score run
            left = _find(right_parent, starts[left])
        d_r = s_list[r] - x_list[i] if r < n_c else np.inf
        d_l = x_list[i] - s_list[left] if left >= 0 else np.inf
        take_left = (not prefer_higher) if abs(d_l - d_r) <= tol else d_l < d_r
        j, d = (left, d_l) if take_left else (r, d_r)
        chosen[i], distance[i] = by_score[j], d
        if d <= width:
            right_parent[j] = j + 1
            left_parent[j + 1] = j
    return chosen, distance


def _find(parent: np.ndarray, i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:  # path compression
        parent[i], i = root, parent[i]
    return int(root)


def _truncation_bounds(weights, truncate, truncate_by) -> tuple[float, float]:
    try:
        lower, upper = truncate
    except (TypeError, ValueError):
        raise OutcomesError(
            "truncate must be a pair (lower, upper)", found=repr(truncate)
        ) from None
    if truncate_by == "quantile":
        q_low = 0.0 if lower is None else float(lower)
        q_high = 1.0 if upper is None else float(upper)
        if not 0 <= q_low < q_high <= 1:
            raise OutcomesError(
                "truncation quantiles must satisfy 0 <= lower < upper <= 1",
                found=repr(truncate),
            )
        low, high = np.quantile(weights, [q_low, q_high])
        return float(low), float(high)
    low = -np.inf if lower is None else float(lower)
    high = np.inf if upper is None else float(upper)
    if not low < high:
        raise OutcomesError("truncation bounds must satisfy lower < upper", found=repr(truncate))
    return low, high


def _as_scores(scores, *, strict: bool = True) -> np.ndarray:
    e = np.asarray(scores, dtype=float).ravel()
    inside = (e > 0) & (e < 1) if strict else (e >= 0) & (e <= 1)
    if not inside.all():
        raise OutcomesError(
            "propensity scores must lie strictly between 0 and 1"
            if strict
            else "propensity scores must lie between 0 and 1",
            found=f"{int((~inside).sum())} of {len(e)} scores outside (or missing)",
        )
    return e


def _as_treated(treated, n: int, *, name: str = "treated") -> np.ndarray:
    values = pd.Series(treated).to_numpy()
    if len(values) != n:
        raise OutcomesError(
            f"{name} has {len(values)} values for {n} scores", expected="one per unit"
        )
    try:
        numeric = values.astype(float)
    except (TypeError, ValueError):
        numeric = np.full(len(values), np.nan)
    if not np.isin(numeric, (0.0, 1.0)).all():
        found = sorted({str(v) for v in values[~np.isin(numeric, (0.0, 1.0))]})[:5]
        raise OutcomesError(
            f"{name} must be 0 or 1 for every unit",
            column=name,
            expected="1 for participants, 0 for comparison (or True/False)",
            found=", ".join(found),
        )
    return numeric.astype(int)


def matching_weights(pairs: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Weights of a 1:1 match for balance checks: 1 for each matched participant, and for
    each comparison unit the number of times it was used (0 when never matched)."""
    matched = pairs[pairs["status"] == "matched"]
    weights = pd.Series(0.0, index=index)
    weights.loc[matched["treated"].to_numpy()] = 1.0
    uses = matched["control"].value_counts()
    weights.loc[uses.index] = weights.loc[uses.index] + uses.to_numpy(float)
    return weights
