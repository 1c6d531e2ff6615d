"""Render the funder report: result tables -> one self-contained HTML file.

The HTML makes no external request: styles are inline and figures are inline SVG. Every count
passes through :func:`outcomes.report.suppression.suppress_count`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import jinja2
import pandas as pd

import outcomes
from outcomes.config import Cohort, Settings
from outcomes.report.figures import forest_plot, love_plot, to_svg
from outcomes.report.narrative import effect_sentence, headline_sentence, selection_sentence
from outcomes.report.suppression import suppress_breakdown, suppress_count, too_small

_STEP_LABELS = {
    "received": "Survey responses received",
    "kept": "Responses kept",
    "followed_up": "Answered this wave (of the students in the first survey)",
    "lost_to_followup": "Did not answer this wave",
    "returned": "Came back after missing a survey",
    "switched_group": "Recorded in the other group this wave (kept in their first group)",
    "late_entrants": "New students, not in the first survey (not analysed)",
}
_FLOW_STEPS = ("kept", "followed_up", "lost_to_followup", "returned", "switched_group",
               "late_entrants")  # fmt: skip
_REASON_LABELS = {
    "preview": "survey previews",
    "test": "test responses",
    "spam": "flagged as spam",
    "missing_id": "no student id",
    "unknown_group": "participation not recorded",
    "below_min_progress": "unfinished",
    "speeder": "completed implausibly fast",
    "duplicate": "duplicate responses of the same student",
}


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("outcomes.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(tables: dict[str, pd.DataFrame], cohort: Cohort, settings: Settings) -> str:
    """The funder report as an HTML string.

    Parameters
    ----------
    tables : dict
        ``estimates``, ``flow`` and ``reliability`` tables of :func:`outcomes.analysis.analyze`.
    cohort, settings
        For titles, waves, the adjusted method and the minimum cell size.
    """
    plan, k = cohort.plan, settings.min_cell_size
    est = tables["estimates"]
    method = plan.headline_method
    if "outcome_type" in est:
        cases = est[(est["outcome_type"] == "binary") & (est["wave"] == plan.primary_wave)]
        est = est[est["outcome_type"] != "binary"]
    else:
        cases = est.iloc[:0]
    primary = est[est["wave"] == plan.primary_wave]
    adjusted = primary[primary["method"] == method].reset_index(drop=True)
    naive = primary[primary["method"] == "unadjusted"].set_index("outcome")
    baseline = est[(est["wave"] == plan.baseline_wave) & (est["method"] == "unadjusted")]
    words = design_words(cohort, method)

    shown = adjusted[
        [
            not too_small(r.n_participants, r.n_comparison, k) and pd.notna(r.hedges_g)
            for r in adjusted.itertuples()
        ]
    ]
    simple = None if method == "unadjusted" else naive.reindex(shown["outcome"]).reset_index()
    figure = to_svg(forest_plot(shown, simple)) if len(shown) else None
    results = []
    for row in adjusted.itertuples():
        # No result either when a group is below the minimum cell size or too few answered.
        small = too_small(row.n_participants, row.n_comparison, k) or pd.isna(row.estimate)
        simple = naive.loc[row.outcome] if row.outcome in naive.index else None
        results.append(
            {
                "label": row.label,
                "sentence": None
                if small
                else effect_sentence(pd.Series(row._asdict()), others=words["others"]),
                "small": small,
                "n_participants": suppress_count(row.n_participants, k),
                "n_comparison": suppress_count(row.n_comparison, k),
                "mean_participants": row.mean_participants,
                "mean_comparison": row.mean_comparison,
                "naive": None if simple is None or method == "unadjusted" else simple["estimate"],
                "estimate": row.estimate,
                "ci_low": row.ci_low,
                "ci_high": row.ci_high,
                "hedges_g": row.hedges_g,
                "improvement_index": row.improvement_index,
                "p_adjusted": row.p_adjusted,
                "direction": "lower is better"
                if row.direction == "lower_is_better"
                else "higher is better",
                "favours": row.favours,
                "evalue": getattr(row, "evalue", float("nan")),
                "evalue_ci": getattr(row, "evalue_ci", float("nan")),
                "warning": _text_or_none(getattr(row, "plausibility_warning", None)),
            }
        )
    flow = _flow_rows(tables["flow"], cohort, k)
    agreement = _agreement_rows(primary, cohort, k)
    balance = tables.get("balance")
    love = to_svg(love_plot(balance)) if balance is not None and len(balance) else None
    reliability = _reliability_rows(tables.get("reliability"), k)
    safety = _safety_rows(tables.get("safety"), cohort, k)
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            cohort=cohort,
            plan=plan,
            method=method,
            words=words,
            selection=selection_sentence(baseline, design=plan.design),
            headline=headline_sentence(shown, lead=words["lead"], others=words["others"])
            if len(shown)
            else None,
            figure=figure,
            agreement=agreement,
            cases=_case_rows(cases, plan.headline_method, k),
            method_names=METHOD_NAMES,
            adjusted_for=plain_terms(plan.covariates, cohort),
            love=love,
            balance_summary=_balance_summary(balance),
            results=results,
            over_time=_over_time_rows(est, cohort, method, k),
            attrition=_attrition_rows(tables.get("attrition"), k),
            clustering=_clustering(adjusted, tables.get("clusters"), cohort),
            flow=flow,
            reliability=reliability,
            min_alpha=settings.min_alpha,
            safety=safety,
            labels={o.name: o.label for o in cohort.outcomes},
            min_cell_size=k,
            alpha=settings.alpha,
            multiplicity=settings.multiplicity,
            multiplicity_family=settings.multiplicity_family,
            version=outcomes.__version__,
            demo_key=bool(cohort.pseudonym_key.get("demo")),
        )
    )


def design_words(cohort: Cohort, method: str) -> dict[str, str]:
    """The phrases that change with the design and the headline method: ``lead`` opens the
    headline sentence, ``others`` names the comparison group, ``difference`` heads the
    results column, ``comparison`` says who is compared with whom, ``dot`` is the forest
    plot's marker legend."""
    plan = cohort.plan
    randomized = plan.design == "randomized"
    others = "the comparison group" if randomized else "comparable non-participants"
    if method == "unadjusted":
        lead = "Without any adjustment, " if not randomized else "Comparing the two groups, "
        difference, dot = "Difference", "the simple difference between the groups"
    elif plan.baseline_wave is not None:
        lead = "After taking account of where students started, "
        difference, dot = "Adjusted difference", "the effect after adjusting for starting points"
    else:
        lead = "After taking account of the students' background, "
        difference, dot = "Adjusted difference", "the effect after adjusting for background"
    waves = (
        f"{plan.baseline_wave} to {plan.primary_wave}"
        if plan.baseline_wave is not None
        else f"at {plan.primary_wave} (no survey before the program)"
    )
    comparison = (
        f"Students assigned to the program compared with students assigned to the comparison "
        f"group, {waves}."
        if randomized
        else f"Participants compared with similar non-participants, {waves}."
    )
    return {"lead": lead, "others": others, "difference": difference, "dot": dot,
            "comparison": comparison}  # fmt: skip


#: ``se_type`` values in words, for the report.
SE_WORDS = {
    "CR1": "cluster-robust, CR1",
    "CR2_BM": "cluster-robust with a small-sample correction, CR2 with Bell-McCaffrey degrees "
    "of freedom",
    "m_estimation_CR1": "cluster-robust sandwich of the weighting estimators",
    "paired_CR1": "matched pairs clustered by the participant's group, CR1",
    "paired_CR2_BM": "matched pairs clustered by the participant's group, CR2",
    "HC3": "heteroskedasticity-robust, HC3",
    "welch": "Welch",
    "m_estimation": "sandwich of the weighting estimators",
    "paired": "paired",
    "abadie_imbens": "Abadie-Imbens",
}


def _over_time_rows(est: pd.DataFrame, cohort: Cohort, method: str, k: int) -> list[dict]:
    """The headline method's estimate (95% CI) of each outcome at every estimate wave, when
    there is more than one."""
    waves = list(cohort.plan.estimate_waves)
    if len(waves) < 2:
        return []
    rows = []
    for outcome in cohort.outcomes:
        fits = est[(est["outcome"] == outcome.name) & (est["method"] == method)]
        fits = fits.set_index("wave")
        cells = []
        for wave in waves:
            if wave not in fits.index:
                cells.append("")
                continue
            fit = fits.loc[wave]
            if too_small(fit["n_participants"], fit["n_comparison"], k):
                cells.append("suppressed")
            elif pd.isna(fit["estimate"]):
                cells.append("too few students")
            else:
                cells.append(f"{fit['estimate']:+.2f} ({fit['ci_low']:+.2f} to "
                             f"{fit['ci_high']:+.2f})")  # fmt: skip
        rows.append({"label": outcome.label, "cells": cells})
    return rows


def _attrition_rows(attrition: pd.DataFrame | None, k: int) -> list[dict]:
    """Survey response at each later wave against the first survey, by group, with the WWC
    verdicts (the ``(responded)`` rows of the attrition table; counts suppressed, with the
    number who answered hidden when the number who did not is small)."""
    if attrition is None or attrition.empty:
        return []
    rows = []
    responded = attrition[attrition["outcome"] == "(responded)"]
    for wave, part in responded.groupby("wave", sort=False):
        by_group = part.set_index("group")
        cells = {}
        for group in ("participant", "comparison"):
            row = by_group.loc[group]
            present, assigned = int(row["n_present"]), int(row["n_assigned"])
            # The total and the part that answered would give the part that did not: hide
            # the part that answered when the other one is small (complementary suppression).
            answered, _ = suppress_breakdown([present, assigned - present], k)
            cells[group] = f"{answered} of {suppress_count(assigned, k)}"
        first = part.iloc[0]
        rows.append({
            "wave": wave, **cells,
            "overall": first["overall_attrition_pct"],
            "differential": first["differential_attrition_pct"],
            "cautious": first["verdict_cautious"], "optimistic": first["verdict_optimistic"],
        })  # fmt: skip
    return rows


def _clustering(adjusted: pd.DataFrame, clusters: pd.DataFrame | None, cohort: Cohort) -> dict:
    """What the report says about clusters: how many, the SE used, the ICC range."""
    if not cohort.cluster or adjusted.empty or "n_clusters" not in adjusted:
        return {}
    n_clusters = adjusted["n_clusters"].dropna()
    se_types = sorted(set(adjusted["se_type"].dropna()))
    icc = clusters["icc"].dropna() if clusters is not None and len(clusters) else pd.Series([])
    return {
        "n": int(n_clusters.max()) if len(n_clusters) else 0,
        "se_types": "; ".join(SE_WORDS.get(t, t) for t in se_types),
        "clustered": any(t.endswith(("CR1", "CR2_BM")) for t in se_types),
        "icc_low": float(icc.min()) if len(icc) else None,
        "icc_high": float(icc.max()) if len(icc) else None,
    }


def _text_or_none(value) -> str | None:
    """A text cell read back from Parquet/CSV: missing values come back as NaN, not None."""
    return value if isinstance(value, str) and value else None


def plain_terms(terms, cohort: Cohort) -> list[str]:
    """Adjustment terms in words for a funder: ``C(gender)`` -> ``gender``,
    ``stress_baseline`` -> ``stress (PSS-10) at baseline``, ``grade_level`` -> ``grade level``."""
    labels = {f"{o.name}_baseline": f"{o.label.lower()} at baseline" for o in cohort.outcomes}
    words = []
    for term in terms:
        inner = re.sub(r"^[CI]\((.*)\)$", r"\1", term.strip())
        words.append(labels.get(inner, inner.replace("_", " ")))
    return words


METHOD_NAMES = {
    "unadjusted": "Simple comparison",
    "ancova": "Regression adjustment (ANCOVA)",
    "ipw": "Propensity weighting",
    "aipw": "Doubly robust (AIPW)",
    "matching": "Propensity matching",
    "did": "Difference in differences",
}


def _agreement_rows(primary: pd.DataFrame, cohort: Cohort, k: int) -> list[dict]:
    """Each outcome's primary-wave estimate by every method (for "do the methods agree?")."""
    rows = []
    for outcome in cohort.outcomes:
        fits = primary[primary["outcome"] == outcome.name]
        cells = {}
        for fit in fits.itertuples():
            if too_small(fit.n_participants, fit.n_comparison, k):
                cells[fit.method] = "suppressed"
            else:
                cells[fit.method] = f"{fit.estimate:+.2f} ({fit.ci_low:+.2f} to {fit.ci_high:+.2f})"
        rows.append({"label": outcome.label, "cells": cells})
    return rows


def _case_rows(cases: pd.DataFrame, method: str, k: int) -> list[dict]:
    """Caseness outcomes (score at or above a cut-off) under the headline method."""
    rows = []
    for row in cases[cases["method"] == method].itertuples():
        small = too_small(row.n_participants, row.n_comparison, k)
        rows.append(
            {
                "label": row.label,
                "small": small,
                "p_participants": row.mean_participants,
                "difference": 100 * row.estimate,
                "ci_low": 100 * row.ci_low,
                "ci_high": 100 * row.ci_high,
                "odds_ratio": row.odds_ratio,
                "cox_index": row.cox_index,
            }
        )
    return rows


def _balance_summary(balance: pd.DataFrame | None) -> list[dict]:
    """Per adjustment: how many design columns fall in each WWC baseline category."""
    if balance is None or balance.empty:
        return []
    summary = []
    for adjustment, rows in balance.groupby("adjustment", sort=False):
        counts = rows["wwc_category"].value_counts()
        summary.append(
            {"adjustment": adjustment, "n": len(rows),
             **{c: int(counts.get(c, 0)) for c in
                ("satisfies", "requires_adjustment", "does_not_satisfy")}}
        )  # fmt: skip
    return summary


def _reliability_rows(reliability: pd.DataFrame | None, k: int) -> list[dict]:
    """Alpha of each scale and wave for everyone together, with its suppressed n and flag."""
    if reliability is None or reliability.empty:
        return []
    rows = reliability[reliability["group"] == "all"].copy()
    rows["n_shown"] = [suppress_count(n, k) for n in rows["n"]]
    rows["too_few"] = rows["n"] < k
    return rows.to_dict("records")


def _safety_rows(safety: pd.DataFrame | None, cohort: Cohort, k: int) -> list[dict]:
    """Aggregate safety-item counts per wave and group, with small-cell (and complementary)
    suppression: a positive count is shown only as part of a breakdown that hides it when
    small."""
    if safety is None or safety.empty:
        return []
    rows = []
    for _, row in safety[safety["group"] != "all"].iterrows():
        answered, positive = int(row["n_answered"]), int(row["n_positive"])
        negative_shown, positive_shown = suppress_breakdown([answered - positive, positive], k)
        rows.append(
            {
                "label": cohort.outcome(row["outcome"]).label,
                "wave": row["wave"],
                "group": row["group"],
                "answered": suppress_count(answered, k),
                "positive": positive_shown,
                "negative": negative_shown,
            }
        )
    return rows


def _flow_rows(flow: pd.DataFrame, cohort: Cohort, k: int) -> list[dict]:
    """Rows of the flow table: step label, wave, counts (suppressed) and an indent flag."""
    rows = []
    for wave in cohort.waves:
        part = flow[flow["wave"] == wave]
        received = part.loc[part["step"] == "received", "n"].sum()
        rows.append(
            {"wave": wave, "step": _STEP_LABELS["received"], "all": suppress_count(received, k)}
        )
        excluded = part[part["step"].str.startswith("excluded:")]
        shown = suppress_breakdown(excluded["n"].astype(int).tolist(), k)
        for step, count in zip(excluded["step"], shown, strict=True):
            reason = step.split(":", 1)[1]
            label = "Excluded: " + _REASON_LABELS.get(reason, reason)
            rows.append({"wave": wave, "step": label, "all": count, "indent": True})
        for step in _FLOW_STEPS:
            sub = part[part["step"] == step].set_index("group")["n"]
            optional = step in ("returned", "switched_group", "late_entrants")
            if len(sub) and not (optional and sub.sum() == 0):
                rows.append({
                    "wave": wave, "step": _STEP_LABELS[step],
                    "participant": suppress_count(sub.get("participant"), k),
                    "comparison": suppress_count(sub.get("comparison"), k),
                })  # fmt: skip
    blank = {"all": "", "participant": "", "comparison": "", "indent": False}
    return [blank | row for row in rows]


def report_cohort(
    tables_dir: str | Path, cohort: Cohort, settings: Settings, out_html: str | Path
) -> Path:
    """Read the result tables of a cohort and write ``report.html`` atomically."""
    tables_dir = Path(tables_dir)
    tables = {
        name: pd.read_parquet(tables_dir / f"{name}.parquet")
        for name in (
            "estimates",
            "flow",
            "reliability",
            "safety",
            "balance",
            "attrition",
            "clusters",
        )
    }
    html = render_report(tables, cohort, settings)
    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_html.with_name(f".{out_html.name}.{os.getpid()}.tmp")
    try:  # a full disk or a kill leaves neither a half report nor the temporary file
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out_html)
    finally:
        tmp.unlink(missing_ok=True)
    return out_html
