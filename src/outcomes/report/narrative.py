"""Plain-language sentences generated from estimates by fixed rules (no free text)."""

from __future__ import annotations

import math

import pandas as pd


def _number(x: float, decimals: int = 2) -> str:
    return f"{abs(x):.{decimals}f}"


def _p_phrase(p_adjusted: float) -> str:
    """A clause on chance, completing "...; this ...". Thresholds: 0.001 and 0.05."""
    if math.isnan(p_adjusted):
        return "could not be tested"
    if p_adjusted < 0.001:
        return "is very unlikely to be chance alone (adjusted p < 0.001)"
    if p_adjusted < 0.05:
        return f"is unlikely to be chance alone (adjusted p = {p_adjusted:.3f})"
    return f"could well be chance (adjusted p = {p_adjusted:.2f})"


def effect_sentence(row: pd.Series, *, others: str = "comparable non-participants") -> str:
    """One sentence on an estimate, in the outcome's own units and direction.

    ``others`` names the comparison group in the sentence (``"comparable
    non-participants"`` for a self-selected design, ``"the comparison group"`` for a
    randomized one).

    The wording follows the direction of benefit: for lower-is-better outcomes a negative
    difference is described as lower (better). The uncertainty is always stated.

    Examples
    --------
    >>> row = pd.Series({"label": "Loneliness (UCLA-3)", "estimate": -0.5, "ci_low": -0.75,
    ...     "ci_high": -0.25, "direction": "lower_is_better", "p_adjusted": 0.0002,
    ...     "hedges_g": -0.3, "favours": "participants"})
    >>> effect_sentence(row)  # doctest: +NORMALIZE_WHITESPACE
    'Loneliness (UCLA-3): participants scored 0.50 points lower (better) than comparable
    non-participants (95% CI: 0.25 to 0.75 lower), an effect size of 0.30 SD; this is
    very unlikely to be chance alone (adjusted p < 0.001).'
    """
    est, low, high = row["estimate"], row["ci_low"], row["ci_high"]
    if math.isnan(est):
        return f"{row['label']}: too few students to estimate an effect."
    lower_better = row["direction"] == "lower_is_better"
    word = "lower" if est < 0 else "higher"
    good = (est < 0) == lower_better
    quality = "better" if good else "worse"
    if low <= 0 <= high:
        ci = f"95% CI: from {_number(low)} {'lower' if low < 0 else 'higher'} to " \
             f"{_number(high)} {'lower' if high < 0 else 'higher'}"  # fmt: skip
    else:
        a, b = sorted([abs(low), abs(high)])
        ci = f"95% CI: {a:.2f} to {b:.2f} {word}"
    return (
        f"{row['label']}: participants scored {_number(est)} points {word} ({quality}) than "
        f"{others} ({ci}), an effect size of {abs(row['hedges_g']):.2f} SD; "
        f"this {_p_phrase(row['p_adjusted'])}."
    )


def selection_sentence(baseline_rows: pd.DataFrame, *, design: str = "self_selected") -> str | None:
    """A sentence on how the groups differed before the program, from the baseline rows with
    the largest standardized gap (|g| >= 0.25, the WWC line for a non-equivalent baseline).

    A randomized design's gaps are chance differences: the sentence says so and does not
    speak of students choosing to join."""
    if baseline_rows.empty:
        return None
    if design == "randomized":
        big = baseline_rows[baseline_rows["hedges_g"].abs() >= 0.25]
        if big.empty:
            return (
                "Students were assigned to the program at random, and before it the two groups "
                "were similar on every outcome (all standardized differences below 0.25)."
            )
        names = ", ".join(f"{_short(r['label'])} ({abs(r['hedges_g']):.2f} SD)"
                          for _, r in big.iterrows())  # fmt: skip
        return (
            "Students were assigned to the program at random, yet before it the groups differed "
            f"by chance on {names}; the results below adjust for starting points."
        )
    gaps = baseline_rows.assign(size=baseline_rows["hedges_g"].abs()).sort_values(
        "size", ascending=False
    )
    big = gaps[gaps["size"] >= 0.25]
    if big.empty:
        return (
            "Before the program, participants and non-participants were similar on every "
            "outcome (all standardized differences below 0.25)."
        )
    parts = [
        f"{r['label'].split(' (')[0].lower()} ({'higher' if r['hedges_g'] > 0 else 'lower'}, "
        f"{abs(r['hedges_g']):.2f} SD)"
        for _, r in big.iterrows()
    ]
    return (
        "Students chose whether to join, and before the program those who joined already "
        f"differed: {', '.join(parts)}. A simple comparison at the end would mix these "
        "starting differences with the program's effect, so the results below compare "
        "students with similar starting points."
    )


def _short(label: str) -> str:
    return label.split(" (")[0].lower()


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def headline_sentence(
    adjusted: pd.DataFrame,
    *,
    lead: str = "After taking account of where students started, ",
    others: str = "comparable non-participants",
) -> str:
    """The report's opening summary: on how many outcomes participants were better off, by
    the ``favours`` column of the headline estimates (CI excluding zero). ``lead`` opens the
    sentence (it says how the groups were compared) and ``others`` names the comparison group.

    Examples
    --------
    >>> rows = pd.DataFrame({"label": ["Stress (PSS-10)", "Anxiety (GAD-7)", "Grades (GPA)"],
    ...                      "favours": ["participants", "unclear", "participants"]})
    >>> headline_sentence(rows)  # doctest: +NORMALIZE_WHITESPACE
    'After taking account of where students started, participants were better off than
    comparable non-participants on 2 of 3 outcomes (stress and grades); for anxiety the
    difference was too small to tell apart from chance.'
    """
    by_verdict: dict[str, list[str]] = {"participants": [], "comparison": [], "unclear": []}
    for label, verdict in zip(adjusted["label"], adjusted["favours"], strict=True):
        by_verdict[verdict].append(_short(label))
    better, worse, unclear = (by_verdict[k] for k in ("participants", "comparison", "unclear"))
    parts = []
    if better:
        parts.append(
            f"participants were better off than {others} on {len(better)} "
            f"of {len(adjusted)} outcomes ({_join(better)})"
        )
    else:
        parts.append(f"participants were not clearly better off on any of {len(adjusted)} outcomes")
    if worse:
        parts.append(f"they were worse off on {_join(worse)}")
    sentence = lead + "; ".join(parts)
    if unclear and better:
        sentence += f"; for {_join(unclear)} the difference was too small to tell apart from chance"
    return sentence + "."
