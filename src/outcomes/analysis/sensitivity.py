"""Sensitivity of an estimate to unmeasured confounding (E-values) and a plausibility check.

E-values follow VanderWeele & Ding (2017, Ann Intern Med 167:268-274) as implemented in the
EValue R package (``mayamathur/evalue_package``, ``EValue/R/EValue.R``: ``evalues.RR``,
``evalues.MD``, ``evalues.OR``, ``threshold``); domain reference 3.9. Each function returns the
same keys, so results for several outcomes stack into one table.
"""

from __future__ import annotations

import math
from typing import get_args

from scipy import stats

from outcomes.options import Design

#: ``log RR ~ 0.91 d`` for a standardized mean difference d (Chinn 2000; VanderWeele 2017).
SMD_TO_LOG_RR = 0.91
#: EValue's ``evalues.MD`` interval half-width multiplier on SE(d) (0.91 x 1.96, rounded).
SMD_CI_MULTIPLIER = 1.78
#: Mentoring meta-analytic mean effect (Raposa et al. 2019, J Youth Adolesc 48:423-443).
MENTORING_MEAN_EFFECT = 0.21


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _threshold(rr: float, true: float) -> float:
    """EValue's ``threshold()``: the E-value of one risk ratio against the value ``true``."""
    if rr <= 1:
        rr, true = 1 / rr, 1 / true
    if true <= rr:  # the usual case: explaining the estimate away down to ``true``
        return (rr + math.sqrt(rr * (rr - true))) / true
    ratio = true / rr  # the true effect lies beyond the estimate
    return ratio + math.sqrt(ratio * (ratio - 1))


def _check_positive(name: str, value) -> None:
    if not _is_missing(value) and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive ratio; got {value!r}")


def _evalues(rr: float, ci_low, ci_high, true: float) -> dict[str, float]:
    nan = float("nan")
    low = nan if ci_low is None else float(ci_low)
    high = nan if ci_high is None else float(ci_high)
    result = {"rr": float(rr), "rr_ci_low": low, "rr_ci_high": high, "true_rr": float(true)}
    if _is_missing(rr):
        return result | {"evalue": nan, "evalue_ci": nan}
    for name, value in (("rr", rr), ("ci_low", low), ("ci_high", high), ("true", true)):
        _check_positive(name, value)
    if not math.isnan(low) and not math.isnan(high) and low > high:
        raise ValueError(f"ci_low ({low}) must not exceed ci_high ({high})")
    if (not math.isnan(low) and rr < low) or (not math.isnan(high) and rr > high):
        raise ValueError(f"the estimate {rr} must lie inside its interval ({low}, {high})")
    evalue = _threshold(rr, true)
    if rr > true:
        limit, crosses = low, low < true
    elif rr < true:
        limit, crosses = high, high > true
    else:
        limit, crosses = low if not math.isnan(low) else high, True
    if math.isnan(limit):
        evalue_ci = nan
    elif crosses:
        evalue_ci = 1.0
    else:
        evalue_ci = _threshold(limit, true)
    return result | {"evalue": evalue, "evalue_ci": evalue_ci}


def evalue_rr(
    rr: float, ci_low: float | None = None, ci_high: float | None = None, true: float = 1.0
) -> dict[str, float]:
    """E-value of a risk ratio and of its confidence limit closer to the null.

    Parameters
    ----------
    rr : float
        The risk ratio (> 0). NaN gives NaN E-values.
    ci_low, ci_high : float, optional
        Its confidence limits.
    true : float
        The true value to explain the estimate away to; 1 (no effect) by default.

    Returns
    -------
    dict
        ``rr``, ``rr_ci_low``, ``rr_ci_high``, ``true_rr``, ``evalue`` (for the estimate),
        ``evalue_ci`` (for the limit closer to ``true``; 1 when the interval includes it; NaN
        without that limit).

    Notes
    -----
    ``E = RR + sqrt(RR (RR - 1))`` for ``RR >= 1``; a ratio below 1 is inverted first. The
    E-value is the minimum strength of association, on the risk-ratio scale, that an unmeasured
    confounder would need with both the treatment and the outcome to explain the estimate away.
    For a non-null ``true`` (after inverting both when ``RR <= 1``):
    ``E = (RR + sqrt(RR (RR - true))) / true`` when ``true <= RR``, else
    ``E = r + sqrt(r (r - 1))`` with ``r = true / RR`` (EValue's ``threshold()``).

    Examples
    --------
    VanderWeele & Ding (2017), breastfeeding example (evaluation-methods.md): RR 3.9 (1.8, 8.7).

    >>> result = evalue_rr(3.9, 1.8, 8.7)
    >>> round(result["evalue"], 2), round(result["evalue_ci"], 2)
    (7.26, 3.0)
    """
    return _evalues(rr, ci_low, ci_high, true)


def evalue_smd(
    d: float, se: float | None, alpha: float = 0.05, *, true: float = 0.0
) -> dict[str, float]:
    """E-value of a standardized mean difference (Cohen's d or Hedges g).

    Parameters
    ----------
    d : float
        The standardized difference; its sign does not matter (the E-value is symmetric), so a
        benefit on a lower-is-better outcome needs no flip.
    se : float or None
        Its standard error; None for the estimate only.
    alpha : float
        1 - confidence level of the interval whose limit gets an E-value.
    true : float
        The true standardized difference to explain the estimate away to (0 by default).

    Returns
    -------
    dict
        As :func:`evalue_rr`, on the approximate risk-ratio scale.

    Notes
    -----
    ``RR ~ exp(0.91 d)`` with interval ``exp(0.91 d +- 1.78 SE)`` (EValue ``evalues.MD``;
    Chinn 2000; VanderWeele 2017), then :func:`evalue_rr` with ``true = exp(0.91 true)``. The
    1.78 is 0.91 x 1.96 as EValue rounds it; for another ``alpha`` it is scaled by
    ``z_{1-alpha/2} / z_{0.975}``. The conversion assumes a roughly normal outcome.

    Examples
    --------
    Domain reference 3.11: d = 0.5, SE = 0.25.

    >>> result = evalue_smd(0.5, 0.25)
    >>> round(result["rr"], 3), round(result["evalue"], 3), round(result["evalue_ci"], 3)
    (1.576, 2.529, 1.111)
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1; got {alpha!r}")
    if not _is_missing(se) and not (math.isfinite(se) and se >= 0):
        raise ValueError(f"se must be a non-negative number; got {se!r}")
    true_rr = math.exp(SMD_TO_LOG_RR * true)
    if _is_missing(d):
        return _evalues(float("nan"), None, None, true_rr)
    log_rr = SMD_TO_LOG_RR * d
    if _is_missing(se):
        return _evalues(math.exp(log_rr), None, None, true_rr)
    half_width = SMD_CI_MULTIPLIER * se * stats.norm.ppf(1 - alpha / 2) / stats.norm.ppf(0.975)
    return _evalues(
        math.exp(log_rr), math.exp(log_rr - half_width), math.exp(log_rr + half_width), true_rr
    )


def evalue_or(
    or_: float, ci_low: float | None, ci_high: float | None, rare: bool, *, true: float = 1.0
) -> dict[str, float]:
    """E-value of an odds ratio, converted to a risk ratio first.

    Parameters
    ----------
    or_ : float
        The odds ratio (> 0).
    ci_low, ci_high : float or None
        Its confidence limits.
    rare : bool
        Whether the outcome is rare (below about 15 % in both groups at follow-up). Required:
        the conversion depends on it.
    true : float
        The true odds ratio to explain the estimate away to (1 by default).

    Returns
    -------
    dict
        As :func:`evalue_rr`; ``rr`` and its limits are the converted values.

    Notes
    -----
    Rare outcome: ``RR ~ OR``. Common outcome: ``RR ~ sqrt(OR)`` for the estimate, the limits
    and ``true`` (VanderWeele 2017; EValue ``evalues.OR``).

    Examples
    --------
    >>> round(evalue_or(3.9, 1.8, 8.7, rare=True)["evalue"], 2)
    7.26
    """
    if not isinstance(rare, bool):
        raise ValueError(f"rare must be True or False (outcome below ~15 %); got {rare!r}")
    _check_positive("or_", or_)
    _check_positive("ci_low", ci_low)
    _check_positive("ci_high", ci_high)
    _check_positive("true", true)

    def to_rr(value):
        if rare or _is_missing(value):
            return value
        return math.sqrt(value)

    return _evalues(to_rr(or_), to_rr(ci_low), to_rr(ci_high), to_rr(true))


def plausibility_warning(
    g: float,
    *,
    self_reported: bool = True,
    design: Design = "self_selected",
    threshold: float = 0.5,
) -> str | None:
    """A plain-language warning when an effect is implausibly large for a mentoring program.

    Parameters
    ----------
    g : float
        Hedges g of the outcome (either sign).
    self_reported : bool
        Whether the outcome is self-reported (a wellbeing questionnaire, say).
    design : {"self_selected", "randomized"}
        How students came to be participants.
    threshold : float
        The size of ``|g|`` above which to warn.

    Returns
    -------
    str or None
        The warning when ``|g| > threshold`` for a self-reported outcome in a self-selected
        design; None otherwise (also when ``g`` is missing).

    Notes
    -----
    Mentoring programs average an effect of about 0.21 SD (Raposa et al. 2019, 70 studies,
    25,286 youth; earlier meta-analyses 0.18-0.21). An effect far above 0.5 SD on self-reported
    wellbeing among students who chose to join more likely reflects who joined, or how they
    answered, than what the program did (evaluation-methods.md, "Plausibility anchors"). This is
    a prompt to look harder, not a test.

    Examples
    --------
    >>> plausibility_warning(0.21) is None
    True
    >>> plausibility_warning(0.8)[:48]
    'The estimated effect (g = 0.80) is more than 0.5'
    """
    designs = get_args(Design)
    if design not in designs:
        raise ValueError(f"design must be one of {', '.join(map(repr, designs))}; got {design!r}")
    if not isinstance(self_reported, bool):
        raise ValueError(f"self_reported must be True or False; got {self_reported!r}")
    if not (math.isfinite(threshold) and threshold > 0):
        raise ValueError(f"threshold must be a positive number; got {threshold!r}")
    if _is_missing(g) or abs(g) <= threshold:
        return None
    if not self_reported or design != "self_selected":
        return None
    return (
        f"The estimated effect (g = {g:.2f}) is more than {threshold:g} standard deviations in "
        f"size. Mentoring programs average about {MENTORING_MEAN_EFFECT} standard deviations "
        "(Raposa et al. 2019, 70 studies), and a self-reported wellbeing outcome among students "
        "who chose to join is open to self-selection and reporting bias. Check baseline "
        "equivalence and the E-value, and treat this estimate with caution before presenting "
        "it as the program's impact."
    )
