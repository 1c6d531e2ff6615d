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
    """
    n = n_participants + n_comparison
    g = small_sample_correction(n) * difference / sd
    se = float(np.sqrt(n / (n_participants * n_comparison) + g**2 / (2 * n)))
    z = stats.norm.ppf(1 - alpha / 2)
    return {"hedges_g": float(g), "g_se": se, "g_ci_low": g - z * se, "g_ci_high": g + z * se}


def improvement_index(g_benefit: float) -> float:
    """WWC improvement index ``100 * Phi(g) - 50``: the expected percentile-rank change of an
    average comparison student, for ``g`` oriented so that positive means benefit."""
    return float(100 * stats.norm.cdf(g_benefit) - 50)
