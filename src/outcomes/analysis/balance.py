"""Covariate balance between participants and comparison students (cobalt and WWC conventions).

The functions take one covariate at a time; :func:`balance_table` stacks them for a data set,
before and after each adjustment (weighting or matching), into one tidy table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import numpy as np
import pandas as pd

from outcomes.analysis.effect_sizes import cox_index, pooled_sd, small_sample_correction
from outcomes.errors import OutcomesError

Estimand = Literal["ATT", "ATC", "ATE", "ATO"]
SdDenominator = Literal["treated", "control", "pooled", "all", "hedges"]
BinaryRule = Literal["raw", "std"]
WwcCategory = Literal["satisfies", "requires_adjustment", "does_not_satisfy"]

#: WWC baseline-equivalence limits on the absolute standardized difference (domain ref 3.5).
WWC_SATISFIES = 0.05
WWC_REQUIRES_ADJUSTMENT = 0.25
#: Slack when comparing with the limits, so that a value that is 0.25 up to floating-point
#: rounding (e.g. 0.25000000000000006) is classed as 0.25.
WWC_TOLERANCE = 1e-9

UNADJUSTED = "unadjusted"

BALANCE_COLUMNS = [
    "covariate", "type", "adjustment", "mean_participants", "mean_comparison", "smd",
    "variance_ratio", "ks", "wwc_effect_size", "wwc_category", "ess_participants",
    "ess_comparison",
]  # fmt: skip


# --- argument checks --------------------------------------------------------------------------


def _check_option(name: str, value, options) -> None:
    allowed = get_args(options)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")


def _weights_problem(weights: np.ndarray, group: np.ndarray) -> str | None:
    """What is wrong with a weights vector for a two-group comparison, or None."""
    if not np.all(np.isfinite(weights)):
        return f"{int(np.sum(~np.isfinite(weights)))} weights are missing or infinite"
    if np.any(weights < 0):
        return f"{int(np.sum(weights < 0))} weights are negative"
    for label, members in (("participants", group), ("comparison", ~group)):
        if not np.any(weights[members] > 0):
            return f"every weight among the {label} is zero"
    return None


def _as_group(treated, n: int) -> np.ndarray:
    values = np.asarray(treated)
    if values.ndim != 1 or len(values) != n:
        raise ValueError(
            f"treated must be 1-D with one entry per value of x ({n}); got {values.shape}"
        )
    if values.dtype == bool:
        group = values
    else:
        try:
            numeric = values.astype(float)
        except (TypeError, ValueError):
            numeric = np.full(n, np.nan)
        bad = ~np.isin(numeric, (0.0, 1.0))
        if bad.any():
            found = ", ".join(map(repr, pd.unique(values[bad])[:5]))
            raise ValueError(f"treated must hold only 0/1 or False/True; found {found}")
        group = numeric == 1
    if group.all() or not group.any():
        raise ValueError("treated must contain both participants (1) and comparison units (0)")
    return group


def _prepare(x, treated, weights) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    values = np.asarray(x, dtype=float)
    if values.ndim != 1:
        raise ValueError(f"x must be 1-D; got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"x has {int(np.sum(~np.isfinite(values)))} missing or infinite values; balance "
            "statistics need complete data (drop or impute them first, and report it)"
        )
    group = _as_group(treated, len(values))
    if weights is None:
        w = np.ones(len(values))
    else:
        w = np.asarray(weights, dtype=float)
        if w.shape != values.shape:
            raise ValueError(f"weights must have one entry per value of x ({len(values)})")
        problem = _weights_problem(w, group)
        if problem:
            raise ValueError(f"weights: {problem}")
    return values, group, w


def _is_binary(values: np.ndarray) -> bool:
    return len(np.unique(values)) == 2


def _binarize(values: np.ndarray) -> np.ndarray:
    """A two-valued variable as the 0/1 indicator of its higher value."""
    return (values == values.max()).astype(float)


# --- weighted moments -------------------------------------------------------------------------


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    return float(np.sum(weights * values) / np.sum(weights))


def _weighted_variance(values: np.ndarray, weights: np.ndarray, binary: bool) -> float:
    """cobalt's ``col.w.v``: ``p(1 - p)`` for a 0/1 variable, else ``sum w (x - m)^2 / (1 - sum
    w^2)`` with weights normalized to sum to 1 (the n - 1 formula when weights are equal)."""
    w = weights / np.sum(weights)
    mean = float(np.sum(w * values))
    if binary:
        return mean * (1 - mean)
    denominator = 1 - float(np.sum(w**2))
    if denominator <= 0:  # a single unit carries all the weight
        return float("nan")
    return float(np.sum(w * (values - mean) ** 2) / denominator)


def _denominator(
    values: np.ndarray, group: np.ndarray, binary: bool, which: SdDenominator
) -> float:
    """The standardizing SD, always from the unweighted (unadjusted) sample."""
    ones = np.ones(len(values))
    if which == "all":
        return float(np.sqrt(_weighted_variance(values, ones, binary)))
    var_t = _weighted_variance(values[group], ones[group], binary)
    var_c = _weighted_variance(values[~group], ones[~group], binary)
    if which == "treated":
        return float(np.sqrt(var_t))
    if which == "control":
        return float(np.sqrt(var_c))
    if which == "pooled":
        return float(np.sqrt((var_t + var_c) / 2))
    n_t, n_c = int(group.sum()), int((~group).sum())
    if n_t + n_c < 4:  # omega = 1 - 3/(4N - 9) is not positive
        return float("nan")
    # cobalt's "hedges": the df-weighted pooled SD over J, so that d / denominator = J d = g.
    return pooled_sd(np.sqrt(var_t), np.sqrt(var_c), n_t, n_c) / small_sample_correction(n_t + n_c)


def _default_denominator(estimand: Estimand) -> SdDenominator:
    return {"ATT": "treated", "ATC": "control"}.get(estimand, "pooled")


def _smd(
    values: np.ndarray,
    group: np.ndarray,
    weights: np.ndarray,
    *,
    binary: bool,
    sd_denominator: SdDenominator,
    binary_rule: BinaryRule,
) -> float:
    difference = _weighted_mean(values[group], weights[group]) - _weighted_mean(
        values[~group], weights[~group]
    )
    if binary and binary_rule == "raw":
        return float(difference)
    denominator = _denominator(values, group, binary, sd_denominator)
    if not np.isfinite(denominator) or denominator == 0:
        # As cobalt: fall back on the full-sample SD (e.g. a covariate constant among the
        # treated under ATT).
        denominator = _denominator(values, group, binary, "all")
    if denominator == 0:  # constant in the whole sample, so no difference either
        return 0.0
    return float(difference / denominator)


def _variance_ratio(values: np.ndarray, group: np.ndarray, weights: np.ndarray) -> float:
    var_t = _weighted_variance(values[group], weights[group], binary=False)
    var_c = _weighted_variance(values[~group], weights[~group], binary=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.float64(var_t) / np.float64(var_c))


def _ks(values: np.ndarray, group: np.ndarray, weights: np.ndarray) -> float:
    # cobalt's (and twang's) computation: treated weights normalized to +1, comparison weights
    # to -1; the running sum over sorted values, read at the last of each run of ties, is the
    # difference between the two weighted eCDFs.
    signed = np.where(group, weights / weights[group].sum(), -weights / weights[~group].sum())
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    running = np.cumsum(signed[order])
    last_of_ties = np.append(np.diff(sorted_values) != 0, True)
    return float(np.max(np.abs(running[last_of_ties])))


def _ess(weights: np.ndarray) -> float:
    w = weights / np.max(weights)  # scale-free, and tiny weights do not underflow when squared
    return float(np.sum(w) ** 2 / np.sum(w**2))


# --- public functions -------------------------------------------------------------------------


def standardized_difference(
    x,
    treated,
    *,
    weights=None,
    estimand: Estimand = "ATT",
    sd_denominator: SdDenominator | None = None,
    binary: BinaryRule = "raw",
) -> float:
    """Standardized mean difference of one covariate, participants minus comparison (cobalt).

    Parameters
    ----------
    x : array-like of float
        The covariate; no missing values.
    treated : array-like of 0/1 or bool
        1 (True) for participants, 0 (False) for the comparison group.
    weights : array-like of float, optional
        Non-negative weights of an adjustment (weighting, or matching weights with 0 for
        unmatched units). They enter the means only, never the standardizing SD.
    estimand : {"ATT", "ATC", "ATE", "ATO"}
        Chooses the default denominator: ATT -> ``"treated"``, ATC -> ``"control"``, ATE and
        ATO -> ``"pooled"``.
    sd_denominator : {"treated", "control", "pooled", "all", "hedges"}, optional
        Overrides the estimand's default (see Notes).
    binary : {"raw", "std"}
        A variable with two distinct values is binary: ``"raw"`` (default) returns the raw
        difference in proportions of its higher value; ``"std"`` standardizes it too.

    Returns
    -------
    float

    Notes
    -----
    ``smd = (m_t^w - m_c^w) / s``, with weighted means ``m^w = sum w x / sum w`` and ``s`` from
    the **unweighted** sample whatever the weights (Stuart 2010; cobalt's rule, domain ref 3.6):

    - ``"treated"`` / ``"control"``: the SD in that group;
    - ``"pooled"``: ``sqrt((s_t^2 + s_c^2) / 2)``, the unweighted mean of the two variances;
    - ``"all"``: the SD of the full sample;
    - ``"hedges"``: the df-weighted pooled SD divided by ``omega = 1 - 3/(4N - 9)``, which makes
      the result the WWC Hedges g.

    Continuous variances use ``n - 1``; binary ones (``binary="std"``) ``p(1 - p)``. When the
    chosen SD is 0 (e.g. the covariate is constant among participants under ATT) the full-sample
    SD is used instead, as cobalt does; a covariate constant in the whole sample gives 0.

    Examples
    --------
    >>> round(standardized_difference([2, 4, 6, 1, 2, 3, 6], [1, 1, 1, 0, 0, 0, 0]), 6)
    0.5
    """
    _check_option("estimand", estimand, Estimand)
    if sd_denominator is not None:
        _check_option("sd_denominator", sd_denominator, SdDenominator)
    _check_option("binary", binary, BinaryRule)
    values, group, w = _prepare(x, treated, weights)
    is_binary = _is_binary(values)
    if is_binary:
        values = _binarize(values)
    denominator = sd_denominator or _default_denominator(estimand)
    return _smd(values, group, w, binary=is_binary, sd_denominator=denominator, binary_rule=binary)


def variance_ratio(x, treated, *, weights=None) -> float:
    """Ratio of the (weighted) variance among participants to that among the comparison group.

    Parameters
    ----------
    x, treated, weights
        As in :func:`standardized_difference`.

    Returns
    -------
    float
        NaN for a binary variable (its variance follows from its mean, so the ratio adds
        nothing), or when a group has a single unit with nonzero weight.

    Notes
    -----
    cobalt's weighted variance: ``sum w (x - m^w)^2 / (1 - sum w^2)`` with the group's weights
    normalized to sum to 1 (the usual ``n - 1`` variance when the weights are equal). Values
    near 1 mean similar spread; a common rule of thumb flags ratios outside 0.5 to 2.

    Examples
    --------
    >>> round(variance_ratio([2, 4, 6, 1, 2, 3, 6], [1, 1, 1, 0, 0, 0, 0]), 6)
    0.857143
    """
    values, group, w = _prepare(x, treated, weights)
    if _is_binary(values):
        return float("nan")
    return _variance_ratio(values, group, w)


def ks_statistic(x, treated, *, weights=None) -> float:
    """Kolmogorov-Smirnov statistic: the largest distance between the groups' weighted eCDFs.

    Parameters
    ----------
    x, treated, weights
        As in :func:`standardized_difference`.

    Returns
    -------
    float
        Between 0 (identical distributions) and 1 (no overlap).

    Notes
    -----
    ``KS = max_v |F_t^w(v) - F_c^w(v)|`` with ``F^w(v) = sum_{x_i <= v} w_i / sum w_i`` in
    each group (cobalt's ``col_w_ks``). For a binary variable it equals the absolute
    difference in proportions.

    Examples
    --------
    >>> round(ks_statistic([2, 4, 6, 1, 2, 3, 6], [1, 1, 1, 0, 0, 0, 0]), 6)
    0.416667
    """
    values, group, w = _prepare(x, treated, weights)
    return _ks(values, group, w)


def effective_sample_size(weights) -> float:
    """Kish's effective sample size of a set of weights, ``(sum w)^2 / sum w^2``.

    Equal weights give the number of units; the more unequal the weights, the smaller it is,
    down to 1 when one unit carries all the weight. Report it per group after weighting.

    Examples
    --------
    >>> effective_sample_size([1, 1, 2])
    2.6666666666666665
    """
    w = np.asarray(weights, dtype=float)
    if w.ndim != 1 or len(w) == 0:
        raise ValueError("weights must be a non-empty 1-D array")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise ValueError("weights must be finite and non-negative")
    if not np.any(w > 0):
        raise ValueError("at least one weight must be positive")
    return _ess(w)


def wwc_category(abs_g: float) -> WwcCategory | None:
    """WWC baseline-equivalence verdict for an absolute standardized baseline difference.

    Returns
    -------
    str or None
        ``"satisfies"`` (``|g| <= 0.05``), ``"requires_adjustment"`` (``0.05 < |g| <= 0.25``:
        equivalence holds only if the impact model adjusts for the characteristic),
        ``"does_not_satisfy"`` (``|g| > 0.25``); None when the value is missing.

    Notes
    -----
    WWC Procedures Handbook v5.0 as encoded in baselinr's ``wwc_classify`` (domain ref 3.5).
    The limits are inclusive: 0.05 satisfies, 0.25 requires adjustment, 0.2501 does not. The
    sign is ignored. Values within 1e-9 of a limit count as on it, so that floating-point
    rounding does not move a difference of exactly 0.25 into the next category. WWC computes it
    on the analytic sample, as Hedges g (continuous) or the Cox index (dichotomous).

    Examples
    --------
    >>> wwc_category(0.05), wwc_category(0.25), wwc_category(0.2501)
    ('satisfies', 'requires_adjustment', 'does_not_satisfy')
    """
    if abs_g is None or np.isnan(abs_g):
        return None
    size = abs(float(abs_g))
    if size <= WWC_SATISFIES + WWC_TOLERANCE:
        return "satisfies"
    if size <= WWC_REQUIRES_ADJUSTMENT + WWC_TOLERANCE:
        return "requires_adjustment"
    return "does_not_satisfy"


# --- the balance table ------------------------------------------------------------------------


def _format_level(level) -> str:
    if isinstance(level, float | np.floating) and float(level).is_integer():
        return str(int(level))
    return str(level)


def _expand(data: pd.DataFrame, column: str) -> list[tuple[str, np.ndarray, bool]]:
    """(name, values, is_binary) for each balance row of one covariate column."""
    series = data[column]
    if isinstance(series.dtype, pd.CategoricalDtype):
        seen = set(series.unique())
        levels = [level for level in series.cat.categories if level in seen]
    elif pd.api.types.is_bool_dtype(series) or not pd.api.types.is_numeric_dtype(series):
        if not (
            pd.api.types.is_bool_dtype(series)
            or pd.api.types.is_object_dtype(series)
            or pd.api.types.is_string_dtype(series)
        ):
            raise OutcomesError(
                "covariate type not supported in a balance table",
                column=column,
                expected="numbers, or categories, text or True/False (one row per level)",
                found=str(series.dtype),
            )
        levels = sorted(series.unique(), key=str)
    else:
        values = series.to_numpy(dtype=float)
        if not _is_binary(values):
            return [(column, values, False)]
        high = values.max()
        name = column if set(np.unique(values)) == {0.0, 1.0} else f"{column}={_format_level(high)}"
        return [(name, _binarize(values), True)]
    return [
        (f"{column}={_format_level(level)}", (series == level).to_numpy(dtype=float), True)
        for level in levels
    ]


def _treatment_group(data: pd.DataFrame, treatment: str) -> np.ndarray:
    values = data[treatment]
    missing = int(values.isna().sum())
    if missing:
        raise OutcomesError(
            f"treatment is missing in {missing} of {len(values)} rows",
            column=treatment,
            expected="1 (participant) or 0 (comparison) in every row",
        )
    try:
        return _as_group(values.to_numpy(), len(values))
    except ValueError as error:
        raise OutcomesError(
            "treatment must code participants 1 and comparison 0, with both groups present",
            column=treatment,
            expected="0/1 or False/True, both present",
            found=str(error),
        ) from None


def _check_missing(data: pd.DataFrame, covariates: Sequence[str]) -> None:
    counts = data[list(covariates)].isna().sum()
    missing = counts[counts > 0]
    if missing.empty:
        return
    report = "; ".join(f"{name!r}: {int(n)} of {len(data)} rows" for name, n in missing.items())
    raise OutcomesError(
        f"{len(missing)} covariate column(s) have missing values; balance statistics need "
        "complete rows",
        column=missing.index[0] if len(missing) == 1 else None,
        expected="no missing values (impute them, or drop the rows and report how many)",
        found=f"missing values in {report}",
    )


def balance_table(
    data: pd.DataFrame,
    treatment: str,
    covariates: Sequence[str],
    *,
    weights: Mapping[str, object] | None = None,
    estimand: Estimand = "ATT",
    sd_denominator: SdDenominator | None = None,
    binary: BinaryRule = "raw",
) -> pd.DataFrame:
    """Balance of each covariate before and after each adjustment, as one tidy table.

    Parameters
    ----------
    data : DataFrame
        The analytic sample, one row per unit.
    treatment : str
        Column coding participants 1 (True) and the comparison group 0 (False).
    covariates : sequence of str
        Numeric columns are used as they are (a column with two distinct values is binary);
        categorical, text and True/False columns give one 0/1 indicator per observed level,
        named ``"column=level"``.
    weights : dict of str to array-like, optional
        Adjustment name -> weights aligned by position with ``data``, e.g.
        ``{"ipw": w, "matching": w_matched}`` (0 for units a matching discarded). The
        unweighted sample is always included as adjustment ``"unadjusted"``.
    estimand, sd_denominator, binary
        As in :func:`standardized_difference`.

    Returns
    -------
    DataFrame
        One row per covariate (or level) and adjustment, covariates in the order given:

        - ``covariate``, ``type`` (``"binary"`` / ``"continuous"``), ``adjustment``;
        - ``mean_participants``, ``mean_comparison``: weighted means (proportions for binary
          rows; a numeric two-valued column not coded 0/1 is reported as the proportion of its
          higher value and named ``"column=value"``);
        - ``smd``: :func:`standardized_difference` under ``estimand``/``sd_denominator``/
          ``binary`` (by default the raw difference in proportions for binary rows);
        - ``variance_ratio`` (NaN for binary rows), ``ks``;
        - ``wwc_effect_size``, ``wwc_category``: see Notes (the category is missing when the
          effect size is undefined);
        - ``ess_participants``, ``ess_comparison``: :func:`effective_sample_size` per group
          (the group sizes when unadjusted).

    Raises
    ------
    OutcomesError
        A column is absent; the treatment is missing or not coded 0/1; any covariate has
        missing values (one message lists every such column with its count); weights are
        missing, negative or all zero in a group.

    Notes
    -----
    Every standardizing SD comes from the unweighted ``data``; only the means use the weights
    (cobalt, Stuart 2010).

    The WWC baseline-equivalence category (domain ref 3.5) is **not** taken from ``smd``, whose
    denominator follows the estimand: it uses the WWC effect size on the analytic sample,
    reported as ``wwc_effect_size``. For a continuous covariate that is Hedges g,
    ``omega (m_t^w - m_c^w) / S_pooled`` with the df-weighted pooled SD of the unweighted data
    and ``omega = 1 - 3/(4N - 9)`` (cobalt's ``s.d.denom = "hedges"``). For a binary one it is
    the Cox index of the two (weighted) proportions without omega (:func:`cox_index`'s
    default), NaN (category None) when a proportion is 0 or 1.

    Examples
    --------
    >>> data = pd.DataFrame({"age": [2, 4, 6, 1, 2, 3, 6], "joined": [1, 1, 1, 0, 0, 0, 0]})
    >>> row = balance_table(data, "joined", ["age"]).iloc[0]
    >>> row["covariate"], row["adjustment"], round(float(row["smd"]), 6), row["wwc_category"]
    ('age', 'unadjusted', 0.5, 'does_not_satisfy')
    """
    _check_option("estimand", estimand, Estimand)
    if sd_denominator is not None:
        _check_option("sd_denominator", sd_denominator, SdDenominator)
    _check_option("binary", binary, BinaryRule)
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame; got {type(data).__name__}")
    if isinstance(covariates, str) or not covariates:
        raise ValueError("covariates must be a non-empty list of column names")
    for column in [treatment, *covariates]:
        if column not in data.columns:
            raise OutcomesError(
                "column not in the data",
                column=column,
                found=f"columns {', '.join(map(str, data.columns))}",
            )
    if treatment in covariates:
        raise ValueError(f"the treatment column {treatment!r} cannot also be a covariate")
    if len(set(covariates)) != len(covariates):
        raise ValueError("covariates must not repeat a column")
    group = _treatment_group(data, treatment)
    _check_missing(data, covariates)

    adjustments: dict[str, np.ndarray] = {UNADJUSTED: np.ones(len(data))}
    for name, w in (weights or {}).items():
        if name == UNADJUSTED:
            raise ValueError(f"{UNADJUSTED!r} is reserved for the unweighted sample")
        values = np.asarray(w, dtype=float)
        if values.shape != (len(data),):
            raise ValueError(
                f"weights {name!r} must have one entry per row of data ({len(data)}); "
                f"got shape {values.shape}"
            )
        problem = _weights_problem(values, group)
        if problem:
            raise OutcomesError(f"weights {name!r}: {problem}", column=name)
        adjustments[name] = values

    denominator = sd_denominator or _default_denominator(estimand)
    rows = [
        _balance_row(name, values, is_binary, group, adjustment, w, denominator, binary)
        for column in covariates
        for name, values, is_binary in _expand(data, column)
        for adjustment, w in adjustments.items()
    ]
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def _balance_row(
    name: str,
    values: np.ndarray,
    is_binary: bool,
    group: np.ndarray,
    adjustment: str,
    w: np.ndarray,
    denominator: SdDenominator,
    binary: BinaryRule,
) -> dict:
    mean_t = _weighted_mean(values[group], w[group])
    mean_c = _weighted_mean(values[~group], w[~group])
    smd = _smd(values, group, w, binary=is_binary, sd_denominator=denominator, binary_rule=binary)
    if is_binary:
        # clipped: a weighted proportion can stray past 1 by a rounding error
        p_t, p_c = np.clip([mean_t, mean_c], 0.0, 1.0)
        wwc = cox_index(p_t, p_c, int(group.sum()), int((~group).sum()))["cox_index"]
        ratio = float("nan")
    else:
        wwc = _smd(values, group, w, binary=False, sd_denominator="hedges", binary_rule="std")
        ratio = _variance_ratio(values, group, w)
    return {
        "covariate": name,
        "type": "binary" if is_binary else "continuous",
        "adjustment": adjustment,
        "mean_participants": mean_t,
        "mean_comparison": mean_c,
        "smd": smd,
        "variance_ratio": ratio,
        "ks": _ks(values, group, w),
        "wwc_effect_size": wwc,
        "wwc_category": wwc_category(abs(wwc)),
        "ess_participants": _ess(w[group]),
        "ess_comparison": _ess(w[~group]),
    }
