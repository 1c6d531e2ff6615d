"""Standardized effect sizes in the What Works Clearinghouse (WWC) conventions."""

from __future__ import annotations

import numpy as np
from scipy import stats


def pooled_sd(sd_participants: float, sd_comparison: float, n_participants: int, n_comparison: int):
    """Degrees-of-freedom weighted pooled SD.

    ``S = sqrt(((n_p - 1) s_p^2 + (n_c - 1) s_c^2) / (n_p + n_c - 2))`` (WWC Procedures
    Handbook v4.1, p. 15; domain reference 3.1).
    """
    n_p, n_c = n_participants, n_comparison
    return float(
        np.sqrt(((n_p - 1) * sd_participants**2 + (n_c - 1) * sd_comparison**2) / (n_p + n_c - 2))
    )


def small_sample_correction(n_total: int) -> float:
    """WWC's ``omega = 1 - 3 / (4N - 9)`` (equal to Hedges' ``1 - 3/(4 df - 1)``, df = N - 2)."""
    return 1 - 3 / (4 * n_total - 9)


def hedges_g(
    difference: float,
    sd: float,
    n_participants: int,
    n_comparison: int,
    *,
    alpha: float = 0.05,
) -> dict[str, float]:
    """Hedges' g with its standard error and confidence interval.

    Parameters
    ----------
    difference : float
        Participant minus comparison difference: a raw mean difference, or a covariate-adjusted
        one (WWC: the adjusted difference over the *unadjusted* pooled SD).
    sd : float
        Pooled SD of the outcome (:func:`pooled_sd`).
    n_participants, n_comparison : int
    alpha : float
        1 - confidence level.

    Returns
    -------
    dict
        ``hedges_g``, ``g_se``, ``g_ci_low``, ``g_ci_high``.

    Notes
    -----
    ``g = omega * difference / sd``, ``omega = 1 - 3/(4N - 9)``;
    ``SE(g) = sqrt(N / (n_p n_c) + g^2 / (2N))`` (Hedges & Olkin 1985, large-sample form);
    the interval is ``g +- z_{1 - alpha/2} SE(g)``.

    Examples
    --------
    Domain reference 3.11: means 6 and 5, SDs 1, n = 3 and 3 give g = 0.8.

    >>> round(hedges_g(1.0, 1.0, 3, 3)["hedges_g"], 6)
    0.8

    An empty group gives no effect size (all NaN), never a division by zero:

    >>> hedges_g(float("nan"), float("nan"), 0, 12)["g_se"]
    nan
    """
    if n_participants < 1 or n_comparison < 1:
        return dict.fromkeys(("hedges_g", "g_se", "g_ci_low", "g_ci_high"), float("nan"))
    n = n_participants + n_comparison
    g = small_sample_correction(n) * difference / sd
    se = float(np.sqrt(n / (n_participants * n_comparison) + g**2 / (2 * n)))
    z = stats.norm.ppf(1 - alpha / 2)
    return {"hedges_g": float(g), "g_se": se, "g_ci_low": g - z * se, "g_ci_high": g + z * se}


def improvement_index(g_benefit: float) -> float:
    """WWC improvement index ``100 * Phi(g) - 50``: the expected percentile-rank change of an
    average comparison student, for ``g`` oriented so that positive means benefit."""
    return float(100 * stats.norm.cdf(g_benefit) - 50)


# --- Dichotomous outcomes and baseline measures (domain reference 3.3) -------------------------

#: Converts a log odds ratio to the SD metric (logistic distribution; Sánchez-Meca et al. 2003).
COX_SCALE = 1.65


def _two_by_two_check(name: str, events: float, n: float) -> None:
    if not np.isfinite(n) or n <= 0:
        raise ValueError(f"{name}: the group size must be a positive number; got {n!r}")
    if not np.isfinite(events) or not 0 <= events <= n:
        raise ValueError(
            f"{name}: events must lie between 0 and the group size {n}; got {events!r}"
        )


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha!r}")


def _check_continuity(continuity: float | None) -> None:
    if continuity is not None and not (np.isfinite(continuity) and continuity > 0):
        raise ValueError(
            f"continuity must be None or a positive number such as 0.5; got {continuity!r}"
        )


def cox_index(
    p_participants: float,
    p_comparison: float,
    n_participants: float,
    n_comparison: float,
    *,
    omega: bool = False,
    alpha: float = 0.05,
    continuity: float | None = None,
) -> dict[str, float]:
    """WWC Cox index: a difference in proportions on the standardized-mean-difference scale.

    Parameters
    ----------
    p_participants, p_comparison : float
        Proportions (0 to 1) of the event in each group; they may come from weighted data.
    n_participants, n_comparison : float
        Group sizes; with the proportions they give the 2x2 counts behind the standard error.
    omega : bool
        Multiply by the WWC small-sample factor ``omega = 1 - 3/(4N - 9)``. Off by default
        (see Notes).
    alpha : float
        1 - confidence level.
    continuity : float, optional
        When a proportion is 0 or 1 the index is undefined and every value is NaN, unless a
        continuity correction is given (conventionally 0.5): it is then added to all four
        cells. It is added only when a cell is empty.

    Returns
    -------
    dict
        ``cox_index``, ``cox_se``, ``cox_ci_low``, ``cox_ci_high``, ``log_odds_ratio``,
        ``log_odds_ratio_se``, ``omega`` (the factor applied, 1.0 without the correction),
        ``continuity`` (the amount added to each cell, 0.0 when none was).

    Notes
    -----
    ``d_Cox = omega * [logit(p_i) - logit(p_c)] / 1.65`` (WWC; domain reference 3.3).
    The cells are ``a = p_i n_i``, ``b = n_i - a``, ``c = p_c n_c``, ``d = n_c - c`` (not
    rounded, so weighted proportions work); ``SE(LOR) = sqrt(1/a + 1/b + 1/c + 1/d)``,
    ``SE(d_Cox) = omega SE(LOR) / 1.65`` and the interval is ``d_Cox +- z_{1-alpha/2} SE``.

    Whether the Procedures Handbook applies omega to the Cox index differs between
    implementations (baselinr: no; WWCr: yes; domain reference Appendix B, item 1). The
    default follows baselinr and Handbook v4.1 [VI.1.2] as baselinr reads it; the difference
    is below 1 % for N >= 100.

    Examples
    --------
    Domain reference 3.11: proportions 0.30 and 0.45 with N = 100.

    >>> round(cox_index(0.30, 0.45, 50, 50)["cox_index"], 5)
    -0.3919
    >>> round(cox_index(0.30, 0.45, 50, 50, omega=True)["cox_index"], 5)
    -0.38889
    """
    _check_alpha(alpha)
    _check_continuity(continuity)
    for name, p in (("p_participants", p_participants), ("p_comparison", p_comparison)):
        if not (np.isfinite(p) and 0 <= p <= 1):
            raise ValueError(f"{name} must be a proportion between 0 and 1; got {p!r}")
    a = p_participants * n_participants
    c = p_comparison * n_comparison
    _two_by_two_check("participants", a, n_participants)
    _two_by_two_check("comparison", c, n_comparison)
    cells = np.array([a, n_participants - a, c, n_comparison - c], dtype=float)
    factor = small_sample_correction(n_participants + n_comparison) if omega else 1.0
    added = 0.0
    if np.any(cells == 0):
        if continuity is None:
            nan = float("nan")
            return {
                "cox_index": nan, "cox_se": nan, "cox_ci_low": nan, "cox_ci_high": nan,
                "log_odds_ratio": nan, "log_odds_ratio_se": nan, "omega": factor,
                "continuity": 0.0,
            }  # fmt: skip
        added = float(continuity)
        cells = cells + added
    a, b, c, d = cells
    log_or = float(np.log(a / b) - np.log(c / d))
    log_or_se = float(np.sqrt(np.sum(1 / cells)))
    index = factor * log_or / COX_SCALE
    se = factor * log_or_se / COX_SCALE
    z = float(stats.norm.ppf(1 - alpha / 2))
    return {
        "cox_index": index,
        "cox_se": se,
        "cox_ci_low": index - z * se,
        "cox_ci_high": index + z * se,
        "log_odds_ratio": log_or,
        "log_odds_ratio_se": log_or_se,
        "omega": factor,
        "continuity": added,
    }


def binary_effects(
    events_participants: float,
    n_participants: float,
    events_comparison: float,
    n_comparison: float,
    alpha: float = 0.05,
    *,
    omega: bool = False,
    continuity: float | None = None,
) -> dict[str, float]:
    """Effect measures of a dichotomous outcome: risk difference, odds and risk ratios, Cox index.

    Parameters
    ----------
    events_participants, n_participants : float
        Participants with the event, and all participants (counts; may be weighted).
    events_comparison, n_comparison : float
        The same for the comparison group.
    alpha : float
        1 - confidence level.
    omega : bool
        Passed to :func:`cox_index`.
    continuity : float, optional
        Added to every cell of the 2x2 table for the odds ratio, risk ratio and Cox index when
        a cell is empty (conventionally 0.5); without it those measures are NaN then. The risk
        difference never uses it.

    Returns
    -------
    dict
        ``p_participants``, ``p_comparison``; ``risk_difference``, ``risk_difference_se``,
        ``risk_difference_ci_low``, ``risk_difference_ci_high``; ``odds_ratio``,
        ``odds_ratio_ci_low``, ``odds_ratio_ci_high``, ``log_odds_ratio_se``; ``risk_ratio``,
        ``risk_ratio_ci_low``, ``risk_ratio_ci_high``, ``log_risk_ratio_se``; ``cox_index``,
        ``cox_se``, ``cox_ci_low``, ``cox_ci_high``; ``continuity`` (amount added to each cell).

    Notes
    -----
    Cells ``a`` (participants with the event), ``b = n_i - a``, ``c``, ``d = n_c - c``.

    - Risk difference ``p_i - p_c`` with the Wald ``SE = sqrt(p_i(1-p_i)/n_i + p_c(1-p_c)/n_c)``
      and interval ``RD +- z SE`` (it is too narrow when a proportion is near 0 or 1).
    - Odds ratio ``ad / bc``; ``SE(log OR) = sqrt(1/a + 1/b + 1/c + 1/d)`` (Woolf); the
      interval is ``exp(log OR +- z SE)``.
    - Risk ratio ``p_i / p_c``; ``SE(log RR) = sqrt(1/a - 1/n_i + 1/c - 1/n_c)`` (as EValue's
      ``twoXtwoRR``); interval ``exp(log RR +- z SE)``.
    - Cox index as :func:`cox_index`.

    Examples
    --------
    >>> effects = binary_effects(30, 100, 45, 100)
    >>> round(effects["risk_difference"], 4), round(effects["odds_ratio"], 4)
    (-0.15, 0.5238)
    """
    _check_alpha(alpha)
    _check_continuity(continuity)
    _two_by_two_check("participants", events_participants, n_participants)
    _two_by_two_check("comparison", events_comparison, n_comparison)
    z = float(stats.norm.ppf(1 - alpha / 2))
    p_i = events_participants / n_participants
    p_c = events_comparison / n_comparison
    rd = p_i - p_c
    rd_se = float(np.sqrt(p_i * (1 - p_i) / n_participants + p_c * (1 - p_c) / n_comparison))
    cells = np.array(
        [events_participants, n_participants - events_participants,
         events_comparison, n_comparison - events_comparison],
        dtype=float,
    )  # fmt: skip
    added = 0.0
    if np.any(cells == 0) and continuity is not None:
        added = float(continuity)
        cells = cells + added
    nan = float("nan")
    ratios = dict.fromkeys(
        ["odds_ratio", "odds_ratio_ci_low", "odds_ratio_ci_high", "log_odds_ratio_se",
         "risk_ratio", "risk_ratio_ci_low", "risk_ratio_ci_high", "log_risk_ratio_se"],
        nan,
    )  # fmt: skip
    if np.all(cells > 0):
        a, b, c, d = cells
        log_or = np.log(a * d / (b * c))
        log_or_se = float(np.sqrt(np.sum(1 / cells)))
        log_rr = np.log((a / (a + b)) / (c / (c + d)))
        log_rr_se = float(np.sqrt(1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)))
        ratios = {
            "odds_ratio": float(np.exp(log_or)),
            "odds_ratio_ci_low": float(np.exp(log_or - z * log_or_se)),
            "odds_ratio_ci_high": float(np.exp(log_or + z * log_or_se)),
            "log_odds_ratio_se": log_or_se,
            "risk_ratio": float(np.exp(log_rr)),
            "risk_ratio_ci_low": float(np.exp(log_rr - z * log_rr_se)),
            "risk_ratio_ci_high": float(np.exp(log_rr + z * log_rr_se)),
            "log_risk_ratio_se": log_rr_se,
        }
    cox = cox_index(
        p_i, p_c, n_participants, n_comparison, omega=omega, alpha=alpha, continuity=continuity
    )
    return {
        "p_participants": float(p_i),
        "p_comparison": float(p_c),
        "risk_difference": float(rd),
        "risk_difference_se": rd_se,
        "risk_difference_ci_low": float(rd - z * rd_se),
        "risk_difference_ci_high": float(rd + z * rd_se),
        **ratios,
        **{k: cox[k] for k in ("cox_index", "cox_se", "cox_ci_low", "cox_ci_high")},
        "continuity": added,
    }
